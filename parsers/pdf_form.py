"""PDF forms (AcroForm) and, without a form, ``Label : valeur`` lines of the text layer."""

from __future__ import annotations

import io
import logging
import re
import struct
import time
import zlib
from typing import TYPE_CHECKING, Any

from parsers.fields import Extraction, RawField
from parsers.label_lines import fields_from_lines
from parsers.limits import ParseLimits
from parsers.problems import problem

if TYPE_CHECKING:
    from pypdf import PdfReader

__all__ = ["has_no_eof_marker", "pdf_extraction"]

_INDEX = re.compile(r"\[\d+\]")
_OFF = {"", "/Off", "Off", "/off", "/No", "/Non"}
# pypdf logs warnings about broken files; they would carry nothing useful for us.
logging.getLogger("pypdf").setLevel(logging.ERROR)


def _partial_name(full_name: str) -> str:
    last = full_name.rsplit(".", 1)[-1]
    return _INDEX.sub("", last).strip()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    text = str(value)
    return text[1:] if text.startswith("/") else text


def _field_value(field: dict[str, Any]) -> str:
    kind = field.get("/FT")
    value = field.get("/V")
    if kind == "/Btn":
        flags = int(field.get("/Ff", 0) or 0)
        state = "" if value is None else str(value)
        if flags & (1 << 16):  # push button
            return ""
        if flags & (1 << 15):  # radio group: the chosen export name is the answer
            return "" if state in _OFF else _text(state)
        # Checkbox: any on-state (not only /Yes) means ticked.
        return "☐" if state in _OFF else "☒"
    return _text(value)


def _form_fields(reader: PdfReader, extraction: Extraction) -> bool:
    fields = reader.get_fields()
    if not fields:
        return False
    for full_name, field in fields.items():
        if not isinstance(field, dict):
            continue
        if field.get("/Kids") and "/V" not in field and field.get("/FT") != "/Btn":
            continue  # a container: its children carry the values
        value = _field_value(field).strip()
        if not value:
            continue
        alternate = field.get("/TU")
        labels = [str(alternate)] if alternate else []
        labels.append(_partial_name(str(full_name)))
        locator = f"champ « {full_name} »"
        for label in dict.fromkeys(labels):
            extraction.raw_fields.append(RawField(label, value, locator))
    return True


def has_no_eof_marker(data: bytes) -> bool:
    """True when pypdf cannot find a %%EOF marker, so it must fail to open the file.

    pypdf looks for it line by line from the end, in Python and keeping every
    line it reads: on a large file without one (truncated, or garbage) that is
    seconds of CPU and twice the file in memory, only to fail. It also accepts
    a truncated marker (``%``, ``%%``, ``%%E``, ``%%EO``) ending the last line.
    """
    if b"%%EOF" in data:
        return False
    tail = data[-1024:].rstrip()
    return len(tail) >= 4 and not tail.endswith((b"%", b"%%E", b"%%EO"))


def pdf_extraction(data: bytes, name: str, limits: ParseLimits) -> Extraction:
    # Imported on the first PDF: pypdf and what it pulls in weigh ~35 MB in every process
    # that imports the parsers (the daemon itself never opens a PDF).
    from pypdf import apply_configuration
    from pypdf.errors import LimitReachedError

    extraction = Extraction(source=name, kind="pdf")
    if has_no_eof_marker(data):
        extraction.problems.append(problem("pdf.invalid", name=name, source=name))
        return extraction
    # pypdf's own ceilings (75 MB per decoded stream) let one page cost a minute of text
    # extraction: every stream is decoded within our bound, or refused.
    stream_bytes = limits.pdf_max_stream_bytes
    bounded = {
        "zlib_maximum_output_length": stream_bytes,
        "lzw_maximum_output_length": stream_bytes,
        "run_length_maximum_output_length": stream_bytes,
        "brotli_maximum_output_length": stream_bytes,
        "array_based_stream_maximum_output_length": stream_bytes,
        "maximum_declared_stream_length": max(stream_bytes, limits.max_attachment_bytes),
        "stream_decoding_work_maximum_length": 4 * stream_bytes,
        # A corrupt Flate stream is retried byte by byte in Python: ~1 s per 500 KB.
        "zlib_maximum_recovery_input_length": 200_000,
    }
    try:
        with apply_configuration(None, **bounded):
            return _read_pdf(data, name, limits, extraction)
    except LimitReachedError:
        extraction.problems.append(problem("pdf.content_too_large", name=name, source=name))
        return extraction


def _content_size(page: Any) -> int:
    """Bytes of a page's decoded content stream(s): what its text extraction will parse."""
    contents = page.get_contents()
    return 0 if contents is None else len(contents.get_data())


def _read_pdf(data: bytes, name: str, limits: ParseLimits, extraction: Extraction) -> Extraction:
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError, PdfReadError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                reader.decrypt("")  # many "protected" PDFs open with an empty password
            except (PyPdfError, NotImplementedError, ValueError):
                extraction.problems.append(problem("pdf.encrypted", name=name, source=name))
                return extraction
        has_form = _form_fields(reader, extraction)
        pages = reader.pages
        page_count = len(pages)
        if page_count > limits.pdf_max_pages:
            extraction.problems.append(problem("pdf.too_many_pages", name=name, source=name))
        texts: list[str] = []
        budget = limits.text_max_chars
        content_budget = limits.pdf_max_content_bytes
        started = time.process_time()
        seen: set[int] = set()
        for index in range(min(page_count, limits.pdf_max_pages)):
            page = pages[index]
            reference = page.indirect_reference
            if reference is not None:
                if reference.idnum in seen:
                    continue  # one page object listed many times: its text is read once
                seen.add(reference.idnum)
            # Text extraction costs seconds per MB of content: counted before, not after;
            # and fonts (ToUnicode maps) cost per page, whatever their content: timed.
            content_budget -= _content_size(page)
            spent = time.process_time() - started
            if content_budget < 0 or (texts and spent > limits.pdf_text_seconds):
                code = "pdf.text_truncated" if texts else "pdf.content_too_large"
                extraction.problems.append(problem(code, name=name, source=name))
                break
            text = page.extract_text() or ""
            texts.append(text)
            budget -= len(text)
            if budget <= 0:
                break
    except LimitReachedError:
        raise  # our bound, not a broken file: reported as such by the caller
    except (
        PdfReadError,
        PyPdfError,
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
        IndexError,
        OSError,
        RecursionError,
        AssertionError,
        ZeroDivisionError,
        ArithmeticError,  # OverflowError on absurd numbers
        NotImplementedError,  # a filter or feature pypdf does not decode
        LookupError,
        zlib.error,
        struct.error,
    ):
        extraction.problems.append(problem("pdf.invalid", name=name, source=name))
        return extraction
    extraction.text = "\n".join(texts)[: limits.text_max_chars]
    lines = [
        (line, f"page {page}, ligne {number}")
        for page, text in enumerate(texts, start=1)
        for number, line in enumerate(text.splitlines(), start=1)
    ]
    text_fields, extraction.title_lines = fields_from_lines(lines)
    if not has_form:
        extraction.raw_fields = text_fields
    return extraction
