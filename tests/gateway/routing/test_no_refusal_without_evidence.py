"""Property: text the parsers cannot classify never refuses a patient.

Whatever a sender writes about the situation, if none of it is read as a criterion
(stated or denied), the decision is incomplete or eligible, never ineligible.
"""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.routing.decision import decisive_conflicts, final_decision
from parsers import parse_message
from parsers.request import Request, RequestKind
from rules.context import RuleContext
from rules.engine import evaluate
from rules.programmes import programmes_from_mapping
from tests.parsers.builders import build_mail
from tests.support.criteria import DAC_CRITERIA

PROGRAMMES = programmes_from_mapping(
    {"signalement": {"params": {"patient_in_territory": {"postal_codes": ["88400"]}}}}
)
ON = date(2026, 6, 1)
CRITERIA = ("ald", "ald_declared", "arret_travail", "sortie_hospitalisation", *DAC_CRITERIA)
# Words of the trade and of daily life, mixed at random: most phrases mean nothing to us.
WORDS = (
    "patiente",
    "suivie",
    "domicile",
    "soins",
    "infirmiers",
    "pansement",
    "traitement",
    "douleur",
    "fatigue",
    "chute",
    "genou",
    "dos",
    "visite",
    "famille",
    "voisin",
    "semaine",
    "mois",
    "rendez-vous",
    "bilan",
    "prise",
    "de",
    "sang",
    "tension",
    "ordonnance",
    "kiné",
    "marche",
    "canne",
    "appartement",
    "étage",
    "escalier",
    "repas",
    "courses",
    "pharmacie",
    "consultation",
    "spécialiste",
    "examen",
    "résultat",
    "contrôle",
    "suivi",
    "régulier",
    "depuis",
    "toujours",
    "bien",
    "mal",
    "un",
    "peu",
    "beaucoup",
    "plutôt",
    "souvent",
    "parfois",
    "jamais",
    "non",
    "pas",
    "plus",
    "très",
    "assez",
    "ne",
    "ni",
)
# Anything the sender might type, on the "Situation" line and in prose.
TEXT = st.one_of(
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=25).map(" ".join),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=200),
)


def _unclassified(request: Request) -> bool:
    situation = request.situation
    return all(getattr(situation, name) in (None, []) for name in CRITERIA)


def _decision(request: Request) -> str:
    spec = PROGRAMMES[request.kind.value]
    context = RuleContext(request_date=ON)
    evaluation = evaluate(spec, request, context)
    blocking = [p for p in request.problems if p.severity == "error"]
    conflicts = decisive_conflicts(spec, request, context, evaluation)
    return final_decision(evaluation, blocking, conflicts).outcome


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    situation=TEXT,
    prose=TEXT,
    birth=st.dates(min_value=date(1930, 1, 1), max_value=date(2020, 1, 1)),
    kind=st.sampled_from([RequestKind.SIGNALEMENT, RequestKind.APPUI_DAC]),
)
def test_unclassified_situation_is_never_ineligible(
    situation: str, prose: str, birth: date, kind: RequestKind
) -> None:
    body = (
        "Bonjour,\n\nNom : THIRIET\nPrénom : Jeanne\n"
        f"Date de naissance : {birth.strftime('%d/%m/%Y')}\nCode postal : 88400\n"
        f"Situation : {situation}\n\n{prose}\n\nCordialement,\nClaire Colin, IDE\n"
    )
    raw = build_mail(subject="Demande", body=body, sender="c.colin@infirmier.mssante.fr")
    request = parse_message(raw, default_kind=kind).request
    request.request_date = ON
    if not _unclassified(request):
        return  # read as a criterion: stated or denied, that is evidence
    assert _decision(request) != "ineligible", (situation, prose)


@settings(max_examples=300, deadline=None)
@given(
    age_years=st.one_of(st.none(), st.integers(min_value=0, max_value=110)),
    birth=st.one_of(st.none(), st.dates(min_value=date(1920, 1, 1), max_value=ON)),
    some_denied=st.sets(st.sampled_from(["ald_declared", "arret_travail"]), max_size=1),
)
def test_a_criterion_left_unsaid_never_fails_the_situation(
    age_years: int | None, birth: date | None, some_denied: set[str]
) -> None:
    # At least one of the three non-age criteria is left unsaid (None): no refusal.
    request = Request(kind=RequestKind.SIGNALEMENT, request_date=ON)
    request.patient.birth_date = birth
    request.patient.age_years = age_years
    request.patient.postal_code = "88400"
    request.patient.family_name = "THIRIET"
    request.patient.given_names = ["Jeanne"]
    for name in some_denied:
        setattr(request.situation, name, False)
    assert _decision(request) != "ineligible"
