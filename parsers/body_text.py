"""The mail body: HTML to text, then ``Label : valeur`` lines."""

from __future__ import annotations

import re

import lxml.html  # type: ignore[import-untyped]
from lxml import etree

from parsers.fields import Extraction
from parsers.label_lines import fields_from_lines

__all__ = ["body_extraction", "html_to_text"]

_BLOCK_TAGS = {
    "p",
    "div",
    "br",
    "tr",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "ul",
    "ol",
    "blockquote",
    "section",
    "article",
    "header",
    "footer",
    "dt",
    "dd",
}
_TAG = re.compile(r"<[^<>]*>")
_DROP_TAGS = ("script", "style", "head", "title", "noscript", "template")


def html_to_text(html: str) -> str:
    """Visible text with one line per block; a two-cell table row becomes "A : B"."""
    if not html.strip():
        return ""
    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        # "[^<>]*": a tag never holds "<", so each character is scanned once; "[^>]{0,n}"
        # rescans n characters from every "<" of a "<<<<" run.
        return _TAG.sub(" ", html)
    for element in root.iter(*_DROP_TAGS):
        element.drop_tree() if element.getparent() is not None else None
    for row in root.iter("tr"):
        cells = [c for c in row if isinstance(c.tag, str) and c.tag in ("td", "th")]
        texts = [" ".join(c.text_content().split()) for c in cells]
        texts = [t for t in texts if t]
        for cell in cells:
            cell.drop_tree()
        if len(texts) == 2 and not texts[0].rstrip().endswith((":", "：")):
            row.text = f"{texts[0]} : {texts[1]}"
        else:
            row.text = "\t".join(texts)
    parts: list[str] = []

    def walk(element: lxml.html.HtmlElement) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in _BLOCK_TAGS:
            parts.append("\n")
        if element.text and tag:
            parts.append(element.text)
        for child in element:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if tag in _BLOCK_TAGS:
            parts.append("\n")

    body = root.find("body")
    walk(body if body is not None else root)
    text = "".join(parts).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def body_extraction(
    text: str, *, source: str = "body", max_chars: int = 200_000, max_lines: int = 5_000
) -> Extraction:
    """Label/value lines and prose of the first ``max_chars`` characters and ``max_lines``
    lines of ``text`` (what follows is never a request's own text)."""
    head = text[:max_chars]
    lines_kept = head.splitlines(keepends=True)
    if len(lines_kept) > max_lines:
        head = "".join(lines_kept[:max_lines])
    extraction = Extraction(source=source, kind="body", text=head)
    lines = ((line, f"ligne {number}") for number, line in enumerate(head.splitlines(), start=1))
    extraction.raw_fields, extraction.title_lines = fields_from_lines(lines)
    return extraction
