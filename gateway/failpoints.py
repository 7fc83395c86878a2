"""Test hooks, set by ``AIGUILLEUR_FAILPOINTS=name,...`` only (never by the configuration file).

- Crash points for the crash-safety tests: a plain ``name`` makes the process SIGKILL itself
  when it reaches that point (``hit``).
- Test clocks: ``name=+400d`` (or ``-3d``) moves the one clock that asks for ``name`` by that
  many days (``shift``); only the retention policy asks, for ``retention_clock``. The retention
  pass logs ``retention_test_clock`` at warning level whenever one is set.

Unset in production, each costs one set lookup.
"""

from __future__ import annotations

import os
import re
import signal
from datetime import timedelta

__all__ = ["hit", "shift"]

_ACTIVE = frozenset(p for p in os.environ.get("AIGUILLEUR_FAILPOINTS", "").split(",") if p)
_SHIFT = re.compile(r"^([a-z_]+)=([+-]\d{1,5})d$")
_SHIFTS = {
    found.group(1): timedelta(days=int(found.group(2)))
    for found in (_SHIFT.match(p) for p in _ACTIVE)
    if found
}


def hit(name: str) -> None:
    if name in _ACTIVE:
        os.kill(os.getpid(), signal.SIGKILL)


def shift(name: str) -> timedelta:
    """How far the test clock ``name`` is moved; zero unless a test set it."""
    return _SHIFTS.get(name, timedelta(0))
