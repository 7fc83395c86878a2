"""Text helpers: folding for label matching, and decoding bytes of unknown charset."""

from __future__ import annotations

import binascii
import codecs
import re
import unicodedata
from functools import lru_cache

__all__ = ["TICKED", "TICK_MARKS", "UNTICKED", "decode_bytes", "fold", "has_tick", "is_ticked"]

TICKED = frozenset("☒☑✓✔✅⊠■")
UNTICKED = frozenset("☐□❏")
TICK_MARKS = TICKED | UNTICKED


def has_tick(text: str) -> bool:
    """Whether ``text`` holds a tick box, ticked or not (a scan in C: fields are read often)."""
    return not TICK_MARKS.isdisjoint(text)


def is_ticked(text: str) -> bool:
    """Whether ``text`` holds a ticked box."""
    return not TICKED.isdisjoint(text)


# Innermost parentheses only: "\([^)]*\)" rescans to the end from every "(" (quadratic).
_PARENS = re.compile(r"\([^()]*\)")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


_FRENCH = str.maketrans(
    {
        **dict.fromkeys("àâäáãå", "a"),
        **dict.fromkeys("éèêë", "e"),
        **dict.fromkeys("îïíì", "i"),
        **dict.fromkeys("ôöóòõ", "o"),
        **dict.fromkeys("ûüúù", "u"),
        **dict.fromkeys("ÿý", "y"),
        "ç": "c",
        "ñ": "n",
        "œ": "oe",
        "æ": "ae",
    }
)


# Labels, tick-box lines and field names recur from message to message (a form is filled
# in many times): about a hundred folds a request, most of them of a string folded before.
_FOLD_CACHE_CHARS = 200  # longer text (prose, hostile input) is folded, never kept
_FOLD_CACHE_SIZE = 4096


def fold(text: str, *, drop_parens: bool = True) -> str:
    """Lower-case, strip accents and punctuation, collapse spaces: "N° INS" -> "n ins"."""
    if len(text) <= _FOLD_CACHE_CHARS:
        return _fold_short(text, drop_parens)
    return _fold(text, drop_parens)


@lru_cache(maxsize=_FOLD_CACHE_SIZE)
def _fold_short(text: str, drop_parens: bool) -> str:
    return _fold(text, drop_parens)


def _fold(text: str, drop_parens: bool) -> str:
    if drop_parens:
        for _ in range(3):  # "(a (b) c)": innermost first, a few levels deep
            text, found = _PARENS.subn(" ", text)
            if not found:
                break
    # French letters by table (most text is done here); anything else by decomposition.
    text = text.lower().translate(_FRENCH)
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return _NON_ALNUM.sub(" ", text).strip()


def _known_codec(charset: str | None) -> str | None:
    if not charset:
        return None
    try:
        return codecs.lookup(charset.strip().strip('"')).name
    except (LookupError, ValueError):
        return None


def decode_bytes(data: bytes, charset: str | None = None) -> tuple[str, bool]:
    """Decode with the declared charset, else UTF-8, else cp1252; never raises.

    Returns the text and whether a fallback was needed.
    """
    declared = _known_codec(charset)
    refused = False  # a charset Python knows, but that could not read these bytes
    if declared is not None:
        try:
            return data.decode(declared), False
        # UnicodeError, not only UnicodeDecodeError: codecs Python knows but that refuse
        # (``undefined``, ``punycode`` on bytes it cannot read) raise the base class;
        # a bytes-to-bytes codec (``hex``, ``zlib``) raises LookupError, ValueError or
        # TypeError, and some raise their own ``Error`` (binascii).
        except (UnicodeError, LookupError, ValueError, TypeError, binascii.Error):
            refused = True
    try:
        return data.decode("utf-8"), refused or (declared is None and charset is not None)
    except UnicodeDecodeError:
        pass
    return data.decode("cp1252", errors="replace"), True
