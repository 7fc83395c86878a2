"""`aiguilleur parse FILE`: print what the parsers read from one file, as JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from parsers import ParseLimits, parse_document, parse_message
from parsers.documents import sniff_document

__all__ = ["parse_command"]

_SUFFIXES = (".eml", ".docx", ".pdf", ".xml", ".zip", ".txt", ".msg.txt")


def parse_command(path: Path, *, limits: ParseLimits | None = None) -> int:
    """Print the Request (and report_kind) with provenance and problems.

    Returns 0 when the file was parsed (even with problems), 2 when it cannot be
    read or is of an unknown type; the error is one French line on stderr.
    """
    limits = limits or ParseLimits()
    try:
        size = path.stat().st_size
        if size > limits.max_message_bytes:
            print(f"erreur : {path} dépasse {limits.max_message_bytes} octets", file=sys.stderr)
            return 2
        data = path.read_bytes()
    except OSError as error:
        print(f"erreur : lecture impossible de {path} ({error.strerror or error})", file=sys.stderr)
        return 2
    kind = sniff_document(path.name, data)
    if kind == "other" or (kind in ("image", "tnef") and not path.name.lower().endswith(_SUFFIXES)):
        print(f"erreur : type de fichier non pris en charge : {path.name}", file=sys.stderr)
        return 2
    if kind == "eml":
        parsed = parse_message(data, limits=limits)
        output = {
            "report_kind": parsed.report_kind,
            "envelope": parsed.envelope.model_dump(mode="json"),
            "request": parsed.request.model_dump(mode="json"),
        }
    else:
        output = {
            "report_kind": None,
            "request": parse_document(path.name, data, limits=limits).model_dump(mode="json"),
        }
    print(json.dumps(output, ensure_ascii=False, indent=2))
    return 0
