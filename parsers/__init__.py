"""Pure parsers: bytes in, a typed ``Request`` (with provenance and problems) out."""

from parsers.limits import ParseLimits
from parsers.message import ParsedMessage, parse_document, parse_message

__all__ = ["ParseLimits", "ParsedMessage", "parse_document", "parse_message"]
