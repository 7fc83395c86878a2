"""Normalised keys, so configured lists and parsed values compare without fuss."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["norm_key"]

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def norm_key(text: str) -> str:
    """``"Bilio-pancréatique"`` → ``"bilio_pancreatique"``: no accents, case or punctuation."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_ALNUM.sub("_", bare).strip("_")
