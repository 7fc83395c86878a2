"""A DSN for one of our mails, through the pipeline: the mail is marked bounced, an offer
moves to the next doctor, a bounced acknowledgement alerts the coordinators."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from gateway.cases.timers import Timers
from gateway.config import Config, parse_config
from gateway.metrics import Metrics
from gateway.pipeline.worker import Pipeline
from gateway.storage import repo
from gateway.storage.models import (
    Case,
    CaseEvent,
    InboundMessage,
    Offer,
    OutboundMessage,
)
from tests.support.mail_rows import raw_of
from tests.support.pipeline import pipeline_for, renderer_for, store_inbound
from tests.support.routing import demo_services

GATEWAY = "signalement@cpts.test"
COORDINATOR = "coordination@cpts.test"
SENDER = "dr@medecin.test"
COMPLETE = (
    "Nom : DURAND\nPrénom : Jeanne\nDate de naissance : 12/03/1948\n"
    "Code postal : 88400\nCommune : Gérardmer\nMédecin traitant : non\nALD : oui\n"
)


def _config() -> Config:
    return parse_config(
        {
            "mailboxes": [
                {"name": "sig", "address": GATEWAY, "programme": "signalement", "host": "x"}
            ],
            "smtp": {"from_address": GATEWAY},
            "pipeline": {"retry_delay": 0},
            "routing": {"coordinator_addresses": [COORDINATOR]},
        },
        environ={},
    )


@pytest.fixture
def pipeline(engine: Engine) -> Pipeline:
    return pipeline_for(engine, _config())


def _request() -> bytes:
    msg = EmailMessage()
    msg["From"] = SENDER
    msg["To"] = GATEWAY
    msg["Subject"] = "Signalement"
    msg["Message-ID"] = "<req-1@medecin.test>"
    msg.set_content(COMPLETE)
    return bytes(msg)


def dsn(
    returned: bytes,
    recipient: str,
    *,
    action: str = "failed",
    status: str = "5.1.1",
    headers_only: bool = False,
) -> bytes:
    """A bounce as Postfix writes it, returning ``returned`` (or only its headers)."""
    head = returned.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    third = (
        b"Content-Type: text/rfc822-headers\r\n\r\n" + head + b"\r\n"
        if headers_only
        else b"Content-Type: message/rfc822\r\n\r\n" + returned
    )
    return (
        b"Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.medecin.test (Mail Delivery System)\r\n"
        b"To: " + GATEWAY.encode() + b"\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b"Message-ID: <bounce." + status.encode() + b"." + recipient.encode() + b">\r\n"
        b"Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you.\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.medecin.test\r\n\r\n"
        b"Final-Recipient: rfc822; " + recipient.encode() + b"\r\n"
        b"Action: " + action.encode() + b"\r\nStatus: " + status.encode() + b"\r\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 <" + recipient.encode() + b">: User unknown\r\n"
        b"\r\n--B\r\n" + third + b"\r\n--B--\r\n"
    )


def _all(engine: Engine, model: type) -> list:  # type: ignore[type-arg]
    with repo.session_for(engine) as s:
        return list(s.exec(select(model).order_by(model.id)).all())  # type: ignore[attr-defined]


def _outbound(engine: Engine, kind: str, to: str | None = None) -> OutboundMessage:
    rows = [r for r in _all(engine, OutboundMessage) if r.kind == kind]
    rows = [r for r in rows if to is None or r.recipient == to]
    assert len(rows) == 1, [(r.kind, r.recipient) for r in _all(engine, OutboundMessage)]
    found: OutboundMessage = rows[0]
    return found


def _sent(engine: Engine, kind: str, to: str | None = None) -> bytes:
    """The bytes of the one mail of ``kind`` (to ``to``) that was queued."""
    row = _outbound(engine, kind, to)
    with repo.session_for(engine) as session:
        return raw_of(session, row)


async def _opened(engine: Engine, pipeline: Pipeline) -> Case:
    store_inbound(engine, _request(), "request")
    await pipeline.drain()
    cases: list[Case] = _all(engine, Case)
    assert len(cases) == 1
    return cases[0]


async def test_a_bounced_offer_goes_to_the_next_doctor(engine: Engine, pipeline: Pipeline) -> None:
    case = await _opened(engine, pipeline)
    offer_mail = _sent(engine, "offer", "claire.martin@medecin.test")
    inbound = store_inbound(engine, dsn(offer_mail, "claire.martin@medecin.test"), "dsn")
    (outcome,) = await pipeline.drain()

    assert outcome.status == "processed" and outcome.case_reference == case.reference
    (row,) = [r for r in _all(engine, InboundMessage) if r.id == inbound]
    assert row.case_id == case.id  # the report is filed with the case it concerns
    bounced = _outbound(engine, "offer", "claire.martin@medecin.test")
    assert bounced.status == "bounced" and bounced.dsn_status == "5.1.1"
    assert bounced.dsn_diagnostic is not None and "User unknown" in bounced.dsn_diagnostic
    assert bounced.bounced_at is not None
    first, second = _all(engine, Offer)
    assert first.status == "bounced" and first.doctor_email == "claire.martin@medecin.test"
    assert second.status == "pending" and second.doctor_email == "hugo.bernard@medecin.test"
    assert _outbound(engine, "offer", "hugo.bernard@medecin.test").status == "pending"
    kinds = [e.kind for e in _all(engine, CaseEvent)]
    assert kinds[-4:] == ["reply_bounced", "offer_bounced", "reply_queued", "offer_sent"]
    # No coordinator is bothered: the offer moved on by itself.
    assert not [r for r in _all(engine, OutboundMessage) if r.kind == "coordinator_alert"]

    # The same report again (another copy of the bounce) changes nothing more.
    store_inbound(engine, dsn(offer_mail, "claire.martin@medecin.test", status="5.1.10"), "again")
    await pipeline.drain()
    assert len(_all(engine, Offer)) == 2
    assert _outbound(engine, "offer", "claire.martin@medecin.test").dsn_status == "5.1.1"


async def test_a_bounced_acknowledgement_alerts_the_coordinators(
    engine: Engine, pipeline: Pipeline
) -> None:
    case = await _opened(engine, pipeline)
    ack = _sent(engine, "ack")
    store_inbound(engine, dsn(ack, SENDER, headers_only=True), "dsn")
    await pipeline.drain()

    assert _outbound(engine, "ack").status == "bounced"
    alert = _sent(engine, "coordinator_alert", COORDINATOR)
    text = email.message_from_bytes(alert, policy=email.policy.default)
    assert isinstance(text, EmailMessage)
    body = text.get_body(("plain",))
    assert body is not None
    content = str(body.get_content())
    assert "« Accusé de réception »" in content and SENDER in content and "5.1.1" in content
    offers = _all(engine, Offer)
    assert [o.status for o in offers] == ["pending"]  # the routing goes on meanwhile
    with repo.session_for(engine) as s:
        assert s.get(Case, case.id).status == "routed"  # type: ignore[union-attr]

    # The alert itself bouncing is recorded, and alerts nobody again (no loop).
    store_inbound(engine, dsn(alert, COORDINATOR), "alert-dsn")
    await pipeline.drain()
    assert _outbound(engine, "coordinator_alert", COORDINATOR).status == "bounced"
    assert len([r for r in _all(engine, OutboundMessage) if r.kind == "coordinator_alert"]) == 1


async def test_a_delayed_report_is_noted_and_bounces_nothing(
    engine: Engine, pipeline: Pipeline
) -> None:
    await _opened(engine, pipeline)
    offer_mail = _sent(engine, "offer")
    raw = dsn(offer_mail, "claire.martin@medecin.test", action="delayed", status="4.4.1")
    store_inbound(engine, raw, "dsn")
    (outcome,) = await pipeline.drain()

    assert outcome.status == "processed"
    assert _outbound(engine, "offer").status == "pending"  # never sent here: unchanged
    assert [o.status for o in _all(engine, Offer)] == ["pending"]
    (event,) = [e for e in _all(engine, CaseEvent) if e.kind == "reply_delayed"]
    assert '"delivery_status": "4.4.1"' in event.detail_json


async def test_a_report_on_a_mail_not_ours_is_ignored(engine: Engine, pipeline: Pipeline) -> None:
    await _opened(engine, pipeline)
    foreign = b"From: x@y.test\r\nMessage-ID: <CAF00@mail.gmail.test>\r\n\r\nhello\r\n"
    store_inbound(engine, dsn(foreign, "someone@y.test"), "dsn")
    (outcome,) = await pipeline.drain()
    assert outcome.status == "ignored"
    assert not [r for r in _all(engine, OutboundMessage) if r.status == "bounced"]
    # A success report for our own mail is no bounce either.
    offer_mail = _sent(engine, "offer")
    raw = dsn(offer_mail, "claire.martin@medecin.test", action="delivered", status="2.0.0")
    store_inbound(engine, raw, "success")
    (outcome,) = await pipeline.drain()
    assert outcome.status == "ignored"


async def test_bounces_are_counted_in_the_metrics(engine: Engine, pipeline: Pipeline) -> None:
    await _opened(engine, pipeline)
    offer_mail = _sent(engine, "offer")
    store_inbound(engine, dsn(offer_mail, "claire.martin@medecin.test"), "dsn")
    await pipeline.drain()
    metrics = Metrics()
    metrics.watch_database(engine, {"sig": "signalement"})
    text = metrics.render().decode()
    assert 'aiguilleur_bounces_total{kind="offer"} 1.0' in text
    assert 'aiguilleur_outbound_messages{kind="offer",status="bounced"} 1.0' in text


async def test_no_patient_data_in_the_bounce_logs(engine: Engine, pipeline: Pipeline) -> None:
    from structlog.testing import capture_logs

    await _opened(engine, pipeline)
    ack = _sent(engine, "ack")
    store_inbound(engine, dsn(ack, SENDER), "dsn")
    with capture_logs() as logs:
        await pipeline.drain()
    (bounce,) = [e for e in logs if e["event"] == "reply_bounced"]
    assert bounce["status"] == "5.1.1" and bounce["effect"] == "coordinators_alerted"
    flat = repr(logs)
    for secret in ("DURAND", "Jeanne", "1948", "Gérardmer", SENDER):
        assert secret not in flat


async def test_an_offer_our_relay_refuses_for_good_goes_to_the_next_doctor(
    engine: Engine, pipeline: Pipeline
) -> None:
    # A 5xx at RCPT time: no DSN will ever come, the outbox marks the mail failed. The next
    # timer pass declines the offer as a bounce would, and the next doctor gets it.
    await _opened(engine, pipeline)
    refused = _outbound(engine, "offer", "claire.martin@medecin.test")
    with repo.session_for(engine) as s:
        row = s.get_one(OutboundMessage, refused.id)
        row.status = "failed"
        row.last_error = "550 5.1.1 <claire.martin@medecin.test>: Recipient address rejected"
        s.commit()
    config = _config()
    timers = Timers(
        engine=engine,
        services=demo_services(config),
        renderer=renderer_for(config),
    )
    assert timers.run_once().refused == 1
    first, second = _all(engine, Offer)
    assert first.status == "bounced" and second.status == "pending"
    assert second.doctor_email == "hugo.bernard@medecin.test"
    assert _outbound(engine, "offer", "claire.martin@medecin.test").status == "failed"
    assert timers.run_once().refused == 0  # once only
    assert len(_all(engine, Offer)) == 2
