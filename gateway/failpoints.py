"""Crash points for the crash-safety tests: ``AIGUILLEUR_FAILPOINTS=name,...`` makes the process
SIGKILL itself when it reaches a named point. Unset in production, it costs one set lookup."""

from __future__ import annotations

import os
import signal

__all__ = ["hit"]

_ACTIVE = frozenset(p for p in os.environ.get("AIGUILLEUR_FAILPOINTS", "").split(",") if p)


def hit(name: str) -> None:
    if name in _ACTIVE:
        os.kill(os.getpid(), signal.SIGKILL)
