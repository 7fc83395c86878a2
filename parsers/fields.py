"""What the extractors hand to the mapper: raw label/value pairs and typed candidates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from parsers.request import Problem, Provenance, RequestKind, SourceKind

__all__ = ["RANKS", "Candidate", "Extraction", "FieldValue", "RawField"]

FieldValue = str | bool | int | date | list[str] | list[int] | RequestKind

# Precedence when sources disagree: lower wins (CDA > XDM metadata > form > body > headers).
RANKS: dict[SourceKind, int] = {
    "cda": 0,
    "xdm": 1,
    "docx": 2,
    "pdf": 2,
    "body": 3,
    "header": 4,
    "config": 5,
}


@dataclass(frozen=True)
class RawField:
    """A label and its value as written, before any mapping."""

    label: str
    value: str
    locator: str
    section: str | None = None  # section key ("patient", "reporter"…) of the heading above


@dataclass(frozen=True)
class Candidate:
    """A typed value for one field path, and where it was read."""

    path: str
    value: FieldValue
    provenance: Provenance

    @property
    def rank(self) -> int:
        return RANKS[self.provenance.kind]


@dataclass
class Extraction:
    """What one source yields: raw pairs to map, typed candidates, problems, and title text."""

    source: str
    kind: SourceKind
    raw_fields: list[RawField] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    title_lines: list[str] = field(default_factory=list)  # headings scanned for the kind
    text: str = ""  # plain text of the source, bounded

    def add(self, path: str, value: FieldValue, locator: str, raw: str | None = None) -> None:
        provenance = Provenance(source=self.source, kind=self.kind, locator=locator, raw=raw)
        self.candidates.append(Candidate(path, value, provenance))
