"""The embedded demo's invented content, read from ``demo_data.toml`` beside this module.

The structure's names, its roster and the sample requests are data, in French as
professionals write them; the code that turns them into files and mails stays in
``demo_routing`` and ``samples``.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["demo_data"]


@cache
def demo_data() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("demo_data.toml").read_text("utf-8")
    return tomllib.loads(text)
