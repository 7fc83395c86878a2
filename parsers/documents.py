"""One attached file -> extractions: DOCX, PDF, CDA, IHE XDM zip; type sniffed from the bytes."""

from __future__ import annotations

from typing import Literal

from parsers.cda import cda_from_bytes
from parsers.docx_form import docx_extraction
from parsers.fields import Extraction
from parsers.limits import ParseLimits
from parsers.pdf_form import pdf_extraction
from parsers.problems import problem
from parsers.safe_zip import SafeZip, open_zip
from parsers.xdm import looks_like_xdm, xdm_extractions

__all__ = [
    "PARSED_TYPES",
    "SNIFF_BYTES",
    "DocumentType",
    "document_extractions",
    "sniff_document",
    "unparsed_kind",
]

DocumentType = Literal["eml", "docx", "pdf", "xml", "zip", "image", "tnef", "other"]
AttachmentKind = Literal["docx", "pdf", "cda", "xdm", "image", "tnef", "message", "other"]
# The types whose content is read; the others are only sniffed (and hashed).
PARSED_TYPES: frozenset[DocumentType] = frozenset({"pdf", "xml", "docx", "zip"})
SNIFF_BYTES = 2048  # sniff_document never looks further than this into the data

_EML_SUFFIXES = (".eml", ".msg.txt", ".mbox")
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"II*\x00", b"MM\x00*", b"RIFF")


def _looks_like_mail(data: bytes) -> bool:
    head = data[:SNIFF_BYTES].lstrip(b"\xef\xbb\xbf").lower()
    if head.startswith(b"from "):  # mbox separator line
        head = head.split(b"\n", 1)[-1]
    return any(
        head.startswith(h) or b"\n" + h in head[:1500]
        for h in (
            b"received:",
            b"return-path:",
            b"from:",
            b"subject:",
            b"message-id:",
            b"mime-version:",
            b"content-type:",
            b"date:",
            b"to:",
            b"delivered-to:",
        )
    )


def sniff_document(filename: str, data: bytes, content_type: str = "") -> DocumentType:
    """The document type, from the name, the content type and the first SNIFF_BYTES."""
    lowered = filename.lower()
    content_type = content_type.lower()
    if data.startswith(b"%PDF") or (b"%PDF-" in data[:1024]):
        return "pdf"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return "docx" if lowered.endswith((".docx", ".docm", ".dotx")) else "zip"
    if data.startswith(b"\x78\x9f\x3e\x22") or lowered == "winmail.dat" or "tnef" in content_type:
        return "tnef"
    if data.startswith(_IMAGE_MAGIC) or content_type.startswith("image/"):
        return "image"
    if lowered.endswith(_EML_SUFFIXES) or content_type in ("message/rfc822",):
        return "eml"
    stripped = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<") or data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "xml"
    if lowered.endswith(".txt") and _looks_like_mail(data):
        return "eml"
    return "other"


def document_extractions(
    filename: str,
    data: bytes,
    limits: ParseLimits,
    content_type: str = "",
    *,
    report_unsupported: bool = True,
) -> tuple[list[Extraction], AttachmentKind]:
    """Extractions of one document (empty for types that carry no fields)."""
    kind = sniff_document(filename, data, content_type)
    if kind == "pdf":
        return [pdf_extraction(data, filename, limits)], "pdf"
    if kind == "xml":
        return cda_from_bytes(data, filename, limits), "cda"
    if kind in ("docx", "zip"):
        archive = open_zip(data, filename, limits)
        if not isinstance(archive, SafeZip):
            failed = Extraction(source=filename, kind="docx" if kind == "docx" else "xdm")
            failed.problems.append(archive)
            return [failed], "docx" if kind == "docx" else "other"
        if "word/document.xml" in archive.entries:
            return [docx_extraction(data, filename, limits, opened=archive)], "docx"
        if looks_like_xdm(list(archive.entries)) or "xdm" in filename.lower():
            return xdm_extractions(archive, limits), "xdm"
        if archive.problems:
            failed = Extraction(source=filename, kind="xdm")
            failed.problems.extend(archive.problems)
            return [failed], "other"
        return [], "other"
    if kind != "other" or not report_unsupported:
        return [], unparsed_kind(kind)
    unsupported = Extraction(source=filename, kind="body")
    unsupported.problems.append(
        problem("document.unsupported_type", name=filename, source=filename, severity="info")
    )
    return [unsupported], "other"


def unparsed_kind(kind: DocumentType) -> AttachmentKind:
    """The attachment kind of a document type that has no extractor."""
    if kind == "image":
        return "image"
    if kind == "tnef":
        return "tnef"
    return "message" if kind == "eml" else "other"
