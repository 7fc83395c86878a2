"""The words each rule's decision rests on: the provenance of the fields it reads (pure)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from parsers.merge import get_path
from parsers.request import Request
from rules.programmes import ProgrammeSpec

__all__ = ["Evidence", "rule_evidence"]


class Evidence(BaseModel):
    """One field a rule read: its value and where it was written."""

    model_config = ConfigDict(frozen=True)

    field: str
    value: str
    source: str  # file name, "body" or "headers"
    locator: str  # line, cell, section
    text: str | None = None  # the sentence or value as written
    span: str | None = None  # the words matched in it
    qualifiers: list[str] = Field(default_factory=list)


def _display(value: object) -> str:
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def rule_evidence(spec: ProgrammeSpec, request: Request) -> dict[str, list[Evidence]]:
    """For each rule of the programme, the stated fields it read, with their provenance."""
    found: dict[str, list[Evidence]] = {}
    for step in spec.steps:
        items: list[Evidence] = []
        for path in step.rule.reads:
            provenance = request.provenance.get(path)
            value = get_path(request, path)
            if provenance is None or value is None or value == []:
                continue
            items.append(
                Evidence(
                    field=path,
                    value=_display(value),
                    source=provenance.source,
                    locator=provenance.locator,
                    text=provenance.raw,
                    span=provenance.span,
                    qualifiers=list(provenance.qualifiers),
                )
            )
        found[step.rule_id] = items
    return found
