"""The truth about delivery, through the real Postfix and Dovecot and the daemon subprocess.

An offer to an address Postfix accepts but Dovecot does not know bounces: Postfix sends a
genuine DSN back to the gateway's mailbox (the envelope sender), the daemon ties it to the
offer by its Message-ID, and the next doctor gets the offer. A request that asks for an
MDN gets exactly one; an auto-reply that asks gets none.
"""

from __future__ import annotations

import re
import uuid
from email.message import EmailMessage

import httpx
import pytest
from sqlmodel import col, select

from deploy.mailstack import MailUser
from gateway.cli.demo_routing import DemoDoctor
from gateway.storage import repo
from gateway.storage.db import make_engine
from gateway.storage.models import CaseEvent
from gateway.storage.web_models import Role
from gateway.web.users import add_user
from tests.e2e.harness import Gateway, signalement_mail, wait_until
from tests.gateway.cases.test_receipts import notification_fields
from tests.support.browser import free_port
from tests.support.web import PASSWORD

pytestmark = pytest.mark.e2e


def _events(gateway: Gateway) -> list[str]:
    engine = make_engine(gateway.db_url)
    try:
        with repo.session_for(engine) as session:
            return [e.kind for e in session.exec(select(CaseEvent).order_by(col(CaseEvent.id)))]
    finally:
        engine.dispose()


def _offers(gateway: Gateway, user: MailUser) -> list[EmailMessage]:
    return [m for m in gateway.replies_to(user) if "Proposition" in str(m["Subject"])]


def _case_page(gateway: Gateway, reference: str) -> str:
    """The case page as a coordinator reads it, from the daemon's own web server."""
    engine = make_engine(gateway.db_url)
    try:
        with repo.session_for(engine) as session:
            add_user(session, "claire", PASSWORD, Role.COORDINATOR, "Claire Lemoine")
            session.commit()
    finally:
        engine.dispose()

    def up() -> bool:
        try:
            return httpx.get(gateway.web_url + "/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    wait_until(up, what="the web UI")
    with httpx.Client(base_url=gateway.web_url) as client:
        form = client.get("/login").text
        token = re.search(r'name="csrf" value="([^"]+)"', form)
        assert token is not None
        data = {"csrf": token.group(1), "username": "claire", "password": PASSWORD, "next": "/"}
        assert client.post("/login", data=data).status_code == 303
        return client.get(f"/cases/{reference}").text


def test_a_bounced_offer_goes_to_the_next_doctor(gateway: Gateway, professional: MailUser) -> None:
    # Never added to the stack: Postfix accepts the domain, Dovecot's LMTP refuses the user.
    gone = f"gp-parti-{uuid.uuid4().hex[:8]}@medecin.test"
    gp2 = gateway.stack.add_user(f"gp2-{uuid.uuid4().hex[:8]}@medecin.test")
    gateway.doctors[:] = [
        DemoDoctor("10000000001", "Dr Claire Martin", gone),
        DemoDoctor("10000000002", "Dr Hugo Bernard", gp2.address),
    ]
    gateway.web_port = free_port()
    gateway.start()
    gateway.send(signalement_mail(professional.address, gateway.address))

    wait_until(lambda: len(_offers(gateway, gp2)) == 1, timeout=60, what="the offer to gp2")
    db = gateway.db()
    first, second = sorted(db.offers(), key=lambda o: o.id or 0)
    assert first.doctor_email == gone and first.status == "bounced"
    assert second.doctor_email == gp2.address and second.status == "pending"
    (bounced,) = [o for o in db.outbound() if o.recipient == gone]
    assert bounced.kind == "offer" and bounced.status == "bounced"
    assert bounced.dsn_status == "5.1.1"  # Dovecot: "550 5.1.1 … User doesn't exist"
    assert bounced.dsn_diagnostic and gone in bounced.dsn_diagnostic
    # The DSN itself was processed and filed with the case, not ignored.
    (case,) = db.cases()
    dsns = [m for m in db.inbound() if b"delivery-status" in db.raw(m)]
    assert len(dsns) == 1 and dsns[0].status == "processed" and dsns[0].case_id == case.id
    events = _events(gateway)
    assert "reply_bounced" in events and "offer_bounced" in events
    assert events.index("offer_bounced") < len(events) - 1
    assert events.count("offer_sent") == 2
    # The coordinator's timeline says it in French, with the server's code.
    page = _case_page(gateway, case.reference)
    assert "Courriel non distribué" in page and "Proposition non distribuée" in page
    assert "non distribué (retour du serveur)" in page and "5.1.1" in page
    assert gateway.terminate() == 0
    logs = gateway.logs()
    assert "reply_bounced" in logs
    for secret in ("DURAND", "Jeanne", "12/03/1948", "Gérardmer"):
        assert secret not in logs


def test_exactly_one_mdn_and_none_for_an_auto_reply(
    gateway: Gateway, professional: MailUser
) -> None:
    gateway.start()
    asking = signalement_mail(professional.address, gateway.address)
    asking["Disposition-Notification-To"] = professional.address
    asked_id = gateway.send(asking)
    auto = signalement_mail(professional.address, gateway.address, subject="Absent du cabinet")
    auto["Disposition-Notification-To"] = professional.address
    auto["Auto-Submitted"] = "auto-replied"
    gateway.send(auto)

    def mdns() -> list[EmailMessage]:
        return [
            m
            for m in gateway.replies_to(professional)
            if m.get_param("report-type") == "disposition-notification"
        ]

    wait_until(lambda: len(mdns()) == 1, timeout=60, what="the MDN")
    wait_until(
        lambda: sorted(m.status for m in gateway.db().inbound()) == ["ignored", "processed"],
        what="both messages handled",
    )
    wait_until(
        lambda: all(o.status == "sent" for o in gateway.db().outbound()), what="the outbox drained"
    )
    (mdn,) = mdns()
    assert mdn["In-Reply-To"] == asked_id
    assert mdn["Auto-Submitted"] == "auto-replied"
    _, notification, _ = mdn.iter_parts()
    fields = notification_fields(notification)
    assert "processed" in fields["Disposition"]
    assert fields["Original-Message-ID"] == asked_id
    kinds = sorted(o.kind for o in gateway.db().outbound())
    assert kinds.count("mdn") == 1
    gateway.terminate()
