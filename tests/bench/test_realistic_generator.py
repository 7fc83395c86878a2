"""The realistic corpus generator: deterministic, large, varied and well-formed.

It is the ground truth of the evaluation, so it must not be derived from the code
under test: one test checks that it imports nothing from parsers, rules or gateway.
"""

from __future__ import annotations

import ast
import email
import re
import unicodedata
from collections import Counter
from datetime import date
from email import policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import get_args

import pytest

from bench.realistic import (
    KNOWN_PROFESSIONALS,
    MAILBOXES,
    PROGRAMMES,
    ROSTER,
    STYLES,
    TERRITORY_COMMUNES,
    TERRITORY_POSTAL_CODES,
    RealisticRequest,
    Verdict,
    generate,
)
from tests.support.criteria import DAC_CRITERIA

PACKAGE = Path(__file__).resolve().parents[2] / "bench" / "realistic"
COMMON_FIELDS = (
    "patient.family_name",
    "patient.given_names",
    "patient.birth_date",
    "patient.age_years",
    "patient.postal_code",
    "patient.city",
    "patient.ins",
    "patient.has_medecin_traitant",
    "reporter.declared_role",
    "reporter.rpps",
    "reporter.family_name",
)
PROGRAMME_FIELDS = {
    "signalement": (
        "situation.ald_declared",
        "situation.ald",
        "situation.arret_travail",
        "situation.sortie_hospitalisation",
    ),
    "tele_expertise": (
        "tele_expertise.filiere",
        "tele_expertise.consent",
        "tele_expertise.requis_name",
    ),
    "appui_dac": tuple(f"situation.{name}" for name in DAC_CRITERIA),
    "medecin_referent": ("situation.ald", "situation.ald_declared", "situation.dsp_active"),
}


@pytest.fixture(scope="module")
def corpus() -> list[RealisticRequest]:
    return generate()


def _parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def test_generate_is_deterministic_for_a_seed(corpus: list[RealisticRequest]) -> None:
    again = generate(seed=7)
    assert [r.id for r in again] == [r.id for r in corpus]
    assert [r.raw for r in again] == [r.raw for r in corpus]
    assert [dict(r.expected_fields) for r in again] == [dict(r.expected_fields) for r in corpus]
    assert [r.expected_verdict for r in again] == [r.expected_verdict for r in corpus]


def test_another_seed_gives_another_corpus() -> None:
    small = generate(seed=11, n=40)
    assert len(small) == 40
    assert [r.raw for r in small] != [r.raw for r in generate(seed=12, n=40)]


def test_size_programmes_styles_and_verdicts_are_covered(
    corpus: list[RealisticRequest],
) -> None:
    assert len(corpus) >= 300
    assert {r.programme for r in corpus} == set(PROGRAMMES)
    styles = Counter(r.style for r in corpus)
    assert set(styles) <= set(STYLES)
    assert len(styles) >= 10
    assert set(get_args(Verdict)) == {r.expected_verdict for r in corpus}
    # Every programme sees several verdicts and several styles.
    for programme in PROGRAMMES:
        mine = [r for r in corpus if r.programme == programme]
        assert len({r.expected_verdict for r in mine}) >= 4
        assert len({r.style for r in mine}) >= 8
    assert sum(r.expected_verdict == "coordinator" for r in corpus) <= 10


def test_ids_are_unique(corpus: list[RealisticRequest]) -> None:
    ids = [r.id for r in corpus]
    assert len(ids) == len(set(ids))
    for request in corpus:
        assert request.id.startswith(f"{request.programme}-{request.style}-")
        assert request.why.startswith("seed 00")


def test_every_raw_is_a_complete_rfc5322_message(corpus: list[RealisticRequest]) -> None:
    for request in corpus:
        message = _parse(request.raw)
        for header in ("From", "To", "Date", "Subject", "Message-ID"):
            assert message[header], (request.id, header)
        assert MAILBOXES[request.programme] in str(message["To"])
        sent = parsedate_to_datetime(str(message["Date"]))
        assert date(2026, 1, 5) <= sent.date() <= date(2026, 11, 30), request.id
        assert re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", str(message["Message-ID"]).strip())
        assert message.get_body(preferencelist=("plain", "html")) is not None, request.id


def test_expected_fields_hold_every_relevant_key(corpus: list[RealisticRequest]) -> None:
    for request in corpus:
        fields = request.expected_fields
        missing = [
            k for k in (*COMMON_FIELDS, *PROGRAMME_FIELDS[request.programme]) if k not in fields
        ]
        # A contradicted field has no single expected value: coordinator cases leave it out.
        if request.expected_verdict == "coordinator":
            assert 1 <= len(missing) <= 2, (request.id, missing)
        else:
            assert not missing, (request.id, missing)
        birth = fields.get("patient.birth_date")
        if birth is not None:
            assert isinstance(birth, str)
            date.fromisoformat(birth)
            assert fields.get("patient.age_years") is None, request.id
        ins = fields.get("patient.ins")
        if ins is not None:
            assert isinstance(ins, str)
            assert re.fullmatch(r"[12]\d{14}", ins)
            assert int(ins[13:]) == 97 - int(ins[:13]) % 97
        postal = fields.get("patient.postal_code")
        assert postal is None or re.fullmatch(r"\d{5}", str(postal))
        rpps = fields.get("reporter.rpps")
        assert rpps is None or re.fullmatch(r"\d{11}", str(rpps))


def test_stated_names_are_in_the_mail_text(corpus: list[RealisticRequest]) -> None:
    """For mails without attachments, the expected patient name is written in the body."""
    checked = 0
    for request in corpus:
        message = _parse(request.raw)
        if any(True for _ in message.iter_attachments()):
            continue
        text = str(message["Subject"]) + "\n"
        for part in message.walk():
            if part.get_content_type() in ("text/plain", "text/html"):
                assert isinstance(part, EmailMessage)
                text += part.get_content()
        family = request.expected_fields["patient.family_name"]
        if family is not None:
            assert _fold(str(family)) in _fold(text), request.id
            checked += 1
    assert checked >= 150


def test_senders_and_verdicts_follow_the_contract(corpus: list[RealisticRequest]) -> None:
    known = {p.email for p in KNOWN_PROFESSIONALS} | {r.email for r in ROSTER}
    unknown_te = 0
    for request in corpus:
        sender = _parse(request.raw)["From"].addresses[0].addr_spec
        role = request.expected_fields["reporter.declared_role"]
        te_professional = request.programme == "tele_expertise" and role == "professional"
        if te_professional and sender not in known:
            unknown_te += 1
            assert request.expected_verdict == "rejected", request.id
        if request.programme == "appui_dac":
            assert request.notify_medecin_traitant == (role != "professional"), request.id
            assert request.expected_verdict != "rejected", request.id
        else:
            assert not request.notify_medecin_traitant
            if role != "professional":
                assert request.expected_verdict == "rejected", request.id
        if sender.endswith("@patient.mssante.fr"):
            assert role == "patient"
    assert 1 <= unknown_te <= 5


def test_directory_constants_are_well_formed() -> None:
    assert set(MAILBOXES) == set(PROGRAMMES)
    assert set(TERRITORY_COMMUNES.values()) == set(TERRITORY_POSTAL_CODES)
    assert {"88400", "88530", "88250", "88310", "88290", "88120", "88200", "88160"} <= set(
        TERRITORY_POSTAL_CODES
    )
    rpps = [p.rpps for p in KNOWN_PROFESSIONALS] + [r.rpps for r in ROSTER]
    assert all(re.fullmatch(r"\d{11}", n) for n in rpps)
    gps = [r for r in ROSTER if r.speciality == "SM54" and r.accepts_new_patients]
    assert len(gps) >= 5
    open_filieres = {f for r in ROSTER for f in r.filieres}
    assert len(open_filieres) == 8
    assert all(r.name.startswith("Dr ") for r in ROSTER)


def test_generator_does_not_import_the_code_under_test() -> None:
    forbidden = ("parsers", "rules", "gateway")
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in forbidden, (path.name, name)
