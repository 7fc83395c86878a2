"""Data files (TOML) that a CPTS may extend without touching code."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["load_toml"]


@cache
def load_toml(name: str) -> dict[str, Any]:
    """Read one of this package's TOML files once per process."""
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    return tomllib.loads(text)
