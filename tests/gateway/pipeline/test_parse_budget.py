"""The in-process parse of the one-file commands has the daemon's budgets: time and memory."""

from __future__ import annotations

import resource
import signal
import time

from gateway.pipeline.parse_budget import parse_within


def _spin() -> str:
    while True:  # a parse that never ends (pure Python: the timer can stop it)
        pass


def test_a_parse_over_its_time_ends_with_parse_timeout() -> None:
    signal.setitimer(signal.ITIMER_REAL, 250)  # someone else's alarm (as a test timeout sets)
    started = time.monotonic()
    assert parse_within(_spin, lambda code: code, seconds=0.3, memory_mb=0) == "parse.timeout"
    assert time.monotonic() - started < 30  # the NLP load comes first, outside the budget
    assert parse_within(lambda: "read", lambda code: code, seconds=5, memory_mb=0) == "read"
    left, _ = signal.setitimer(signal.ITIMER_REAL, 0)
    assert 200 < left < 250  # theirs is given back, less the time spent


def test_a_parse_over_its_memory_fails_to_allocate_and_the_limit_is_given_back() -> None:
    before = resource.getrlimit(resource.RLIMIT_AS)

    def hungry() -> str:
        try:
            block = bytearray(3 * 1024**3)  # 3 GB: over the 100 MB this parse may add
        except MemoryError:
            return "refused"
        return f"allocated {len(block)}"

    assert parse_within(hungry, lambda code: code, seconds=30, memory_mb=100) == "refused"
    assert resource.getrlimit(resource.RLIMIT_AS) == before
    assert len(bytearray(300 * 1024**2)) > 0  # this process is not left capped
