"""Crash windows and server faults: nothing lost, the acknowledgement arrives exactly once."""

from __future__ import annotations

import pytest

from deploy.mailstack import MailUser
from gateway.storage.models import OutboundMessage
from tests.e2e.harness import Gateway, signalement_mail, wait_until

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    "failpoint",
    ["ingest.after_commit", "pipeline.after_parse", "pipeline.after_decide"],
)
def test_crash_window_then_restart_replies_exactly_once(
    gateway: Gateway, professional: MailUser, failpoint: str
) -> None:
    gateway.start(failpoints=failpoint)
    sent_id = gateway.send(signalement_mail(professional.address, gateway.address))
    gateway.wait_exit(timeout=30)  # the daemon SIGKILLs itself at the failpoint
    assert gateway.proc is not None and gateway.proc.returncode == -9

    gateway.start()
    wait_until(lambda: len(gateway.replies_to(professional)) >= 1, what="the acknowledgement")
    wait_until(lambda: len(gateway.processed()) == 1, what="the move to Traites")
    gateway.terminate()
    replies = gateway.replies_to(professional)
    assert len(replies) == 1, "the acknowledgement must arrive exactly once"
    assert replies[0]["In-Reply-To"] == sent_id
    assert len(gateway.db().inbound()) == 1 and len(gateway.db().cases()) == 1
    assert gateway.inbox() == []


def _acks(gateway: Gateway) -> list[OutboundMessage]:
    """The acknowledgements to the professional (each case also sends an offer to the GP)."""
    return [o for o in gateway.db().outbound() if o.kind == "ack"]


def test_postfix_down_with_replies_pending_then_sigkill_and_restart(
    gateway: Gateway, professional: MailUser
) -> None:
    """Replies pile up while Postfix is down; the daemon is SIGKILLed with them pending, then
    restarted: once Postfix is back every acknowledgement arrives, each exactly once."""
    sent = [gateway.send(signalement_mail(professional.address, gateway.address)) for _ in range(3)]
    wait_until(lambda: len(gateway.inbox()) == 3, what="delivery to the gateway mailbox")
    gateway.stack.stop_postfix()
    try:
        gateway.start()
        wait_until(
            lambda: sum(o.attempts >= 1 for o in _acks(gateway)) == 3,
            what="three replies tried and pending",
        )
        assert all(o.status == "pending" for o in gateway.db().outbound())
        gateway.kill()
        gateway.start()  # restarted while Postfix is still down
        wait_until(
            lambda: sum(o.attempts >= 2 for o in _acks(gateway)) == 3,
            what="the retries after restart",
        )
    finally:
        gateway.stack.start_postfix()
    wait_until(
        lambda: len(gateway.replies_to(professional)) == 3, timeout=60, what="all three replies"
    )
    gateway.terminate()
    replies = gateway.replies_to(professional)
    assert sorted(r["In-Reply-To"] for r in replies) == sorted(sent)
    assert all(o.status == "sent" for o in _acks(gateway))


def test_dovecot_restart_ingest_reconnects(gateway: Gateway, professional: MailUser) -> None:
    gateway.start()
    first = gateway.send(signalement_mail(professional.address, gateway.address))
    wait_until(lambda: len(gateway.replies_to(professional)) == 1, what="the first reply")
    gateway.stack.restart_dovecot()
    second = gateway.send(signalement_mail(professional.address, gateway.address))
    wait_until(
        lambda: len(gateway.replies_to(professional)) == 2,
        timeout=60,
        what="the reply after restart",
    )
    assert gateway.alive()
    gateway.terminate()
    assert {r["In-Reply-To"] for r in gateway.replies_to(professional)} == {first, second}
    assert "imap_disconnected" in gateway.logs()
