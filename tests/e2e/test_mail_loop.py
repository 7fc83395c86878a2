"""The secure-mail loop end to end: Postfix → Dovecot → `aiguilleur run` → Postfix → Dovecot."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.task import Task

from deploy.mailstack import MailUser
from tests.e2e.harness import Gateway, signalement_mail, task_of, wait_until

pytestmark = pytest.mark.e2e


def test_acknowledgement_round_trip(gateway: Gateway, professional: MailUser) -> None:
    gateway.start()
    sent_id = gateway.send(signalement_mail(professional.address, gateway.address))

    wait_until(lambda: len(gateway.replies_to(professional)) == 1, what="the acknowledgement")
    reply = gateway.replies_to(professional)[0]
    assert reply["In-Reply-To"] == sent_id
    assert sent_id in reply["References"]
    assert reply["Auto-Submitted"] == "auto-replied"

    task = task_of(reply)
    Task.model_validate(task)  # a valid FHIR R4 Task
    cases = gateway.db().cases()
    assert len(cases) == 1
    identifier = task["identifier"]
    assert isinstance(identifier, list)
    assert identifier[0]["value"] == cases[0].reference
    assert reply["Subject"].startswith(f"[{cases[0].reference}]")
    # Eligible and already offered to the roster's GP: the Task is in progress.
    assert task["status"] == "in-progress"

    # The original lies in the processed folder, and no longer in the watched one.
    wait_until(lambda: len(gateway.processed()) == 1, what="the move to Traites")
    assert gateway.processed()[0]["Message-ID"] == sent_id
    assert gateway.inbox() == []
    # The offer leaves through the outbox on its own schedule: wait for it, then check both.
    wait_until(
        lambda: (
            sorted((o.kind, o.status) for o in gateway.db().outbound())
            == [("ack", "sent"), ("offer", "sent")]
        ),
        what="the acknowledgement and the offer sent",
    )

    assert gateway.terminate() == 0  # SIGTERM drains cleanly
    logs = gateway.logs()
    assert "message_processed" in logs and "reply_delivered" in logs
    for secret in ("DURAND", "Jeanne", "12/03/1948", "1948-03-12", "Gérardmer", "sans médecin"):
        assert secret not in logs, f"patient data in logs: {secret}"


def test_loop_protection_sends_no_reply(gateway: Gateway, professional: MailUser) -> None:
    gateway.start()
    auto = signalement_mail(professional.address, gateway.address, subject="Absent")
    auto["Auto-Submitted"] = "auto-replied"
    gateway.send(auto)
    bounce = signalement_mail(
        f"MAILER-DAEMON@{professional.address.split('@')[1]}", gateway.address
    )
    gateway.send(bounce, mail_from="")
    own = signalement_mail(gateway.address, gateway.address, subject="Re: our own reply")
    gateway.send(own)
    bulk = signalement_mail(professional.address, gateway.address, subject="Lettre d'info")
    bulk["Precedence"] = "bulk"
    gateway.send(bulk)
    # A genuine request after them: once it is answered, the others have been handled too.
    control_id = gateway.send(signalement_mail(professional.address, gateway.address))

    wait_until(lambda: len(gateway.replies_to(professional)) >= 1, what="the control reply")
    wait_until(
        lambda: sum(1 for m in gateway.db().inbound() if m.status in ("ignored", "processed")) == 5,
        what="all five messages handled",
    )
    replies = gateway.replies_to(professional)
    assert [r["In-Reply-To"] for r in replies] == [control_id]
    assert gateway.replies_to(gateway.mailbox) == []  # nothing sent to ourselves
    statuses = sorted(m.status for m in gateway.db().inbound())
    assert statuses == ["ignored"] * 4 + ["processed"]
    # The control request's acknowledgement and its offer to the GP, nothing else.
    assert sorted(o.kind for o in gateway.db().outbound()) == ["ack", "offer"]
    gateway.terminate()
