"""Reply defects fixed in the reply layer: the Task's status, forwarded originals, the
patient summary, the requérant's name, articles and blank lines.

The same defects seen through the whole case flow are in tests/gateway/cases/test_reply_defects.py.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from email.message import EmailMessage
from typing import get_args

import pytest
from fhir.resources.R4B.task import Task

from gateway.outbox.transports import SmtpEnvelope, SmtpTransport
from gateway.replies.compose import OutboundAttachment, ReplyRenderer, structure_names
from gateway.replies.facts import DOCTOR_FACING, ReplyFacts, ReplyIssue, ReplyKind, SummaryLine
from gateway.replies.fhir import task_json
from gateway.replies.summary import AgeCriteria, summary
from gateway.routing.status import TaskStatus, status_view
from gateway.storage.models import CaseStatus
from parsers.request import Patient, Request, Situation
from tests.support.smtp_peer import SmtpPeer, smtp_peer

WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
ON = date(2026, 3, 1)
# FHIR R4 Task.status (http://hl7.org/fhir/R4/valueset-task-status.html).
R4_TASK_STATUSES = {
    "draft",
    "requested",
    "received",
    "accepted",
    "rejected",
    "ready",
    "cancelled",
    "in-progress",
    "on-hold",
    "failed",
    "completed",
    "entered-in-error",
}
# FHIR's state machine, in the order a Task moves on; the last rank is a final state.
_RANK = {
    "received": 0,
    "accepted": 1,
    "in-progress": 2,
    "completed": 3,
    "rejected": 3,
    "failed": 3,
    "cancelled": 3,
}


def _renderer(structure: str = "CPTS") -> ReplyRenderer:
    return ReplyRenderer(
        from_address="signalement@cpts.test", from_name=structure, limit_bytes=25_000_000
    )


def _facts(kind: ReplyKind, *, full: bool, **extra: object) -> ReplyFacts:
    """Every field a template may show (``full``), or none of the optional ones."""
    data: dict[str, object] = {
        "kind": kind,
        "reference": "AIG-2026-000042",
        "programme": "signalement",
        "programme_label_fr": "signalement de patient sans médecin traitant",
        "task_status": "received",
        "business_status": "recu",
        "business_status_fr": "Reçu",
        "received_at": WHEN,
        "structure_name": "CPTS de démonstration",
    }
    if full:
        data |= {
            "issues": [
                ReplyIssue(code="a", diagnostics_fr="La date de naissance manque."),
                ReplyIssue(code="b", diagnostics_fr="Le code postal manque."),
            ],
            "lines_fr": ["Une première précision.", "Une seconde précision."],
            "doctor_name": "Dr Hugo Bernard",
            "doctor_email": "hugo@medecin.test",
            "requester_email": "ide@infirmier.test",
            "requester_name": "Claire COLIN",
            "summary": [
                SummaryLine(label="Âge", value="14 mois"),
                SummaryLine(label="Adressé par", value="ide@infirmier.test"),
            ],
            "text_fr": "Avis : surveillance simple.",
            "deadline_at": WHEN,
            "understood_fr": "patiente de 76 ans, en ALD.",
        }
    return ReplyFacts.model_validate(data | extra)


def _parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


# 8. The Task's status follows FHIR's state machine, and every Task is a valid R4 Task.


def _task_facts() -> Iterator[tuple[str, ReplyFacts]]:
    """One Task of each kind the daemon writes: each reply kind that carries one, in each
    case status it is sent in, plus the quarantine and the neutral status answer."""
    for status in CaseStatus:
        view = status_view(status, None)
        for kind in ReplyKind:
            if kind in DOCTOR_FACING:
                continue
            facts = _facts(
                kind,
                full=True,
                task_status=view.task_status,
                business_status=view.code,
                business_status_fr=view.label_fr,
                status_reason_fr="Une raison.",
            )
            yield f"{kind.value}-{status.value}", facts
    yield "quarantine", _facts(ReplyKind.UNREADABLE, full=True, task_status="failed")
    yield "neutral", _facts(ReplyKind.STATUS_NEUTRAL, full=False, task_status="rejected")


def test_every_task_is_a_valid_r4_task_whose_status_follows_the_state_machine() -> None:
    assert set(get_args(TaskStatus)) <= R4_TASK_STATUSES
    seen: set[str] = set()
    for name, facts in _task_facts():
        data = json.loads(task_json(facts))
        task = Task.model_validate(data)  # the R4 Task profile (R4B's Task is R4's)
        # The daemon's plain JSON is exactly what the validated model writes back.
        assert data == json.loads(task.model_dump_json(exclude_none=True)), name
        assert task.status == facts.task_status, name
        assert task.intent == "order" and task.identifier is not None, name
        if facts.issues:
            assert data["contained"][0]["resourceType"] == "OperationOutcome", name
        seen.add(task.status)
    assert seen == {"received", "accepted", "rejected", "in-progress", "completed", "failed"}

    def task_status(status: CaseStatus) -> str:
        return status_view(status, None).task_status

    # What the README's mapping says: an incomplete request is received; the
    # acknowledgement of an eligible request, already routed, is in progress.
    assert task_status(CaseStatus.INCOMPLETE) == "received"
    assert (task_status(CaseStatus.ROUTED), status_view(CaseStatus.ROUTED, None).code) == (
        "in-progress",
        "oriente",
    )
    # A case's life never moves its Task backwards.
    lives = [
        ("received", "incomplete", "routed", "completed"),  # signalement: a GP accepts
        ("received", "routed", "waiting_coordinator", "routed", "completed"),
        ("received", "routed", "accepted", "completed"),  # télé-expertise: avis relayed
        ("received", "eligible", "routed", "closed"),  # DAC, closed by a coordinator
        ("received", "completed"),  # médecin référent
        ("received", "ineligible"),
        ("received", "rejected"),
    ]
    for life in lives:
        ranks = [_RANK[task_status(CaseStatus(s))] for s in life]
        assert ranks == sorted(ranks), life


# 10. A forwarded original is a message/rfc822 part, its bytes as received.


def test_forwarded_original_is_message_rfc822_even_with_8bit_bytes() -> None:
    original = (
        "From: Dr Anne Roux <anne.roux@medecin.test>\r\n"
        "Subject: Demande\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        "Lésion pigmentée du dos, évolutive.\r\n"
    ).encode()
    reply = _renderer().compose(
        _facts(ReplyKind.TE_REQUEST, full=False),
        to_addr="requis@medecin.test",
        cause_key="offer:1",
        original_subject="",
        in_reply_to=None,
        references=[],
        date=WHEN,
        attachments=[
            OutboundAttachment("demande-AIG-2026-000042.eml", "message/rfc822", original),
            OutboundAttachment("ascii.eml", "message/rfc822", b"From: a\n\nbody\n"),
        ],
    )
    assert original in reply.raw  # as received, not re-encoded
    assert b"\r\nFrom: a\r\n\r\nbody\r\n" in reply.raw  # lines end in CRLF, as SMTP wants
    msg = _parse(reply.raw)
    assert not msg.defects
    parts = {p.get_filename(): p for p in msg.iter_attachments()}
    eight, seven = parts["demande-AIG-2026-000042.eml"], parts["ascii.eml"]
    assert eight.get_content_type() == seven.get_content_type() == "message/rfc822"
    assert (eight["Content-Transfer-Encoding"], seven["Content-Transfer-Encoding"]) == (
        "8bit",
        "7bit",
    )
    inner = eight.get_content()
    assert inner["From"] == "Dr Anne Roux <anne.roux@medecin.test>"
    assert inner.get_content().splitlines() == ["Lésion pigmentée du dos, évolutive."]


def test_smtp_asks_for_8bitmime_only_for_a_mail_with_8bit_bytes() -> None:
    async def scenario() -> SmtpPeer:
        peer = SmtpPeer()
        async with smtp_peer(peer) as config:
            transport = SmtpTransport(config)
            raw = b"Subject: x\r\n\r\nd\xc3\xa9j\xc3\xa0 vu\r\n"
            await transport.send(SmtpEnvelope("cpts@x.test", "dr@x.test", raw))
            await transport.send(
                SmtpEnvelope("cpts@x.test", "dr@x.test", b"Subject: y\r\n\r\nok\r\n")
            )
            await transport.close()
        return peer

    peer = asyncio.run(scenario())
    mails = [c for c in peer.commands if c.upper().startswith("MAIL FROM")]
    assert len(mails) == 2
    assert "BODY=8BITMIME" in mails[0].upper() and "BODY=8BITMIME" not in mails[1].upper()


# 9 and 12. The summary: a postal code is not a commune; an infant's situation is stated.


def _summary(request: Request, ages: AgeCriteria) -> dict[str, str]:
    found = summary(["patient", "situation"], None, request, ON, identity=False, ages=ages)
    return {line.label: line.value for line in found}


def test_summary_names_a_postal_code_as_such_and_states_an_infants_situation() -> None:
    ages = AgeCriteria(older_than_years=70, child_max_months=18)
    infant = Request(
        patient=Patient(birth_date=date(2025, 5, 10), postal_code="88400", city="Gérardmer")
    )
    lines = _summary(infant, ages)
    assert lines == {
        "Âge": "9 mois",
        "Commune": "Gérardmer (88400)",
        "Situation": "enfant de 18 mois ou moins",
    }
    elder_ald = Request(
        patient=Patient(birth_date=date(1948, 3, 12), postal_code="88400"),
        situation=Situation(ald_declared=True),
    )
    lines = _summary(elder_ald, ages)
    assert lines["Code postal"] == "88400" and "Commune" not in lines
    assert lines["Situation"] == "affection de longue durée, plus de 70 ans"
    # Without the programme's age criteria (a DAC request), age alone is no situation.
    assert summary(["situation"], None, infant, ON, identity=False) == []


def test_dac_referral_gives_the_requesters_address_once() -> None:
    text = _renderer().text(
        _facts(
            ReplyKind.DAC_REFERRAL,
            full=False,
            requester_email="as@ccas.test",
            summary=[SummaryLine(label="Adressé par", value="as@ccas.test")],
        )
    )
    assert text.count("as@ccas.test") == 1
    # A programme whose summary leaves the sender out still tells the team who asks.
    alone = _renderer().text(_facts(ReplyKind.DAC_REFERRAL, full=False, requester_email="as@x"))
    assert "Demandeur : as@x" in alone


# 11. The requis sees who asks.


def test_te_request_names_the_requerant() -> None:
    named = _facts(
        ReplyKind.TE_REQUEST,
        full=False,
        requester_name="Dr Anne Roux",
        requester_email="anne.roux@medecin.test",
    )
    text = _renderer().text(named)
    assert "Dr Anne Roux (anne.roux@medecin.test) sollicite un avis de télé-expertise" in text
    anonymous = named.model_copy(update={"requester_name": None})
    assert "(anne.roux@medecin.test) sollicite" in _renderer().text(anonymous)


# 13. Articles, and never two blank lines in a row.


def test_structure_name_takes_its_article() -> None:
    assert structure_names("CPTS de démonstration") == (
        "la CPTS de démonstration",
        "La CPTS de démonstration",
        "de la CPTS de démonstration",
    )
    assert structure_names("DAC des Vosges")[2] == "du DAC des Vosges"
    assert structure_names("La CPTS du Val")[0] == "la CPTS du Val"
    assert structure_names("Santé Vosges") == ("Santé Vosges", "Santé Vosges", "de Santé Vosges")
    offer = _renderer().text(_facts(ReplyKind.OFFER, full=True))
    assert offer.splitlines()[2].startswith("La CPTS de démonstration recherche un médecin")
    assert "Aiguilleur, pour la CPTS de démonstration\n" in offer


@pytest.mark.parametrize("full", [True, False], ids=["every-field", "bare"])
@pytest.mark.parametrize("kind", list(ReplyKind), ids=lambda k: k.value)
def test_no_mail_has_two_blank_lines_in_a_row(kind: ReplyKind, full: bool) -> None:
    text = _renderer().text(_facts(kind, full=full))
    assert "\n\n\n" not in text, text
    assert text.startswith("Bonjour,\n\n") and not text.startswith("Bonjour,\n\n\n")
    assert "  \n" not in text and "{{" not in text and "{%" not in text
