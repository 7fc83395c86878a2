"""The C heap: how many glibc malloc arenas the daemon's threads share, and giving back
what a process freed.

glibc hands a thread that finds the arenas in use a new one, up to eight per core, and an
arena keeps what was freed in it for its own later use. The daemon runs its database work on
up to 32 threads, each handling mails of tens of kilobytes in turn: a backlog at start-up
spread them over up to 16 arenas, each holding its own high-water mark (the daemon reached
210 MB on a 10,000 backlog, 155 MB with two arenas). Two arenas are enough for
threads that mostly wait on the GIL, and give that memory back to one another.
"""

from __future__ import annotations

import ctypes

__all__ = ["ARENAS", "limit_malloc_arenas", "release_free_heap"]

ARENAS = 2
_M_ARENA_MAX = -8  # glibc's <malloc.h>


def limit_malloc_arenas(count: int = ARENAS) -> bool:
    """Cap the process's malloc arenas at ``count``, before its threads start. False where
    the C library has no such setting (musl, macOS): nothing changes there."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, count))


def release_free_heap() -> bool:
    """Return the heap's free pages to the system (glibc's ``malloc_trim``). The parse
    workers' fork server calls it once loaded: importing spaCy and EDS-NLP leaves about
    13 MB freed but resident in its heap, pages every forked worker would map too. False
    where the C library has no such call."""
    try:
        malloc_trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return False
    malloc_trim.argtypes = (ctypes.c_size_t,)
    malloc_trim.restype = ctypes.c_int
    malloc_trim(0)
    return True
