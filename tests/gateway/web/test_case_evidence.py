"""The case page shows the words each rule of the latest evaluation rests on, and conflicts."""

from __future__ import annotations

import re
from email.message import EmailMessage

from sqlmodel import Session

from gateway.storage.models import Case
from parsers import parse_message
from parsers.request import Conflict, Patient, Provenance, Request, RequestKind, Situation
from tests.gateway.web.conftest import Web
from tests.support.web import add_rule_results, login, seed_case

PROSE = (
    "Bonjour,\n"
    "Je vous adresse Mme Jeanne DURAND, née le 12/03/1948, domiciliée à Lyon 69003.\n"
    "Elle n'a pas de médecin traitant depuis le départ en retraite de son médecin.\n"
    "Cordialement,\n"
    "Dr House\n"
)


def _prose_request() -> Request:
    msg = EmailMessage()
    msg["From"] = "dr.house@medecin.test"
    msg["To"] = "signalement@cpts.test"
    msg["Subject"] = "Signalement patient"
    msg["Message-ID"] = "<prose@medecin.test>"
    msg.set_content(PROSE)
    return parse_message(bytes(msg), default_kind=RequestKind.SIGNALEMENT).request


def _case_page(web: Web, request: Request, rules: list[tuple[str, str, str]]) -> str:
    """The page, as a viewer sees it, of a seeded case (rules of evaluation 1) given
    ``request`` and an evaluation 2."""
    seeded = seed_case(web.engine, 7)
    with Session(web.engine) as db:
        case = db.get(Case, seeded.case_id)
        assert case is not None
        case.request_json = request.model_dump_json()
        db.add(case)
        add_rule_results(db, seeded.case_id, rules, evaluation=2)
        db.commit()
    client = web.client()
    login(client, "viewer")
    page: str = client.get(f"/cases/{seeded.reference}").text
    return page


def _latest_rows(page: str) -> dict[str, str]:
    """The rows of the latest evaluation's table, by rule id."""
    table = page.split('<table class="rules-latest">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr class="outcome-\w+" data-rule="([^"]+)">(.*?)</tr>', table, re.S)
    return dict(rows)


def test_prose_evidence_shows_the_sentence_with_the_span_and_its_qualifiers(web: Web) -> None:
    request = _prose_request()
    prov = request.provenance["patient.has_medecin_traitant"]
    assert prov.span == "médecin traitant" and "négation" in prov.qualifiers
    page = _case_page(
        web,
        request,
        [
            ("patient_in_territory", "passed", "Le patient habite le territoire."),
            ("no_medecin_traitant", "passed", "Le patient n'a pas de médecin traitant."),
        ],
    )
    assert "Évaluation 2 (la plus récente)" in page
    rows = _latest_rows(page)
    mt = rows["no_medecin_traitant"]
    assert "Présence d&#39;un médecin traitant</strong> : non" in mt
    assert (
        "« Elle n&#39;a pas de <mark>médecin traitant</mark> depuis le départ en retraite"
        " de son médecin. »" in mt
    )
    assert '<span class="badge qualifier">négation</span>' in mt
    assert "Lu dans corps du message, ligne 3 (texte libre)" in mt
    territory = rows["patient_in_territory"]
    assert "<mark>Lyon 69003</mark>" in territory and "Commune du patient" in territory
    assert "négation" not in territory
    # The earlier evaluation keeps its plain table, without evidence.
    first = page.split("<h3>Évaluation 1</h3>", 1)[1].split("</table>", 1)[0]
    assert "<mark>" not in first and "Ce sur quoi elle repose" not in first


def test_hostile_sentence_span_and_qualifier_are_rendered_inert(web: Web) -> None:
    hostile = '"><img src=x onerror=alert(1)>'
    sentence = f"Patient <script>alert('x')</script> sans médecin traitant {hostile} fin."
    request = Request(
        kind=RequestKind.SIGNALEMENT,
        patient=Patient(has_medecin_traitant=False),
        situation=Situation(arret_travail=True),
        provenance={
            "patient.has_medecin_traitant": Provenance(
                source='<script>alert("src")</script>',
                kind="body",
                locator="ligne 1 <b>gras</b>",
                raw=sentence,
                span=hostile,
                qualifiers=["<script>alert(2)</script>"],
            ),
            "situation.arret_travail": Provenance(
                source="body",
                kind="body",
                locator="ligne 2 (texte libre)",
                raw="En arrêt <script>alert(3)</script>",
                span="<script>",
            ),
        },
    )
    page = _case_page(
        web,
        request,
        [
            ("no_medecin_traitant", "passed", "Pas de médecin traitant."),
            ("situation_eligible", "passed", "En arrêt de travail."),
        ],
    )
    assert "<script>alert" not in page and "<img" not in page and "<b>gras" not in page
    rows = _latest_rows(page)
    mt = rows["no_medecin_traitant"]
    assert "<mark>&#34;&gt;&lt;img src=x onerror=alert(1)&gt;</mark> fin." in mt
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in mt
    assert '<span class="badge qualifier">&lt;script&gt;alert(2)&lt;/script&gt;</span>' in mt
    assert "Lu dans &lt;script&gt;alert(&#34;src&#34;)&lt;/script&gt;, ligne 1 &lt;b&gt;" in mt
    assert (
        "« En arrêt <mark>&lt;script&gt;</mark>alert(3)&lt;/script&gt; »"
        in rows["situation_eligible"]
    )


def test_conflicts_show_both_values_and_both_sources(web: Web) -> None:
    request = _prose_request()
    request.conflicts = [
        Conflict(
            field="patient.birth_date",
            kept="1948-03-12",
            kept_from=Provenance(
                source="fiche.pdf", kind="pdf", locator="Date de naissance", raw="12/03/1948"
            ),
            other="1948-03-21",
            other_from=Provenance(source="body", kind="body", locator="ligne 2 (texte libre)"),
        )
    ]
    page = _case_page(web, request, [("no_medecin_traitant", "passed", "Aucun.")])
    block = page.split('<div class="conflicts" id="conflicts" role="note">', 1)[1]
    block = block.split("</div>", 1)[0]
    assert "<h3>Informations contradictoires</h3>" in block
    assert "<strong>Date de naissance du patient</strong>" in block
    assert "retenu « 12/03/1948 »" in block and "(lu dans fiche.pdf, Date de naissance)" in block
    assert "écarté « 21/03/1948 »" in block
    assert "(lu dans corps du message, ligne 2 (texte libre))" in block


def test_no_conflict_block_without_conflicts(web: Web) -> None:
    assert "Informations contradictoires" not in _case_page(web, _prose_request(), [])
