"""The decision the sender is told, when sources disagree (pure, no database)."""

from __future__ import annotations

from datetime import date

from gateway.routing.decision import decisive_conflicts, final_decision
from parsers.merge import with_path
from parsers.request import Conflict, Provenance, Request, RequestKind
from rules.context import RuleContext
from rules.engine import evaluate
from rules.programmes import programmes_from_mapping

ON = date(2026, 6, 1)
SPEC = programmes_from_mapping(
    {"signalement": {"params": {"patient_in_territory": {"postal_codes": ["88400"]}}}}
)["signalement"]
FORM = Provenance(source="fiche.docx", kind="docx", locator="case ALD")
BODY = Provenance(source="body", kind="body", locator="ligne 3", span="ALD")


def _request(*, birth: date, arret: bool | None = False) -> Request:
    request = Request(kind=RequestKind.SIGNALEMENT, request_date=ON)
    request.patient.family_name = "THIRIET"
    request.patient.given_names = ["Jeanne"]
    request.patient.birth_date = birth
    request.patient.postal_code = "88400"
    request.situation.ald_declared = True  # the form's tick, kept by precedence
    request.situation.arret_travail = arret
    request.situation.sortie_hospitalisation = False
    request.conflicts.append(
        Conflict(
            field="situation.ald_declared", kept="oui", kept_from=FORM, other="non", other_from=BODY
        )
    )
    return request


def _decide(request: Request) -> tuple[str, str | None]:
    context = RuleContext(request_date=ON)
    evaluation = evaluate(SPEC, request, context)
    conflicts = decisive_conflicts(SPEC, request, context, evaluation)
    decision = final_decision(evaluation, [], conflicts)
    return decision.outcome, decision.escalate_reason_fr


def test_a_disagreement_that_decides_goes_to_a_coordinator() -> None:
    # 45 years old: the ALD alone makes her eligible, "pas d'ALD" would refuse her.
    outcome, reason = _decide(_request(birth=date(1981, 1, 1)))
    assert reason is not None
    assert "se contredisent" in reason and "fiche.docx" in reason and "body" in reason
    assert outcome == "eligible"  # what the rules said; a person decides what to tell


def test_a_disagreement_that_changes_nothing_is_not_escalated() -> None:
    # 80 years old: eligible whatever the ALD.
    outcome, reason = _decide(_request(birth=date(1946, 1, 1)))
    assert (outcome, reason) == ("eligible", None)


def test_numbered_alds_count_with_the_denial() -> None:
    request = _request(birth=date(1981, 1, 1))
    request.situation.ald_declared = False  # kept: "ALD : non"
    request.situation.ald = [7]  # and "l'ALD 7" in a sentence of the same document
    request.conflicts[0] = Conflict(
        field="situation.ald_declared", kept="non", kept_from=FORM, other="oui", other_from=BODY
    )
    assert _decide(request)[1] is not None


def test_a_variant_copies_only_the_path_it_changes() -> None:
    request = _request(birth=date(1950, 1, 1))
    request.situation.ald = [8]
    variant = with_path(request, "situation.ald_declared", False)
    assert variant is not None and variant.situation.ald_declared is False
    assert request.situation.ald_declared is True  # the original is untouched
    assert variant.patient is request.patient  # shared, not copied
    assert variant.conflicts is request.conflicts
    assert with_path(request, "situation.no_such_field", True) is None
    assert with_path(request, "patient.birth_date.year", 1) is None  # not a model
    cleared = with_path(variant, "situation.ald", [])
    assert cleared is not None and cleared.situation.ald == [] and request.situation.ald
