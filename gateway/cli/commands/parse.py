"""`aiguilleur parse FILE`: print what the parsers read from one file, as JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from gateway.wording import say
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
            too_large = say("cli.error.too_large", path=path, limit=limits.max_message_bytes)
            print(say("cli.line.error", message=too_large), file=sys.stderr)
            return 2
        data = path.read_bytes()
    except OSError as error:
        unread = say("cli.error.cannot_read", path=path, reason=error.strerror or error)
        print(say("cli.line.error", message=unread), file=sys.stderr)
        return 2
    kind = sniff_document(path.name, data)
    if kind == "other" or (kind in ("image", "tnef") and not path.name.lower().endswith(_SUFFIXES)):
        unsupported = say("cli.error.unsupported_file", name=path.name)
        print(say("cli.line.error", message=unsupported), file=sys.stderr)
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
