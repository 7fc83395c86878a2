"""One definition of "running in CI", where a missing server must fail instead of skip."""

from __future__ import annotations

import os

__all__ = ["in_ci"]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")
