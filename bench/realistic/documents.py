"""Attachment bytes: Word forms, PDFs (AcroForm or text layer), IHE XDM zips (CDA: bench.cda).

Everything is deterministic: zip entries get a fixed timestamp.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH

from bench.cda import xdm_archive, xdm_metadata
from bench.pdf import pdf_file
from tests.parsers.builders import build_signalement_pdf, build_teleexpertise_docx

__all__ = [
    "MARKS",
    "Row",
    "docx_form",
    "pdf_acroform",
    "pdf_text",
    "te_docx_controls",
    "xdm_zip",
]

Row = tuple[str, str]  # (label, value); label "" = a full-width line
MARKS = frozenset({"☒", "☐", "☑", "[X]", "[ ]", "Oui", "Non"})  # a tick in the label column
_FIXED = (2026, 1, 1, 0, 0, 0)


_DOS_TIME = 0  # 00:00:00
_DOS_DATE = ((2026 - 1980) << 9) | (1 << 5) | 1  # 2026-01-01


def _normalize_zip(data: bytes) -> bytes:
    """Fix every entry's timestamp in place (python-docx stamps the current time)."""
    out = bytearray(data)
    end = out.rfind(b"PK\x05\x06")
    count, _size, offset = struct.unpack_from("<HII", out, end + 10)
    for _ in range(count):
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", out, offset + 28)
        (local,) = struct.unpack_from("<I", out, offset + 42)
        struct.pack_into("<HH", out, offset + 12, _DOS_TIME, _DOS_DATE)
        struct.pack_into("<HH", out, local + 10, _DOS_TIME, _DOS_DATE)
        offset += 46 + name_len + extra_len + comment_len
    return bytes(out)


def docx_form(
    title: str,
    subtitle: str,
    sections: Sequence[tuple[str, Sequence[Row]]],
    *,
    layout: str = "table",
    footer: str = "",
) -> bytes:
    """A form as people fill it in Word: a label/value table or "Label : valeur" lines."""
    document = docx.Document()
    heading = document.add_heading(title, level=1)
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if subtitle:
        document.add_paragraph(subtitle)
    if layout == "table":
        table = document.add_table(rows=0, cols=2)
        table.style = "Table Grid"
        for name, rows in sections:
            if name:
                row = table.add_row()
                merged = row.cells[0].merge(row.cells[1])
                merged.text = name
                for run in merged.paragraphs[0].runs:
                    run.bold = True
            for label, value in rows:
                cells = table.add_row().cells
                if label:
                    cells[0].text = label
                    cells[1].text = value
                else:
                    cells[0].merge(cells[1]).text = value
    else:
        for name, rows in sections:
            if name:
                paragraph = document.add_paragraph()
                paragraph.add_run(name.upper()).bold = True
            for label, value in rows:
                if not label:
                    document.add_paragraph(value)
                elif label in MARKS:  # "☒ Patient en ALD"
                    document.add_paragraph(f"{label} {value}")
                else:
                    document.add_paragraph(f"{label} : {value}")
    if footer:
        document.add_paragraph(footer)
    buffer = io.BytesIO()
    document.save(buffer)
    return _normalize_zip(buffer.getvalue())


def te_docx_controls(fields: dict[str, str | bool | None]) -> bytes:
    """The télé-expertise form with legacy form fields and content controls (test builder).

    Every default of the builder is cleared first so only ``fields`` appear.
    """
    cleared: dict[str, str | bool | None] = {
        "Nom du patient": None,
        "Prénom du patient": None,
        "Date de naissance": None,
        "Sexe": None,
        "Code postal": None,
        "Filière": None,
        "Question posée": None,
        "Consentement du patient": None,
        "Urgence": None,
        "Nom du requérant": None,
        "Profession du demandeur": None,
        "RPPS": None,
    }
    cleared.update(fields)
    return _normalize_zip(build_teleexpertise_docx(cleared))


def pdf_acroform(fields: dict[str, str | bool | None]) -> bytes:
    """The signalement AcroForm PDF (test builder) with only ``fields`` filled."""
    cleared: dict[str, str | bool | None] = {
        "Nom": None,
        "Prénom": None,
        "Date de naissance": None,
        "Sexe": None,
        "N° INS": None,
        "Adresse": None,
        "Code postal": None,
        "Commune": None,
        "Téléphone du patient": None,
        "Médecin traitant": None,
        "ALD": None,
        "Arrêt de travail": None,
        "Sortie d'hospitalisation": None,
        "Motif du signalement": None,
        "Nom du signaleur": None,
        "Prénom du signaleur": None,
        "Profession du signaleur": None,
        "RPPS": None,
        "Téléphone du signaleur": None,
    }
    cleared.update(fields)
    return build_signalement_pdf(cleared)


def _pdf_literal(text: str) -> bytes:
    raw = text.replace("☒", "[X]").replace("☐", "[ ]").replace("☑", "[X]").replace("✓", "X")
    data = raw.encode("cp1252", errors="replace")
    return b"(" + data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def pdf_text(lines: Sequence[str], *, title: str = "") -> bytes:
    """A one- or two-page PDF with a plain text layer (Helvetica, WinAnsi)."""
    wrapped: list[str] = []
    for line in ([title, ""] if title else []) + list(lines):
        while len(line) > 95:
            cut = line.rfind(" ", 0, 95)
            cut = cut if cut > 0 else 95
            wrapped.append(line[:cut])
            line = "   " + line[cut:].lstrip()
        wrapped.append(line)
    pages = [wrapped[i : i + 52] for i in range(0, len(wrapped), 52)] or [[]]
    objects: list[bytes] = []
    font = 3 + 2 * len(pages)
    kids = []
    for index, page_lines in enumerate(pages):
        stream = (
            b"BT /F1 10 Tf 14 TL 50 800 Td "
            + b" ".join(_pdf_literal(line) + b" Tj T*" for line in page_lines)
            + b" ET"
        )
        page_number = 3 + 2 * index
        kids.append(page_number)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (page_number + 1, font)
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    head = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids ["
        + b" ".join(b"%d 0 R" % k for k in kids)
        + b"] /Count %d >>" % len(kids),
    ]
    tail = [b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"]
    return pdf_file(head + objects + tail, version="1.4", root=1)


def xdm_zip(cda: bytes, *, patient_id: str, pid5: str, pid7: str, sex: str) -> bytes:
    """An IHE XDM archive (ITI-32) carrying ``cda`` as IHE_XDM/SUBSET01/DOC0001.XML."""
    info = [f"PID-5|{pid5}", *([f"PID-7|{pid7}"] if pid7 else []), f"PID-8|{sex}"]
    metadata = xdm_metadata(cda, patient_info=info, patient_id=patient_id)
    return xdm_archive(
        [
            ("README.TXT", b"Archive IHE XDM - messagerie securisee de sante"),
            (
                "INDEX.HTM",
                b"<html><body><a href='IHE_XDM/SUBSET01/DOC0001.XML'>Document</a></body></html>",
            ),
            ("IHE_XDM/SUBSET01/METADATA.XML", metadata),
            ("IHE_XDM/SUBSET01/DOC0001.XML", cda),
        ],
        date_time=_FIXED,
    )
