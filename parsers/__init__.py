"""Pure parsers: bytes in, a typed ``Request`` (with provenance and problems) out."""

from parsers.attachments import AttachmentPart, list_attachments
from parsers.envelope import Envelope, envelope_from_raw
from parsers.limits import ParseLimits
from parsers.message import ParsedMessage, parse_document, parse_message

__all__ = [
    "AttachmentPart",
    "Envelope",
    "ParseLimits",
    "ParsedMessage",
    "envelope_from_raw",
    "list_attachments",
    "parse_document",
    "parse_message",
]
