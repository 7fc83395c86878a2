"""The daemon as a subprocess against the real mail stack: config, start, kill, read mailboxes."""

from __future__ import annotations

import email
import email.policy
import json
import os
import signal
import smtplib
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import TypeVar

from sqlmodel import select

from bench.e2e import mailbox_toml
from deploy.mailstack import MailStack, MailUser
from gateway.cli.demo_routing import DemoDoctor, write_routing_files
from gateway.storage import repo
from gateway.storage.db import make_engine
from gateway.storage.models import (
    Case,
    InboundMessage,
    Offer,
    OutboundMessage,
    TeleExpertiseAct,
)
from tests.support.mail_rows import raw_of
from tests.support.mailstack import maildir_files

T = TypeVar("T")

AIGUILLEUR = Path(sys.executable).with_name("aiguilleur")


def read_maildir(path: Path) -> list[EmailMessage]:
    """Messages of a Maildir folder in delivery order."""
    found: list[EmailMessage] = []
    for item in maildir_files(path):
        try:
            data = item.read_bytes()
        except FileNotFoundError:  # moved from new/ to cur/ meanwhile
            continue
        msg = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        found.append(msg)
    return found


def wait_until(
    predicate: Callable[[], bool], *, timeout: float = 30.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def task_of(msg: EmailMessage) -> dict[str, object]:
    part = next(p for p in msg.iter_attachments() if p.get_filename() == "aiguilleur-task.json")
    data = json.loads(part.get_content())
    assert isinstance(data, dict)
    return data


def text_mail(
    sender: str, to: str, subject: str, body: str, *, dated: bool = False
) -> EmailMessage:
    """A new plain-text mail; without ``dated``, no Date header (the reception dates it)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    if dated:
        msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(idstring=uuid.uuid4().hex[:8], domain="medecin.test")
    msg.set_content(body)
    return msg


def signalement_mail(sender: str, to: str, *, subject: str = "Signalement patient") -> EmailMessage:
    return text_mail(
        sender,
        to,
        subject,
        "Bonjour,\n\nSignalement d'un patient sans médecin traitant.\n\n"
        "Nom : DURAND\nPrénom : Jeanne\nDate de naissance : 12/03/1948\n"
        "Code postal : 88400\nCommune : Gérardmer\nMédecin traitant : non\n"
        "ALD : oui\n\nCordialement\n",
        dated=True,
    )


@dataclass
class Gateway:
    stack: MailStack
    workdir: Path
    db_url: str
    mailbox: MailUser
    address: str
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0
    extra_env: dict[str, str] = field(default_factory=dict)
    doctors: list[DemoDoctor] = field(default_factory=list)  # the roster
    coordinator: MailUser | None = None
    # More watched mailboxes: (name, programme, user); the first one is always "signalement".
    extra_mailboxes: list[tuple[str, str, MailUser]] = field(default_factory=list)
    routing_toml: str = ""  # extra keys of [routing], e.g. "offer_deadline_hours = 1"
    web_port: int | None = None  # serve the coordinator UI from the daemon on this port

    @property
    def config_path(self) -> Path:
        return self.workdir / "aiguilleur.toml"

    @property
    def log_path(self) -> Path:
        return self.workdir / "daemon.log"

    def _mailbox_toml(self, name: str, programme: str, user: MailUser) -> str:
        return mailbox_toml(self.stack, name, programme, user) + "idle_timeout = 60.0\n"

    def _web_toml(self) -> str:
        if self.web_port is None:
            return ""
        return (
            f'[web]\nenabled = true\nhost = "127.0.0.1"\nport = {self.web_port}\n'
            f'secret_key_file = "{self.workdir / "web-secret"}"\n'
        )

    @property
    def web_url(self) -> str:
        assert self.web_port is not None
        return f"http://127.0.0.1:{self.web_port}"

    def write_config(self) -> None:
        stack = self.stack
        programmes, roster = write_routing_files(self.workdir / "routing", self.doctors)
        boxes = self._mailbox_toml("signalement", "signalement", self.mailbox) + "".join(
            self._mailbox_toml(name, programme, user)
            for name, programme, user in self.extra_mailboxes
        )
        coordinators = f'["{self.coordinator.address}"]' if self.coordinator else "[]"
        self.config_path.write_text(
            f"""
instance = "e2e"
[database]
url = "{self.db_url}"
{boxes}
[routing]
programmes_path = "{programmes}"
roster_path = "{roster}"
coordinator_addresses = {coordinators}
timer_interval = 0.5
{self.routing_toml}
[smtp]
host = "{stack.host}"
port = {stack.smtp_port}
tls = "starttls"
ca_file = "{stack.ca_path}"
from_address = "{self.address}"
from_name = "CPTS e2e"
retry_base = 0.5
retry_max = 2.0
[pipeline]
workers = 2
retry_delay = 0.2
poll_interval = 0.5
parse_processes = 1
[replies]
structure_name = "CPTS e2e"
rate_limit_per_hour = 50
{self._web_toml()}
[logging]
level = "debug"
""",
            encoding="utf-8",
        )

    def start(self, failpoints: str = "") -> None:
        assert self.proc is None or self.proc.poll() is not None
        self.write_config()
        env = {**os.environ, **self.extra_env, "AIGUILLEUR_FAILPOINTS": failpoints}
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [str(AIGUILLEUR), "run", "--config", str(self.config_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        log.close()
        self.starts += 1

    def wait_exit(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def terminate(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait_exit(timeout)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def send(self, msg: EmailMessage, *, mail_from: str | None = None) -> str:
        with smtplib.SMTP(self.stack.host, self.stack.smtp_port, timeout=10) as smtp:
            smtp.send_message(msg, from_addr=mail_from)
        return str(msg["Message-ID"])

    def replies_to(self, user: MailUser) -> list[EmailMessage]:
        return read_maildir(self.stack.maildir(user))

    def processed(self) -> list[EmailMessage]:
        return read_maildir(self.stack.maildir(self.mailbox, "Traites"))

    def inbox(self) -> list[EmailMessage]:
        return read_maildir(self.stack.maildir(self.mailbox))

    def db(self) -> DbView:
        return DbView(self.db_url)

    def logs(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


class DbView:
    def __init__(self, url: str) -> None:
        self.url = url

    def _all(self, model: type[T]) -> list[T]:
        engine = make_engine(self.url)
        try:
            with repo.session_for(engine) as session:
                return list(session.exec(select(model)).all())
        finally:
            engine.dispose()

    def cases(self) -> list[Case]:
        return self._all(Case)

    def raw(self, row: InboundMessage | OutboundMessage) -> bytes:
        """The bytes stored for a mail (kept apart from its row)."""
        engine = make_engine(self.url)
        try:
            with repo.session_for(engine) as session:
                return raw_of(session, row)
        finally:
            engine.dispose()

    def inbound(self) -> list[InboundMessage]:
        return self._all(InboundMessage)

    def outbound(self) -> list[OutboundMessage]:
        return self._all(OutboundMessage)

    def offers(self) -> list[Offer]:
        return self._all(Offer)

    def acts(self) -> list[TeleExpertiseAct]:
        return self._all(TeleExpertiseAct)
