"""Completing a case: what a follow-up message adds to the request already on file."""

from __future__ import annotations

from parsers.merge import apply_requirements, dedupe_problems, get_path
from parsers.request import Problem, Request

__all__ = ["merge_follow_up"]

_SECTIONS = ("reporter", "patient", "situation", "tele_expertise")


def _empty(value: object) -> bool:
    return value is None or value == [] or value == ""


def _still_relevant(problem: Problem, merged: Request) -> bool:
    """Missing/refused problems are recomputed; others last while their field stays empty."""
    if problem.code.endswith((".missing", ".refused")):
        return False
    if problem.field is None:
        return True
    return _empty(get_path(merged, problem.field))


def merge_follow_up(previous: Request | None, new: Request) -> Request:
    """Fill what the case lacked from the follow-up. Known values are kept (the case timeline
    keeps each message), and the missing-field problems are recomputed on the merged whole."""
    if previous is None:
        return new
    merged = previous.model_copy(deep=True)
    for section in _SECTIONS:
        old_part = getattr(merged, section)
        new_part = getattr(new, section)
        for name in type(new_part).model_fields:
            value = getattr(new_part, name)
            if _empty(value) or not _empty(getattr(old_part, name)):
                continue
            setattr(old_part, name, value)
            key = f"{section}.{name}"
            if key in new.provenance:
                merged.provenance[key] = new.provenance[key]
    merged.attachments = [*previous.attachments, *new.attachments]
    merged.conflicts = [*previous.conflicts, *new.conflicts]
    merged.problems = [p for p in [*previous.problems, *new.problems] if _still_relevant(p, merged)]
    apply_requirements(merged)
    merged.problems = dedupe_problems(merged.problems)
    return merged
