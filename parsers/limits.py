"""Size, count and depth limits applied while parsing untrusted input."""

from __future__ import annotations

from pydantic import BaseModel

__all__ = ["ParseLimits"]


class ParseLimits(BaseModel):
    """Every parser checks these; exceeding one yields a problem, never an exception."""

    model_config = {"frozen": True}

    max_message_bytes: int = 25_000_000
    max_header_bytes: int = 262_144  # a header block read without its body; the rest is ignored
    max_attachments: int = 30
    max_attachment_bytes: int = 20_000_000
    max_mime_parts: int = 200
    max_mime_depth: int = 12
    zip_max_entries: int = 500
    zip_max_total_bytes: int = 100_000_000
    zip_max_ratio: int = 100
    zip_ratio_floor_bytes: int = 1_000_000  # ratio only judged past this many bytes
    xml_max_bytes: int = 20_000_000
    xml_max_depth: int = 200
    pdf_max_pages: int = 50
    text_max_chars: int = 200_000  # text scanned for label/value lines
