"""One parse in this process, within the budgets the daemon's workers have (time, memory).

The commands that parse one file in-process (`aiguilleur parse`, `check`, `process
--dry-run`) must not hang nor take the host's memory on a hostile file either: past the time
budget the parse ends with ``parse.timeout``, past the memory ceiling with
``parse.memory_exceeded`` (``parse_message`` maps the ``MemoryError`` itself).
"""

from __future__ import annotations

import resource
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import TypeVar

from gateway.pipeline.parse_pool import limit_memory
from parsers.prose import warm_up

__all__ = ["parse_within"]

T = TypeVar("T")


class _OverTime(BaseException):
    """Raised by the timer; a BaseException, so the parsers' last-line handlers let it by."""


def parse_within(
    parse: Callable[[], T], failed: Callable[[str], T], *, seconds: float, memory_mb: int
) -> T:
    """``parse()`` within ``seconds`` and ``memory_mb`` more address space; ``failed(code)``
    when over time. The NLP pipeline loads first, outside both, as in a worker."""
    warm_up()
    if threading.current_thread() is not threading.main_thread():
        return parse()  # signals reach the main thread only; the commands run there
    done = False

    def over_time(_signum: int, _frame: FrameType | None) -> None:
        if not done:  # an alarm just after the parse returned changes nothing
            raise _OverTime

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    previous = signal.signal(signal.SIGALRM, over_time)
    started = time.monotonic()
    outer, _ = signal.getitimer(signal.ITIMER_REAL)  # someone else's alarm (a test timeout)
    try:
        limit_memory(memory_mb)
        signal.setitimer(signal.ITIMER_REAL, min(seconds, outer) if outer else seconds)
        try:
            result = parse()
            done = True
            return result
        except _OverTime:
            return failed("parse.timeout")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        signal.signal(signal.SIGALRM, previous)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        if outer:  # theirs again, less the time spent here
            signal.setitimer(signal.ITIMER_REAL, max(0.001, outer - (time.monotonic() - started)))
