"""One error policy for the daemon's long-running loops.

Ingest rounds, pipeline claims and decisions, the outbox, the timers and the roster reload all
meet database and network errors. Each is logged (its type only: a database error's text may
quote patient data), counted in /metrics, retried after a backoff with jitter, and never ends
the process; while a loop is failing, /readyz says so.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge

__all__ = ["LOOPS", "LoopFailure", "LoopHealth", "LoopName"]

log = structlog.get_logger("aiguilleur.loops")

LoopName = Literal[
    "ingest", "pipeline_claim", "pipeline_decide", "outbox", "timers", "roster_watch"
]
LOOPS: tuple[LoopName, ...] = (
    "ingest",
    "pipeline_claim",
    "pipeline_decide",
    "outbox",
    "timers",
    "roster_watch",
)
BACKOFF_BASE = 1.0  # seconds, doubled at each failure in a row
BACKOFF_MAX = 60.0


@dataclass(frozen=True)
class LoopFailure:
    error_type: str
    failures: int  # in a row
    since: datetime


class LoopHealth:
    """Which loops fail now, and since when. Thread-safe: the roster reloads in worker threads."""

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        backoff_base: float = BACKOFF_BASE,
        backoff_max: float = BACKOFF_MAX,
    ) -> None:
        self._backoff = (backoff_base, backoff_max)
        self._lock = threading.Lock()
        self._failing: dict[LoopName, LoopFailure] = {}
        self._errors = Counter(
            "aiguilleur_loop_errors",
            "Errors in the daemon's long-running loops (each is retried with backoff)",
            ["loop"],
            registry=registry,
        )
        self._gauge = Gauge(
            "aiguilleur_loop_failing",
            "1 while a loop's last attempt failed",
            ["loop"],
            registry=registry,
        )
        for name in LOOPS:  # exported at 0 before the first error
            self._errors.labels(loop=name)
            self._gauge.labels(loop=name).set(0)

    def failed(self, loop: LoopName, exc: BaseException) -> float:
        """Record a failure; returns how long to wait before trying again."""
        with self._lock:
            before = self._failing.get(loop)
            failure = LoopFailure(
                error_type=type(exc).__name__,
                failures=(before.failures if before else 0) + 1,
                since=before.since if before else datetime.now(UTC),
            )
            self._failing[loop] = failure
        self._errors.labels(loop=loop).inc()
        self._gauge.labels(loop=loop).set(1)
        delay = backoff(failure.failures, *self._backoff)
        log.error(
            "loop_failed",
            loop=loop,
            error_type=failure.error_type,
            failures=failure.failures,
            retry_in=round(delay, 2),
        )
        return delay

    def ok(self, loop: LoopName) -> None:
        with self._lock:
            before = self._failing.pop(loop, None)
        if before is not None:
            self._gauge.labels(loop=loop).set(0)
            log.info("loop_recovered", loop=loop, failures=before.failures)

    def failing(self) -> dict[LoopName, LoopFailure]:
        with self._lock:
            return dict(self._failing)


def backoff(failures: int, base: float = BACKOFF_BASE, cap: float = BACKOFF_MAX) -> float:
    """Exponential, capped, with jitter so that replicas do not retry in step."""
    return min(cap, base * 2.0 ** (failures - 1)) * random.uniform(0.5, 1.5)
