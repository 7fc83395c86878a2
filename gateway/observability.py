"""Logging: structlog JSON lines with named events, and a redaction processor.

Redaction is the last line of defence: code must not log patient data in the first place,
but a key or value that looks like patient data is masked before it is written.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

__all__ = ["configure_logging", "redact"]

SENSITIVE_KEYS = frozenset(
    {
        "body",
        "raw",
        "subject",
        "text",
        "patient",
        "name",
        "family_name",
        "given_name",
        "birth_date",
        "ins",
        "nir",
        "phone",
        "address",
        "content",
        "password",
        "secret",
    }
)
# NIR/INS (13-15 chars, Corsica 2A/2B), dates, e-mail local parts.
_NIR = re.compile(r"\b[1-478]\s?\d{2}\s?\d{2}\s?(?:\d{2}|2[AB])\s?\d{3}\s?\d{3}(?:\s?\d{2})?\b")
_DATE = re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b|\b(?:19|20)\d{2}-\d{2}-\d{2}\b")
_EMAIL = re.compile(r"\b[\w.+-]+@([\w-]+\.[\w.-]+)\b")


def _scrub(value: str) -> str:
    value = _NIR.sub("[nir]", value)
    value = _DATE.sub("[date]", value)
    return _EMAIL.sub(r"[addr]@\1", value)


def redact(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        if key in ("event", "timestamp", "level", "logger"):
            continue
        value = event_dict[key]
        if key.lower() in SENSITIVE_KEYS:
            event_dict[key] = "[redacted]"
        elif isinstance(value, str):
            event_dict[key] = _scrub(value)
    return event_dict


class _CurrentStderr:
    """Writes to whatever sys.stderr is now (test runners swap and close it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(level: str = "info", fmt: str = "json", stream: TextIO | None = None) -> None:
    # aioimaplib logs received bytes at DEBUG: never let message content through.
    logging.getLogger("aioimaplib").setLevel(logging.WARNING)
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(stream or _CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )
