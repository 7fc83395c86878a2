"""The daemon's threads share two malloc arenas, not one each."""

from __future__ import annotations

import subprocess
import sys

from gateway.heap import ARENAS

# Eight threads handling 40 KB blobs in SQLite (which allocates without the GIL), as the
# daemon's database threads do; then glibc's own count of its arenas.
PROBE = """
import ctypes, sqlite3, sys, threading
from gateway.heap import limit_malloc_arenas
if sys.argv[1] == "limited":
    assert limit_malloc_arenas()
def work():
    db = sqlite3.connect(":memory:")
    db.execute("create table t (b blob)")
    for _ in range(200):
        db.execute("insert into t values (?)", (b"x" * 40000,))
    db.close()
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
libc = ctypes.CDLL(None)
buf, size = ctypes.c_char_p(), ctypes.c_size_t()
libc.open_memstream.restype = ctypes.c_void_p
libc.open_memstream.argtypes = (ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_size_t))
libc.malloc_info.argtypes = (ctypes.c_int, ctypes.c_void_p)
libc.fclose.argtypes = (ctypes.c_void_p,)
stream = libc.open_memstream(ctypes.byref(buf), ctypes.byref(size))
libc.malloc_info(0, stream)
libc.fclose(stream)
print(ctypes.string_at(buf, size.value).count(b"<heap nr="))
"""


def _arenas(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


def test_the_threads_share_the_capped_arenas() -> None:
    assert _arenas("free") > ARENAS  # the workload does spread without the cap
    assert _arenas("limited") <= ARENAS


# Twenty thousand 4 KB blocks, malloc's own (above pymalloc's 512 bytes, below mmap's
# threshold), freed but for the last, which keeps the heap from shrinking on its own.
TRIM_PROBE = """
import gc, sys
from gateway.heap import release_free_heap
def rss():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096
blocks = [bytes(4000) + bytes([i % 256]) for i in range(20000)]
last = blocks[-1]
del blocks
gc.collect()
before = rss()
if sys.argv[1] == "release":
    assert release_free_heap()
print(before - rss())
"""


def _given_back(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", TRIM_PROBE, mode], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


def test_freed_heap_pages_go_back_to_the_system() -> None:
    assert _given_back("keep") < 10 * 2**20  # freed, still resident
    assert _given_back("release") > 50 * 2**20
