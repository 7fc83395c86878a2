from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.mailstack import MailStack
from gateway.cli.demo_routing import DemoDoctor
from tests.e2e.harness import Gateway


@pytest.fixture
def gateway(mail_stack: MailStack, db_url: str, tmp_path: Path) -> Iterator[Gateway]:
    """A fresh gateway mailbox and database; the daemon is started by the test."""
    address = f"signalement-{uuid.uuid4().hex[:8]}@cpts.test"
    user = mail_stack.add_user(address, "gateway-secret")
    gw = Gateway(stack=mail_stack, workdir=tmp_path, db_url=db_url, mailbox=user, address=address)
    # One GP in the roster, so an eligible signalement is offered to a real mailbox.
    gp = mail_stack.add_user(f"gp-{uuid.uuid4().hex[:8]}@medecin.test")
    gw.doctors.append(DemoDoctor("10000000001", "Dr Claire Martin", gp.address))
    try:
        yield gw
    finally:
        gw.kill()


@pytest.fixture
def professional(mail_stack: MailStack) -> object:
    return mail_stack.add_user(f"dr-{uuid.uuid4().hex[:8]}@medecin.test")
