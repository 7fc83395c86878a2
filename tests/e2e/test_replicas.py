"""Two daemons on one PostgreSQL database and one mailbox, real Dovecot and Postfix.

Only the lease holder reads the mailbox; both decide and send; each message is stored
once; when the holder is SIGKILLed the other one reads the mailbox within 30 s.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest

from deploy.mailstack import MailStack, MailUser
from gateway.cli.demo_routing import DemoDoctor
from gateway.storage.lease_models import MailboxLease
from gateway.storage.models import InboundStatus
from tests.e2e.harness import Gateway, signalement_mail, wait_until

pytestmark = pytest.mark.e2e

TAKEOVER_LIMIT = 30.0  # the promise; the default lease is 15 s, renewed every 5 s
G = TypeVar("G", bound=Gateway)


def replicas(
    kind: type[G],
    names: Iterable[str],
    tmp_path: Path,
    stack: MailStack,
    db_url: str,
    mailbox: MailUser,
    doctors: Sequence[DemoDoctor],
    *,
    env: dict[str, str] | None = None,
    extra_mailboxes: Sequence[tuple[str, str, MailUser]] = (),
) -> dict[str, G]:
    """One daemon per name, all on ``db_url`` and ``mailbox``: each in a workdir of its own
    and known by its name (``AIGUILLEUR__INSTANCE``), with ``doctors`` as its roster."""
    made: dict[str, G] = {}
    for name in names:
        workdir = tmp_path / name
        workdir.mkdir()
        made[name] = kind(
            stack=stack,
            workdir=workdir,
            db_url=db_url,
            mailbox=mailbox,
            address=mailbox.address,
            extra_env={"AIGUILLEUR__INSTANCE": name, **(env or {})},
            doctors=list(doctors),
            extra_mailboxes=list(extra_mailboxes),
        )
    return made


def _holder(gateway: Gateway) -> tuple[str | None, datetime | None]:
    leases = gateway.db()._all(MailboxLease)
    live = [lease for lease in leases if lease.expires_at > datetime.now(UTC)]
    return (live[0].holder, live[0].acquired_at) if live else (None, None)


def test_two_replicas_store_each_message_once_and_the_survivor_takes_over(
    mail_stack: MailStack, pg_url: str, tmp_path: Path, professional: MailUser
) -> None:
    address = f"signalement-{uuid.uuid4().hex[:8]}@cpts.test"
    box = mail_stack.add_user(address, "gateway-secret")
    gp = mail_stack.add_user(f"gp-{uuid.uuid4().hex[:8]}@medecin.test")
    doctor = DemoDoctor("10000000001", "Dr Claire Martin", gp.address)
    daemons = replicas(
        Gateway, ("replica-1", "replica-2"), tmp_path, mail_stack, pg_url, box, [doctor]
    )
    try:
        for gateway in daemons.values():
            gateway.start()
        first = daemons["replica-1"]
        for _ in range(12):
            first.send(signalement_mail(professional.address, address))

        def processed(count: int) -> bool:
            rows = first.db().inbound()
            return sum(r.status == InboundStatus.PROCESSED for r in rows) >= count

        wait_until(lambda: processed(12), timeout=180, what="12 requests processed")
        assert all(g.alive() for g in daemons.values()), "a replica exited"
        holder, _ = _holder(first)
        assert holder in daemons

        # The holder dies without a word; the other reads the mailbox within 30 s.
        daemons[holder].kill()
        killed = time.monotonic()
        survivor = next(g for n, g in daemons.items() if n != holder)
        survivor_name = next(n for n in daemons if n != holder)
        for _ in range(4):
            survivor.send(signalement_mail(professional.address, address))
        wait_until(
            lambda: _holder(survivor)[0] == survivor_name,
            timeout=TAKEOVER_LIMIT + 5,
            what="the survivor holding the mailbox",
        )
        assert time.monotonic() - killed <= TAKEOVER_LIMIT
        wait_until(lambda: processed(16), timeout=120, what="16 requests processed")
        assert survivor.alive()

        rows = survivor.db().inbound()
        assert len(rows) == 16, [(r.uid, r.status) for r in rows]  # each message stored once
        assert len({r.message_id for r in rows}) == 16
        assert not [r for r in rows if r.status == InboundStatus.DUPLICATE]

        def acknowledged() -> int:
            acks = [m for m in survivor.replies_to(professional) if "AIG-" in str(m["Subject"])]
            return len({str(m["Message-ID"]) for m in acks})

        # Processed is committed before the acknowledgement goes out; what the dead replica
        # had claimed waits for its claim to lapse. Every one arrives, only not at once.
        wait_until(lambda: acknowledged() >= 16, timeout=120, what="16 acknowledgements")
        assert "mailbox_lease_lost" not in survivor.logs()
    finally:
        for gateway in daemons.values():
            gateway.kill()
