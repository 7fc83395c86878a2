"""Run one function in several threads started at the same instant: races, on purpose."""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["together"]


def together(
    count: int, work: Callable[[], object], *, timeout: float = 120.0
) -> list[BaseException]:
    """The errors the threads raised (none, when all went well)."""
    start = threading.Barrier(count)
    errors: list[BaseException] = []

    def run() -> None:
        start.wait()
        try:
            work()
        except BaseException as exc:  # reported to the caller, which asserts on them
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return errors
