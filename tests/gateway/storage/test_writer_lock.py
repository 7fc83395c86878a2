"""The in-process SQLite writer lock: first come, first served, re-entrant, never wedged."""

from __future__ import annotations

import threading
import time

import pytest

from gateway.storage.db import WriterLock


def _take_then_signal(lock: WriterLock, got: threading.Event) -> None:
    lock.acquire()
    got.set()


def _wait_for_waiters(lock: WriterLock, count: int) -> None:
    deadline = time.monotonic() + 5
    while lock._next_ticket - lock._serving < count + 1 and time.monotonic() < deadline:
        time.sleep(0.001)


def test_a_releasing_holder_that_asks_again_queues_behind_waiters() -> None:
    """The decide loop releases and asks at once; the outbox, waiting, must go first."""
    lock = WriterLock(timeout=5)
    order: list[str] = []
    lock.acquire()

    def waiter(name: str) -> None:
        lock.acquire()
        order.append(name)
        lock.release()

    threads = []
    for name in ("outbox", "ingest"):
        thread = threading.Thread(target=waiter, args=(name,))
        thread.start()
        threads.append(thread)
        _wait_for_waiters(lock, len(threads))
    lock.release()
    lock.acquire()  # straight back, as the decide loop does
    order.append("decide")
    lock.release()
    for thread in threads:
        thread.join(5)
    assert order == ["outbox", "ingest", "decide"]


def test_re_entrant_for_its_holder_and_releasable_from_another_thread() -> None:
    lock = WriterLock(timeout=5)
    lock.acquire()
    lock.acquire()  # a second session in the same thread
    lock.release()
    other = threading.Thread(target=lock.release)  # a connection checked in elsewhere
    other.start()
    other.join(5)
    got = threading.Event()
    thread = threading.Thread(target=_take_then_signal, args=(lock, got))
    thread.start()
    assert got.wait(5)
    thread.join(5)


def test_a_waiter_that_times_out_does_not_block_the_next() -> None:
    lock = WriterLock(timeout=0.05)
    lock.acquire()
    errors: list[BaseException] = []

    def impatient() -> None:
        try:
            lock.acquire()
        except TimeoutError as exc:
            errors.append(exc)

    thread = threading.Thread(target=impatient)
    thread.start()
    thread.join(5)
    assert errors and "write lock" in str(errors[0])
    lock.release()
    got = threading.Event()
    later = threading.Thread(target=_take_then_signal, args=(lock, got))
    later.start()
    assert got.wait(5), "the abandoned ticket was skipped"
    later.join(5)


@pytest.mark.parametrize("threads", [4])
def test_mutual_exclusion_under_contention(threads: int) -> None:
    lock = WriterLock(timeout=5)
    inside = 0
    worst = 0
    guard = threading.Lock()

    def work() -> None:
        nonlocal inside, worst
        for _ in range(200):
            lock.acquire()
            with guard:
                inside += 1
                worst = max(worst, inside)
            with guard:
                inside -= 1
            lock.release()

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(10)
    assert worst == 1


def test_a_loop_running_a_batch_cannot_wait_for_its_own_lock() -> None:
    """A batch on an event loop's thread holds the lock from another thread; that loop's
    thread asking for it would wait for ever (the batch waits for the loop): it fails at
    once. Other threads queue as usual, and the marking ends with the batch."""
    lock = WriterLock(timeout=5)
    held, release = threading.Event(), threading.Event()

    def batch_thread() -> None:
        lock.acquire()
        held.set()
        release.wait(5)
        lock.release()

    with lock.loop_batch():
        worker = threading.Thread(target=batch_thread)
        worker.start()
        held.wait(5)
        started = time.monotonic()
        with pytest.raises(RuntimeError, match="in a thread"):
            lock.acquire()
        assert time.monotonic() - started < 1
    release.set()
    worker.join(5)
    lock.acquire()  # the batch is over: this thread takes it as any other
    lock.release()
