"""Raw label/value pairs -> typed candidates, through the synonym table and normalisers."""

from __future__ import annotations

from parsers.field_catalog import find_field
from parsers.fields import Extraction
from parsers.normalise.values import normalise_value
from parsers.problems import field_problem
from parsers.request import Provenance

__all__ = ["map_raw_fields"]

_MAX_RAW = 2000  # the raw text kept in provenance


def map_raw_fields(extraction: Extraction) -> None:
    """Turn ``extraction.raw_fields`` into candidates and problems, in place."""
    for raw in extraction.raw_fields:
        spec = find_field(raw.label, raw.section)
        if spec is None:
            continue
        result = normalise_value(spec.type, spec.path, raw.value)
        provenance = Provenance(
            source=extraction.source,
            kind=extraction.kind,
            locator=f"{raw.locator} « {raw.label[:60]} »",
            raw=raw.value[:_MAX_RAW],
        )
        for path, value in result.pairs:
            extraction.add(path, value, provenance.locator, provenance.raw)
        for code in result.problems:
            path, condition = code.rsplit(".", 1)
            extraction.problems.append(field_problem(path, condition, source=extraction.source))
