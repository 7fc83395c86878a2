from __future__ import annotations

from datetime import date

from parsers.follow_up import merge_follow_up
from parsers.merge import apply_requirements
from parsers.request import Patient, Problem, Provenance, Request, RequestKind, Situation


def _request(**patient: object) -> Request:
    request = Request(
        kind=RequestKind.SIGNALEMENT,
        patient=Patient.model_validate(patient),
        situation=Situation(ald_declared=True),
    )
    apply_requirements(request)
    return request


def test_follow_up_fills_what_was_missing_and_keeps_what_was_known() -> None:
    first = _request(family_name="LEROY", given_names=["Marcel"])
    assert any(p.code == "patient.birth_date.missing" for p in first.problems)
    second = _request(family_name="AUTRE", birth_date=date(1950, 5, 2), postal_code="88400")
    second.provenance["patient.birth_date"] = Provenance(source="body", kind="body", locator="l1")
    merged = merge_follow_up(first, second)
    assert merged.patient.family_name == "LEROY"
    assert merged.patient.birth_date == date(1950, 5, 2)
    assert merged.provenance["patient.birth_date"].locator == "l1"
    assert not [p for p in merged.problems if p.code.endswith(".missing")]


def test_follow_up_without_the_answer_keeps_the_problem() -> None:
    first = _request(family_name="LEROY")
    merged = merge_follow_up(first, Request(kind=RequestKind.UNKNOWN))
    assert merged.kind == RequestKind.SIGNALEMENT
    assert any(p.code == "patient.birth_date.missing" for p in merged.problems)


def test_invalid_value_problem_goes_once_the_field_is_filled() -> None:
    first = _request(family_name="LEROY", birth_date=date(1950, 5, 2), postal_code="88400")
    first.problems.append(
        Problem(code="patient.ins.invalid_key", message_fr="clé", field="patient.ins")
    )
    merged = merge_follow_up(first, _request(ins="279035121518989"))
    assert "patient.ins.invalid_key" not in [p.code for p in merged.problems]
