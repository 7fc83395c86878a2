"""The retention policy run by the real daemon's timers, with its clock moved past the terms.

The daemon is restarted with the test clock ``retention_clock=+1000d`` (gateway/failpoints.py):
only the retention policy's "now" moves, so everything handled in the first run is past every
default term (12 months raw, 24 months closed cases).
"""

from __future__ import annotations

import json

import pytest
from sqlmodel import col, select

from deploy.mailstack import MailUser
from gateway.storage import repo
from gateway.storage.db import make_engine
from gateway.storage.models import CaseEvent, RetentionRun
from tests.e2e.harness import Gateway, signalement_mail, wait_until
from tests.support.replies import reply_to

pytestmark = pytest.mark.e2e


def _runs(gateway: Gateway) -> list[RetentionRun]:
    engine = make_engine(gateway.db_url)
    try:
        with repo.session_for(engine) as session:
            return list(session.exec(select(RetentionRun).order_by(col(RetentionRun.id))).all())
    finally:
        engine.dispose()


def _events(gateway: Gateway, case_id: int) -> list[CaseEvent]:
    engine = make_engine(gateway.db_url)
    try:
        with repo.session_for(engine) as session:
            return list(session.exec(select(CaseEvent).where(CaseEvent.case_id == case_id)).all())
    finally:
        engine.dispose()


def _accept(gateway: Gateway, gp: MailUser) -> None:
    wait_until(lambda: len(gateway.replies_to(gp)) == 1, what="the offer to the GP")
    offer = gateway.replies_to(gp)[0]
    gateway.send(reply_to(offer, gp.address, "J'accepte."))


def test_the_daemon_purges_raw_mail_and_reduces_closed_cases(
    gateway: Gateway, professional: MailUser
) -> None:
    gp = next(u for u in gateway.stack.users if u.address == gateway.doctors[0].email)
    gateway.start()
    gateway.send(signalement_mail(professional.address, gateway.address))
    _accept(gateway, gp)
    wait_until(
        lambda: [c.status for c in gateway.db().cases()] == ["completed"],
        timeout=60,
        what="the case completed",
    )
    wait_until(
        lambda: all(o.status == "sent" for o in gateway.db().outbound()),
        timeout=60,
        what="every reply sent",
    )
    # The first timers pass ran the policy at the real time: nothing was due.
    wait_until(lambda: len(_runs(gateway)) >= 1, what="a first retention pass")
    first = _runs(gateway)[0]
    assert json.loads(first.counts_json)["cases_reduced"] == 0
    assert gateway.terminate() == 0
    (before,) = gateway.db().cases()
    assert before.patient_family_name == "DURAND"
    assert before.reduced_at is None
    db = gateway.db()
    assert all(db.raw(m) for m in db.inbound())

    # 1000 days later, for the retention policy only.
    gateway.start(failpoints="retention_clock=+1000d")

    def reduced() -> bool:
        return any(json.loads(r.counts_json).get("cases_reduced") for r in _runs(gateway))

    wait_until(reduced, timeout=60, what="the retention pass that reduces the case")
    assert gateway.terminate() == 0

    (case,) = gateway.db().cases()
    assert case.reduced_at is not None
    # The audit trail: reference, programme, status, dates, the professional who took it.
    assert case.reference == before.reference and case.programme == "signalement"
    assert case.status == "completed" and case.opened_at == before.opened_at
    assert case.closed_at == before.closed_at and case.doctor_rpps == "10000000001"
    # The personal data: gone.
    assert (case.patient_family_name, case.patient_ins, case.request_json, case.sender) == (
        None,
        None,
        None,
        None,
    )
    inbound = gateway.db().inbound()
    assert len(inbound) == 2 and all(db.raw(m) == b"" and m.parsed_json is None for m in inbound)
    outbound = gateway.db().outbound()
    assert outbound and all(db.raw(o) == b"" and o.subject == "" for o in outbound)
    assert all(o.status == "sent" and o.message_id for o in outbound)
    assert case.id is not None
    events = _events(gateway, case.id)
    assert events and all(e.detail_json == "{}" for e in events)
    assert len({e.kind for e in events}) > 1  # the kinds of what happened stay
    logs = gateway.logs()
    assert "retention_test_clock" in logs and "retention_pass" in logs
    assert "DURAND" not in logs
