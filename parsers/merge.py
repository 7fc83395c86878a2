"""Merging candidates from several sources into one Request.

Precedence is CDA > XDM metadata > form (DOCX/PDF) > mail body > headers; on a
tie the first source read wins. Every disagreement is kept as a ``Conflict``
plus a ``<path>.conflict`` warning, and the kept value's provenance is recorded.
"""

from __future__ import annotations

from datetime import date
from typing import TypeVar

from pydantic import BaseModel

from parsers.data import load_toml
from parsers.fields import Candidate, Extraction, FieldValue
from parsers.problems import field_problem
from parsers.request import Conflict, Problem, Request, RequestKind
from parsers.text import fold

__all__ = ["apply_requirements", "get_path", "merge_extractions", "set_path", "with_path"]

M = TypeVar("M", bound=BaseModel)

_UNION_PATHS = frozenset({"situation.ald"})


def _comparable(value: FieldValue) -> object:
    if isinstance(value, str):
        return fold(value, drop_parens=False)
    if isinstance(value, list):
        return tuple(sorted(fold(v) if isinstance(v, str) else str(v) for v in value))
    return value


def _display(value: FieldValue) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "oui" if value else "non"
    return str(value)


def set_path(request: Request, path: str, value: object) -> bool:
    """Assign ``value`` at a dotted path; False when the path does not exist."""
    target: BaseModel = request
    *parents, leaf = path.split(".")
    for name in parents:
        child = getattr(target, name, None)
        if not isinstance(child, BaseModel):
            return False
        target = child
    if leaf not in type(target).model_fields:
        return False
    setattr(target, leaf, value)
    return True


def with_path(model: M, path: str, value: object) -> M | None:
    """A copy of ``model`` with ``value`` at a dotted path, the rest shared with ``model``:
    only the models along the path are copied (a deep copy of a whole request, provenance
    included, costs a hundred times more). None when the path does not exist."""
    name, _, rest = path.partition(".")
    if name not in type(model).model_fields:
        return None
    if rest:
        child = getattr(model, name)
        if not isinstance(child, BaseModel):
            return None
        copied = with_path(child, rest, value)
        if copied is None:
            return None
        value = copied
    return model.model_copy(update={name: value})


def get_path(request: Request, path: str) -> object:
    target: object = request
    for name in path.split("."):
        target = getattr(target, name, None)
        if target is None:
            return None
    return target


def merge_extractions(request: Request, extractions: list[Extraction]) -> None:
    """Fill ``request`` in place from every extraction's candidates and problems."""
    groups: dict[str, list[tuple[int, int, Candidate]]] = {}
    order = 0
    for extraction in extractions:
        for candidate in extraction.candidates:
            groups.setdefault(candidate.path, []).append((candidate.rank, order, candidate))
            order += 1
        request.problems.extend(extraction.problems)
    for path, entries in groups.items():
        entries.sort(key=lambda entry: (entry[0], entry[1]))
        kept = entries[0][2]
        value: FieldValue = kept.value
        if path in _UNION_PATHS:
            union: set[int] = set()
            for _, _, candidate in entries:
                if isinstance(candidate.value, list):
                    union.update(v for v in candidate.value if isinstance(v, int))
            value = sorted(union)
        elif path == "kind" and isinstance(value, str):
            value = RequestKind(value)
        if not set_path(request, path, value):
            continue
        request.provenance[path] = kept.provenance
        if path in _UNION_PATHS:
            continue
        seen = {_comparable(kept.value)}
        for _, _, other in entries[1:]:
            key = _comparable(other.value)
            if key in seen:
                continue
            seen.add(key)
            request.conflicts.append(
                Conflict(
                    field=path,
                    kept=_display(kept.value),
                    kept_from=kept.provenance,
                    other=_display(other.value),
                    other_from=other.provenance,
                )
            )
            if len(seen) == 2:
                request.problems.append(
                    field_problem(path, "conflict", source=other.provenance.source)
                )


def _present(value: object, require_true: bool) -> bool:
    if require_true:
        return value is True
    if value is None:
        return False
    if isinstance(value, (list, str)):
        return len(value) > 0
    return True


def apply_requirements(request: Request) -> None:
    """Add ``<group>.missing`` problems for what the request's programme needs."""
    requirements = load_toml("requirements.toml").get(request.kind.value, [])
    existing = {p.code for p in request.problems}
    for requirement in requirements:
        fields: list[str] = requirement["fields"]
        require_true = bool(requirement.get("require_true", False))
        if any(_present(get_path(request, f), require_true) for f in fields):
            continue
        group = str(requirement["group"])
        if require_true and any(get_path(request, f) is False for f in fields):
            code = f"{group}.refused"
            if code not in existing:
                request.problems.append(field_problem(group, "refused"))
            continue
        code = f"{group}.missing"
        if code in existing:
            continue
        request.problems.append(
            Problem(code=code, message_fr=str(requirement["message_fr"]), field=group)
        )


def dedupe_problems(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[str, str | None, str | None]] = set()
    kept: list[Problem] = []
    for item in problems:
        key = (item.code, item.field, item.source)
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept
