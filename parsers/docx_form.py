"""Word (DOCX) forms: label/value tables, paragraphs, ticks, legacy fields, content controls.

The package is opened through ``safe_zip`` (a DOCX is a zip: the same bomb
limits apply) and ``word/document.xml`` is walked with lxml in document order.
"""

from __future__ import annotations

from lxml import etree  # type: ignore[import-untyped]

from parsers.field_catalog import find_field
from parsers.fields import Extraction, RawField
from parsers.label_lines import LineReader
from parsers.limits import ParseLimits
from parsers.problems import problem
from parsers.safe_xml import parse_xml
from parsers.safe_zip import SafeZip, ZipLimitError, open_zip
from parsers.text import TICK_MARKS

__all__ = ["docx_extraction", "is_docx"]

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
W14 = "{http://schemas.microsoft.com/office/word/2010/wordml}"
MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"

_CHECKED_SYMBOLS = {"F0FE", "F078", "F0FD", "F0FB", "F0FC", "2612", "2611"}
_UNCHECKED_SYMBOLS = {"F0A8", "F06F", "F071", "F0A1", "2610"}
_SKIP = {
    W + "instrText",
    W + "del",
    W + "delText",
    W + "rPr",
    W + "pPr",
    W + "sdtPr",
    W + "tblPr",
    W + "trPr",
    W + "tcPr",
    W + "fldSimplePr",
    MC_FALLBACK,
    W + "footnoteReference",
    W + "commentReference",
}


def is_docx(zip_entries: dict[str, object]) -> bool:
    return "word/document.xml" in zip_entries


def _on(element: etree._Element | None, attribute: str) -> bool:
    """OOXML boolean: present without val, or val in 1/true/on."""
    if element is None:
        return False
    value = element.get(attribute)
    return value is None or value.lower() in ("1", "true", "on")


class _DocxReader:
    def __init__(self, extraction: Extraction) -> None:
        self.extraction = extraction
        self.reader = LineReader()
        self.paragraphs = 0
        self.tables = 0
        self.text_parts: list[str] = []

    # -- inline content ---------------------------------------------------------------
    def sdt_value(self, sdt: etree._Element) -> str:
        properties = sdt.find(W + "sdtPr")
        content = sdt.find(W + "sdtContent")
        checkbox = properties.find(W14 + "checkbox") if properties is not None else None
        if checkbox is not None:
            checked = checkbox.find(W14 + "checked")
            value = "☒" if _on(checked, W14 + "val") and checked is not None else "☐"
        elif properties is not None and properties.find(W + "showingPlcHdr") is not None:
            value = ""
        else:
            parts: list[str] = []
            if content is not None:
                self.inline(content, parts)
            value = "".join(parts)
        label = None
        if properties is not None:
            for name in ("alias", "tag"):
                node = properties.find(W + name)
                if node is not None and node.get(W + "val"):
                    label = node.get(W + "val")
                    if label and find_field(label) is not None:
                        break
        if label and find_field(label) is not None:
            self.reader.fields.append(
                RawField(
                    label, value.strip(), f"contrôle de contenu « {label} »", self.reader.section
                )
            )
        return value

    def inline(self, element: etree._Element, out: list[str]) -> None:
        for child in element:
            tag = child.tag
            if not isinstance(tag, str) or tag in _SKIP:
                continue
            if tag == W + "t":
                out.append(child.text or "")
            elif tag == W + "tab":
                out.append("\t")
            elif tag in (W + "br", W + "cr"):
                out.append("\n")
            elif tag == W + "sym":
                code = (child.get(W + "char") or "").upper()
                if code in _CHECKED_SYMBOLS:
                    out.append("☒")
                elif code in _UNCHECKED_SYMBOLS:
                    out.append("☐")
            elif tag == W + "fldChar":
                data = child.find(W + "ffData")
                box = data.find(W + "checkBox") if data is not None else None
                if box is not None:
                    state = box.find(W + "checked")
                    if state is None:
                        state = box.find(W + "default")
                    checked = state is not None and _on(state, W + "val")
                    out.append(" ☒ " if checked else " ☐ ")
            elif tag == W + "sdt":
                out.append(self.sdt_value(child))
            elif tag == W + "tbl":
                continue  # nested tables are read on their own
            else:
                self.inline(child, out)

    # -- blocks -----------------------------------------------------------------------
    def paragraph_text(self, paragraph: etree._Element) -> str:
        parts: list[str] = []
        self.inline(paragraph, parts)
        return "".join(parts)

    def feed_text(self, text: str, locator: str) -> None:
        self.text_parts.append(text)
        for line in text.split("\n"):
            self.reader.feed(line, locator)

    def block(self, element: etree._Element) -> None:
        for child in element:
            tag = child.tag
            if tag == W + "p":
                self.paragraphs += 1
                self.feed_text(self.paragraph_text(child), f"paragraphe {self.paragraphs}")
            elif tag == W + "tbl":
                self.table(child)
            elif tag == W + "sdt":
                properties = child.find(W + "sdtPr")
                placeholder = (
                    properties is not None and properties.find(W + "showingPlcHdr") is not None
                )
                content = child.find(W + "sdtContent")
                if content is not None and not placeholder:
                    self.block(content)
            elif tag in (W + "customXml", W + "smartTag", W + "ins"):
                self.block(child)

    def cell_text(self, cell: etree._Element) -> str:
        lines: list[str] = []
        for child in cell:
            if child.tag == W + "p":
                lines.append(self.paragraph_text(child))
            elif child.tag == W + "sdt":
                content = child.find(W + "sdtContent")
                if content is not None:
                    lines.append(self.cell_text(content))
        return "\n".join(line for line in lines if line.strip()).strip()

    def cells(self, row: etree._Element) -> list[etree._Element]:
        found: list[etree._Element] = []
        for child in row:
            if child.tag == W + "tc":
                found.append(child)
            elif child.tag in (W + "sdt", W + "customXml"):
                content = child.find(W + "sdtContent") if child.tag == W + "sdt" else child
                if content is not None:
                    found.extend(c for c in content if c.tag == W + "tc")
        return found

    def _is_label(self, text: str) -> bool:
        if not text or "\n" in text.strip() or any(c in TICK_MARKS for c in text):
            return False
        bare = text.strip().rstrip(":： ").strip()
        if find_field(bare, self.reader.section) is not None:
            return True
        return text.strip().endswith((":", "：")) and len(bare) < 60

    def table(self, table: etree._Element) -> None:
        self.tables += 1
        number = self.tables
        rows = [r for r in table if r.tag == W + "tr"]
        grid: list[list[tuple[str, etree._Element]]] = []
        for row in rows:
            entries: list[tuple[str, etree._Element]] = []
            for cell in self.cells(row):
                properties = cell.find(W + "tcPr")
                merge = properties.find(W + "vMerge") if properties is not None else None
                if merge is not None and merge.get(W + "val") in (None, "continue"):
                    continue  # continuation of a vertically merged cell: no new content
                entries.append((self.cell_text(cell), cell))
            grid.append(entries)
        consumed: set[int] = set()
        for r, entries in enumerate(grid):
            if r in consumed:
                continue
            texts = [t for t, _ in entries]
            non_empty = [t for t in texts if t]
            locator = f"tableau {number}, ligne {r + 1}"
            # Header row of labels above a row of values.
            if (
                len(non_empty) >= 2
                and all(self._is_label(t) for t in non_empty)
                and r + 1 < len(grid)
                and len(grid[r + 1]) == len(entries)
            ):
                below = [t for t, _ in grid[r + 1]]
                if not any(self._is_label(t) for t in below if t):
                    for c, (label, value) in enumerate(zip(texts, below, strict=True)):
                        if label:
                            self.emit(label, value, f"{locator}, cellule {c + 1}")
                    consumed.add(r + 1)
                    self.nested(entries)
                    continue
            c = 0
            while c < len(texts):
                text = texts[c]
                if not text:
                    c += 1
                    continue
                if self._is_label(text) and c + 1 < len(texts) and not self._is_label(texts[c + 1]):
                    self.emit(text, texts[c + 1], f"{locator}, cellule {c + 1}")
                    c += 2
                    continue
                self.feed_text(text, f"{locator}, cellule {c + 1}")
                c += 1
            self.nested(entries)

    def nested(self, entries: list[tuple[str, etree._Element]]) -> None:
        for _, cell in entries:
            for inner in cell:
                if inner.tag == W + "tbl":
                    self.table(inner)

    def emit(self, label: str, value: str, locator: str) -> None:
        label = label.strip().rstrip(":： ").strip()
        self.text_parts.append(f"{label} : {value}")
        self.reader.fields.append(RawField(label, value.strip(), locator, self.reader.section))


def docx_extraction(
    data: bytes, name: str, limits: ParseLimits, opened: SafeZip | None = None
) -> Extraction:
    extraction = Extraction(source=name, kind="docx")
    archive = opened if opened is not None else open_zip(data, name, limits)
    if not isinstance(archive, SafeZip):
        extraction.problems.append(archive)
        return extraction
    extraction.problems.extend(archive.problems)
    if "word/document.xml" not in archive.entries:
        extraction.problems.append(problem("docx.invalid", name=name, source=name))
        return extraction
    try:
        xml = archive.read("word/document.xml", max_bytes=limits.xml_max_bytes)
    except ZipLimitError as error:
        extraction.problems.append(problem(error.code, name=name, source=name))
        return extraction
    root = parse_xml(xml, name, limits)
    if not isinstance(root, etree._Element):
        extraction.problems.append(root)
        return extraction
    body = root.find(W + "body")
    if body is None:
        extraction.problems.append(problem("docx.invalid", name=name, source=name))
        return extraction
    reader = _DocxReader(extraction)
    reader.block(body)
    extraction.raw_fields = reader.reader.fields
    extraction.title_lines = reader.reader.title_lines
    extraction.text = "\n".join(reader.text_parts)[: limits.text_max_chars]
    return extraction
