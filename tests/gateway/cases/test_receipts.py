"""MDNs (RFC 8098): one per message that asks with Disposition-Notification-To, never to
automatic mail, queued in the outbox with a deterministic Message-ID."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage, Message

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from gateway.config import Config, parse_config
from gateway.pipeline.worker import Pipeline
from gateway.replies.facts import ReplyFacts, ReplyKind
from gateway.replies.mdn import DISPOSITION, ORIGINAL_MAX_BYTES, Disposition, compose_mdn
from gateway.storage import repo
from gateway.storage.models import CaseEvent, OutboundMessage, utcnow
from tests.support.mail_rows import raw_of
from tests.support.pipeline import pipeline_for, renderer_for, store_inbound

GATEWAY = "signalement@cpts.test"
SENDER = "dr@medecin.test"
COMPLETE = (
    "Nom : DURAND\nPrénom : Jeanne\nDate de naissance : 12/03/1948\n"
    "Code postal : 88400\nCommune : Gérardmer\nMédecin traitant : non\nALD : oui\n"
)


def _config(rate_limit: int = 50) -> Config:
    return parse_config(
        {
            "mailboxes": [
                {"name": "sig", "address": GATEWAY, "programme": "signalement", "host": "x"}
            ],
            "smtp": {"from_address": GATEWAY},
            "pipeline": {"retry_delay": 0},
            "replies": {"rate_limit_per_hour": rate_limit},
        },
        environ={},
    )


def _pipeline(engine: Engine, config: Config | None = None) -> Pipeline:
    return pipeline_for(engine, config or _config())


def _mail(number: int = 1, *, return_path: str | None = SENDER, **headers: str) -> bytes:
    msg = EmailMessage()
    if return_path is not None:
        msg["Return-Path"] = f"<{return_path}>"
    msg["From"] = SENDER
    msg["To"] = GATEWAY
    msg["Subject"] = "Signalement"
    msg["Message-ID"] = f"<req-{number}@medecin.test>"
    for key, value in headers.items():
        msg[key.replace("_", "-")] = value
    msg.set_content(COMPLETE)
    return bytes(msg)


def _mdns(engine: Engine) -> list[OutboundMessage]:
    with repo.session_for(engine) as s:
        rows = s.exec(select(OutboundMessage).where(OutboundMessage.kind == "mdn")).all()
        return list(rows)


def notification_fields(part: Message) -> Message:
    """The fields of a message/disposition-notification part (the stdlib reads them as one
    header block)."""
    payload = part.get_payload()
    assert isinstance(payload, list)
    (block,) = payload
    assert isinstance(block, Message)
    return block


def _parsed(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


async def test_a_request_asking_for_one_gets_exactly_one_mdn(engine: Engine) -> None:
    pipeline = _pipeline(engine)
    store_inbound(engine, _mail(Disposition_Notification_To=SENDER), "a")
    (outcome,) = await pipeline.drain()
    (mdn,) = _mdns(engine)
    assert mdn.recipient == SENDER and mdn.case_id is not None
    assert mdn.cause_key.startswith("mdn:")
    with repo.session_for(engine) as s:
        msg = _parsed(raw_of(s, mdn))
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "disposition-notification"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["In-Reply-To"] == "<req-1@medecin.test>"
    assert msg["Disposition-Notification-To"] is None  # an MDN never asks for one
    assert str(msg["Subject"]).startswith(f"[{outcome.case_reference}] Accusé de traitement")
    text, notification, original = msg.iter_parts()
    assert "a été traité automatiquement" in str(text.get_content())
    block = notification_fields(notification)
    assert block["Disposition"] == DISPOSITION
    assert block["Original-Message-ID"] == "<req-1@medecin.test>"
    assert block["Final-Recipient"] == f"rfc822; {GATEWAY}"
    assert original.get_content_type() == "message/rfc822"
    events = []
    with repo.session_for(engine) as s:
        events = [
            e.detail_json for e in s.exec(select(CaseEvent)).all() if '"mdn"' in e.detail_json
        ]
    assert len(events) == 1

    # Seen again (a replay, another copy): the cause key keeps it to one MDN.
    store_inbound(engine, _mail(Disposition_Notification_To=SENDER, X_Copy="2"), "b")
    await pipeline.drain()
    assert len(_mdns(engine)) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},  # not asked
        {"Auto_Submitted": "auto-replied"},
        {"Precedence": "bulk"},
        {"Precedence": "list"},
        {"List_Id": "<liste.medecin.test>"},
    ],
    ids=["not-asked", "auto-replied", "bulk", "list", "mailing-list"],
)
async def test_no_mdn_for_automatic_mail_or_when_not_asked(
    engine: Engine, headers: dict[str, str]
) -> None:
    asked = {"Disposition_Notification_To": SENDER} if headers else {}
    store_inbound(engine, _mail(1, **headers, **asked), "a")
    await _pipeline(engine).drain()
    assert _mdns(engine) == []


async def test_no_mdn_to_another_address_than_the_return_path(engine: Engine) -> None:
    store_inbound(engine, _mail(1, Disposition_Notification_To="autre@ailleurs.test"), "a")
    store_inbound(engine, _mail(2, return_path=None, Disposition_Notification_To=SENDER), "b")
    two = f"{SENDER}, autre@ailleurs.test"
    store_inbound(engine, _mail(3, Disposition_Notification_To=two), "c")
    await _pipeline(engine).drain()
    assert _mdns(engine) == []


async def test_no_mdn_for_our_own_mail_or_a_report(engine: Engine) -> None:
    own = _mail(1, return_path=GATEWAY, Disposition_Notification_To=GATEWAY).replace(
        f"From: {SENDER}".encode(), f"From: {GATEWAY}".encode()
    )
    store_inbound(engine, own, "own")
    await _pipeline(engine).drain()
    assert _mdns(engine) == []


async def test_mdns_have_their_own_hourly_limit(engine: Engine) -> None:
    pipeline = _pipeline(engine, _config(rate_limit=2))
    for number in range(3):
        store_inbound(engine, _mail(number, Disposition_Notification_To=SENDER), f"m{number}")
    await pipeline.drain()
    assert len(_mdns(engine)) == 2
    # ...and do not eat the replies' budget: each request still got its reply up to the limit.
    with repo.session_for(engine) as s:
        replies = [r for r in s.exec(select(OutboundMessage)).all() if r.recipient == SENDER]
    assert len([r for r in replies if r.kind != "mdn"]) == 2


def _facts() -> ReplyFacts:
    return ReplyFacts(
        kind=ReplyKind.MDN,
        reference=None,
        programme=None,
        task_status="received",
        business_status="recu",
        business_status_fr="Reçu",
        received_at=utcnow(),
    )


def test_a_large_original_goes_back_as_its_headers_only() -> None:
    renderer = renderer_for(_config())
    big = _mail() + b"x" * (ORIGINAL_MAX_BYTES + 10)
    disposition = Disposition(
        to=SENDER,
        final_recipient=GATEWAY,
        original_message_id="<req-1@medecin.test>",
        original_subject="Signalement",
        original_references=(),
        original=big,
    )
    composed = compose_mdn(renderer, _facts(), disposition, cause_key="mdn:x", date=utcnow())
    assert len(composed.raw) < 20_000
    msg = _parsed(composed.raw)
    *_, returned = msg.iter_parts()
    assert returned.get_content_type() == "text/rfc822-headers"
    assert "Message-ID: <req-1@medecin.test>" in str(returned.get_content())
    again = compose_mdn(renderer, _facts(), disposition, cause_key="mdn:x", date=utcnow())
    assert again.message_id == composed.message_id  # deterministic: a crash cannot make two
