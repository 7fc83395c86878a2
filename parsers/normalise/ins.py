"""INS / NIR: 15 characters (13 + a 2-digit key), Corsica 2A/2B at positions 6-7."""

from __future__ import annotations

import re
from typing import Literal

__all__ = ["InsCheck", "check_ins", "ins_key", "ins_kind_for_oid"]

InsCheck = Literal["ok", "invalid", "invalid_key"]
InsKind = Literal["production", "test", "demo", "unqualified"]

_SHAPE = re.compile(r"^[1-478]\d{4}(?:\d{2}|2A|2B)\d{6}\d{2}$")
_OID_KINDS: dict[str, InsKind] = {
    "1.2.250.1.213.1.4.8": "production",  # INS-NIR
    "1.2.250.1.213.1.4.9": "production",  # INS-NIA
    "1.2.250.1.213.1.4.10": "test",
    "1.2.250.1.213.1.4.11": "demo",
}
RETIRED_INS_C_OID = "1.2.250.1.213.1.4.2"


def _numeric(first13: str) -> int:
    # Corsica: only the department at positions 6-7 (1-based) is substituted.
    dept = first13[5:7]
    if dept == "2A":
        first13 = first13[:5] + "19" + first13[7:]
    elif dept == "2B":
        first13 = first13[:5] + "18" + first13[7:]
    return int(first13)


def ins_key(first13: str) -> int:
    """The control key of the 13 first characters: 97 - (N mod 97)."""
    return 97 - (_numeric(first13.upper()) % 97)


def clean_ins(text: str) -> str:
    return re.sub(r"[\s.\-_/]", "", text).upper()


def check_ins(text: str) -> tuple[str, InsCheck]:
    """Return the compacted INS and whether its shape and key are valid."""
    value = clean_ins(text)
    if not _SHAPE.match(value):
        return value, "invalid"
    if ins_key(value[:13]) != int(value[13:]):
        return value, "invalid_key"
    return value, "ok"


def ins_kind_for_oid(oid: str | None) -> InsKind | None:
    if oid is None:
        return None
    return _OID_KINDS.get(oid.strip())
