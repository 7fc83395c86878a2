"""PDF forms (AcroForm) and, without a form, ``Label : valeur`` lines of the text layer."""

from __future__ import annotations

import io
import logging
import re
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
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError, PyPdfError

    extraction = Extraction(source=name, kind="pdf")
    if has_no_eof_marker(data):
        extraction.problems.append(problem("pdf.invalid", name=name, source=name))
        return extraction
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
        for index in range(min(page_count, limits.pdf_max_pages)):
            text = pages[index].extract_text() or ""
            texts.append(text)
            budget -= len(text)
            if budget <= 0:
                break
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
