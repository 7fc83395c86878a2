"""Télé-expertise: profession, filière, consent, requis, quotas."""

from __future__ import annotations

from typing import Any

import pytest

from parsers.request import RequestKind
from rules import (
    consent_given,
    filiere_open,
    requerant_profession_allowed,
    requerant_yearly_limit,
    requis_in_filiere,
    te_quota_per_patient,
)
from rules.base import NoParams
from rules.context import RequisFacts
from rules.engine import evaluate, operation_outcome_issues
from rules.programmes import load_programmes, programmes_from_mapping
from rules.result import Outcome
from tests.rules.factories import YES_NO_OUTCOMES, context, request

TE = RequestKind.TELE_EXPERTISE
PROF = requerant_profession_allowed.RequerantProfessionParams()


@pytest.mark.parametrize(
    ("declared", "directory", "expected"),
    [
        ("10", None, Outcome.PASSED),  # médecin
        ("50", None, Outcome.PASSED),  # sage-femme
        ("60", None, Outcome.PASSED),  # infirmier
        ("70", None, Outcome.PASSED),  # kiné
        ("80", None, Outcome.PASSED),  # pédicure-podologue
        ("91", None, Outcome.PASSED),  # orthophoniste
        ("21", None, Outcome.FAILED),  # pharmacien
        ("40", None, Outcome.FAILED),  # chirurgien-dentiste
        (None, None, Outcome.MISSING),
        ("10", "21", Outcome.FAILED),  # the directory wins over the form
        (None, "60", Outcome.PASSED),
    ],
)
def test_profession(declared: str | None, directory: str | None, expected: Outcome) -> None:
    req = request(TE, reporter={"profession_code": declared})
    result = requerant_profession_allowed.check(
        req, context(sender={"profession_code": directory}), PROF
    )
    assert result.outcome is expected


@pytest.mark.parametrize(
    ("is_member", "expected"),
    [(True, Outcome.PASSED), (False, Outcome.FAILED), (None, Outcome.MISSING)],
)
def test_members_only(is_member: bool | None, expected: Outcome) -> None:
    params = requerant_profession_allowed.RequerantProfessionParams(members_only=True)
    req = request(TE, reporter={"profession_code": "10"})
    result = requerant_profession_allowed.check(
        req, context(sender={"is_member": is_member}), params
    )
    assert result.outcome is expected


@pytest.mark.parametrize(
    ("filiere", "expected"),
    [
        ("orl", Outcome.PASSED),
        ("ORL", Outcome.PASSED),
        ("Bilio-pancréatique", Outcome.PASSED),
        ("médecine interne", Outcome.PASSED),
        ("gastro_enterologie", Outcome.PASSED),
        ("radiologie", Outcome.PASSED),
        ("urologie", Outcome.PASSED),
        ("infectiologie", Outcome.PASSED),
        ("dermatologie", Outcome.PASSED),
        ("medecine_generale", Outcome.FAILED),  # announced, not open yet
        ("cardiologie", Outcome.FAILED),
        (None, Outcome.MISSING),
        ("  ", Outcome.MISSING),
    ],
)
def test_filiere_open(filiere: str | None, expected: Outcome) -> None:
    result = filiere_open.check(
        request(TE, te={"filiere": filiere}), context(), filiere_open.FiliereOpenParams()
    )
    assert result.outcome is expected


@pytest.mark.parametrize(("consent", "expected"), YES_NO_OUTCOMES)
def test_consent(consent: bool | None, expected: Outcome) -> None:
    result = consent_given.check(request(TE, te={"consent": consent}), context(), NoParams())
    assert result.outcome is expected


IN_DERMATO = RequisFacts(found=True, rpps="10000000002", filieres=frozenset({"dermatologie"}))
IN_ORL = RequisFacts(found=True, rpps="10000000002", filieres=frozenset({"orl"}))
UNKNOWN = RequisFacts(found=False)


@pytest.mark.parametrize(
    ("te", "facts", "fallback", "expected"),
    [
        ({"filiere": "dermatologie"}, None, False, Outcome.PASSED),  # no requis named
        (
            {"filiere": "dermatologie", "requis_rpps": "10000000002"},
            IN_DERMATO,
            False,
            Outcome.PASSED,
        ),
        ({"filiere": "Dermatologie", "requis_name": "Dr Peau"}, IN_DERMATO, False, Outcome.PASSED),
        ({"filiere": "dermatologie", "requis_rpps": "10000000002"}, IN_ORL, False, Outcome.FAILED),
        ({"filiere": "dermatologie", "requis_rpps": "10000000002"}, UNKNOWN, False, Outcome.FAILED),
        (
            {"filiere": "dermatologie", "requis_email": "x@y.mssante.fr"},
            None,
            False,
            Outcome.FAILED,
        ),
        ({"filiere": "dermatologie", "requis_rpps": "10000000002"}, IN_ORL, True, Outcome.PASSED),
        ({"requis_rpps": "10000000002"}, IN_DERMATO, False, Outcome.MISSING),
    ],
)
def test_requis_in_filiere(
    te: dict[str, Any], facts: RequisFacts | None, fallback: bool, expected: Outcome
) -> None:
    params = requis_in_filiere.RequisInFiliereParams(fallback_to_group=fallback)
    result = requis_in_filiere.check(request(TE, te=te), context(requis=facts), params)
    assert result.outcome is expected
    if fallback:
        assert result.evidence["destinataire"] == "groupe (repli)"


NAMED = {"filiere": "orl", "requis_rpps": "10000000002"}


@pytest.mark.parametrize(
    ("te", "acts", "fallback", "expected"),
    [
        (NAMED, 0, False, Outcome.PASSED),
        (NAMED, 3, False, Outcome.PASSED),  # this one is the 4th
        (NAMED, 4, False, Outcome.FAILED),  # this one would be the 5th
        (NAMED, 9, False, Outcome.FAILED),
        (NAMED, 4, True, Outcome.PASSED),
        (NAMED, None, False, Outcome.MISSING),
        ({"filiere": "orl"}, None, False, Outcome.PASSED),  # group: checked at routing
    ],
)
def test_te_quota(te: dict[str, Any], acts: int | None, fallback: bool, expected: Outcome) -> None:
    params = te_quota_per_patient.TeQuotaParams(fallback_to_group=fallback)
    result = te_quota_per_patient.check(request(TE, te=te), context(te_acts=acts), params)
    assert result.outcome is expected


@pytest.mark.parametrize(
    ("profession", "limits", "done", "expected"),
    [
        ("10", {}, 500, Outcome.PASSED),  # no limit configured
        ("60", {"10": 100}, 500, Outcome.PASSED),  # no limit for this profession
        ("60", {"60": 50}, 49, Outcome.PASSED),
        ("60", {"60": 50}, 50, Outcome.FAILED),
        ("60", {"60": 50}, None, Outcome.MISSING),
        (None, {"60": 50}, 10, Outcome.PASSED),  # unknown profession: the profession rule says so
    ],
)
def test_requerant_yearly_limit(
    profession: str | None, limits: dict[str, int], done: int | None, expected: Outcome
) -> None:
    params = requerant_yearly_limit.RequerantLimitParams(limits=limits)
    req = request(TE, reporter={"profession_code": profession})
    result = requerant_yearly_limit.check(req, context(requerant_acts=done), params)
    assert result.outcome is expected


PROGRAMMES = load_programmes()
GOOD_TE: dict[str, Any] = {"filiere": "orl", "consent": True}
DOCTOR: dict[str, Any] = {"verified": True, "profession_code": "10", "source": "directory"}


@pytest.mark.parametrize(
    ("case", "te", "sender", "acts", "facts", "decision", "codes"),
    [
        ("eligible to group", GOOD_TE, DOCTOR, None, None, "eligible", []),
        ("named requis", GOOD_TE | NAMED, DOCTOR, 2, IN_ORL, "eligible", []),
        (
            "consent missing",
            {"filiere": "orl"},
            DOCTOR,
            None,
            None,
            "incomplete",
            ["consent_given"],
        ),
        (
            "consent refused",
            GOOD_TE | {"consent": False},
            DOCTOR,
            None,
            None,
            "ineligible",
            ["consent_given"],
        ),
        # By default both fall back to the filière's group (routing explains why).
        ("5th act", GOOD_TE | NAMED, DOCTOR, 4, IN_ORL, "eligible", []),
        ("requis not in filière", GOOD_TE | NAMED, DOCTOR, 0, IN_DERMATO, "eligible", []),
        (
            "unverified sender",
            GOOD_TE,
            {"profession_code": "10"},
            None,
            None,
            "rejected",
            ["sender_verified"],
        ),
        (
            "closed filière and no consent",
            {"filiere": "cardiologie"},
            DOCTOR,
            None,
            None,
            "ineligible",
            ["filiere_open", "consent_given"],
        ),
    ],
)
def test_tele_expertise_programme(
    case: str,
    te: dict[str, Any],
    sender: dict[str, Any],
    acts: int | None,
    facts: RequisFacts | None,
    decision: str,
    codes: list[str],
) -> None:
    evaluation = evaluate(
        PROGRAMMES["tele_expertise"],
        request(TE, te=te),
        context(sender=sender, te_acts=acts, requis=facts),
    )
    assert evaluation.decision.outcome == decision, case
    assert [code for code, _ in operation_outcome_issues(evaluation)] == codes


STRICT = programmes_from_mapping(
    {
        "tele_expertise": {
            "params": {
                "requis_in_filiere": {"fallback_to_group": False},
                "te_quota_per_patient": {"fallback_to_group": False},
            }
        }
    }
)


@pytest.mark.parametrize(
    ("case", "acts", "facts", "code"),
    [
        ("5th act", 4, IN_ORL, "te_quota_per_patient"),
        ("requis not in filière", 0, IN_DERMATO, "requis_in_filiere"),
    ],
)
def test_strict_programme_refuses_instead_of_falling_back(
    case: str, acts: int, facts: RequisFacts, code: str
) -> None:
    evaluation = evaluate(
        STRICT["tele_expertise"],
        request(TE, te=GOOD_TE | NAMED),
        context(sender=DOCTOR, te_acts=acts, requis=facts),
    )
    assert evaluation.decision.outcome == "ineligible", case
    assert [c for c, _ in operation_outcome_issues(evaluation)] == [code]


@pytest.mark.parametrize(("acts", "facts"), [(4, IN_ORL), (0, IN_DERMATO)])
def test_default_fallback_says_why(acts: int, facts: RequisFacts) -> None:
    evaluation = evaluate(
        PROGRAMMES["tele_expertise"],
        request(TE, te=GOOD_TE | NAMED),
        context(sender=DOCTOR, te_acts=acts, requis=facts),
    )
    said = " ".join(r.reason_fr for r in evaluation.results)
    assert "de la filière" in said and "groupe" in " ".join(
        r.evidence.get("destinataire", "") for r in evaluation.results
    )
