"""Size, count and depth limits applied while parsing untrusted input."""

from __future__ import annotations

from pydantic import BaseModel

__all__ = ["ParseLimits"]


class ParseLimits(BaseModel):
    """Every parser checks these; exceeding one yields a problem, never an exception."""

    model_config = {"frozen": True}

    max_message_bytes: int = 25_000_000
    max_header_bytes: int = 262_144  # a header block read without its body; the rest is ignored
    # Each header, before the stdlib parses it (its parser is quadratic): see header_guard.
    max_header_count: int = 1_000  # headers of one block; the rest are dropped
    max_header_value_bytes: int = 16_384
    max_structured_header_bytes: int = 4_096  # addresses, Content-*: parsed token by token
    max_encoded_words: int = 100  # RFC 2047 "=?charset?B?...?=" per header
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
    pdf_max_stream_bytes: int = 4_000_000  # one decoded stream of a PDF
    pdf_max_content_bytes: int = 1_000_000  # page content given to text extraction, all pages
    pdf_text_seconds: float = 2.0  # CPU for the text of one PDF; later pages are left unread
    text_max_chars: int = 200_000  # text scanned for label/value lines
    text_max_lines: int = 5_000  # lines of it (an HTML table of 60,000 rows: 60,000 lines)
