"""Pytest fixtures and helpers around the dev mail stack (deploy/mailstack.py).

Policy: when the stack cannot run here (no root, binaries missing), tests are skipped
outside CI and fail in CI (``CI=true``). Any other start-up failure is a real error
and always fails, so a broken configuration never hides behind a skip.
"""

from __future__ import annotations

import os
import re
import shutil
import smtplib
import ssl
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from deploy.mailstack import MailStack, MailStackUnavailableError, MailUser, check_prerequisites
from tests.support.ci import in_ci

__all__ = [
    "in_ci",
    "mail_stack",
    "mail_stack_factory",
    "mail_user",
    "mail_user_factory",
    "maildir_files",
    "maildir_messages",
    "new_mail_user",
    "require_mail_stack",
    "send_mail",
    "send_raw_mail",
    "wait_for_messages",
]

MailUserFactory = Callable[..., MailUser]


def _unavailable(reason: str, exc: BaseException | None = None) -> None:
    message = f"mail stack unavailable: {reason}"
    if in_ci():
        raise RuntimeError(message + " (CI=true: failing instead of skipping)") from exc
    pytest.skip(message)


def require_mail_stack() -> None:
    """Skip outside CI, fail in CI, when this host cannot run the mail stack."""
    try:
        check_prerequisites()
    except MailStackUnavailableError as exc:
        _unavailable(str(exc), exc)


def _new_base_dir() -> Path:
    # Not tmp_path_factory: its parents are mode 0700, which Dovecot's unprivileged
    # mail processes cannot traverse.
    return Path(tempfile.mkdtemp(prefix="aig-mailstack-"))


def _discard(stack: MailStack) -> None:
    try:
        stack.stop()
    finally:
        if not os.environ.get("AIG_KEEP_MAILSTACK"):
            shutil.rmtree(stack.base_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def mail_stack() -> Iterator[MailStack]:
    """One running Dovecot + Postfix for the whole session, in a fresh directory."""
    require_mail_stack()
    stack = MailStack(_new_base_dir())
    stack.start()
    try:
        yield stack
    finally:
        _discard(stack)


@pytest.fixture
def mail_stack_factory() -> Iterator[Callable[[], MailStack]]:
    """Private, not yet started stacks (for start/stop tests); all stopped at teardown."""
    require_mail_stack()
    made: list[MailStack] = []

    def make() -> MailStack:
        stack = MailStack(_new_base_dir())
        made.append(stack)
        return stack

    yield make
    for stack in made:
        _discard(stack)


def new_mail_user(stack: MailStack, prefix: str = "user", domain: str | None = None) -> MailUser:
    """A mailbox nobody else uses: tests sharing the session stack stay independent."""
    local = f"{prefix}-{uuid.uuid4().hex[:12]}"
    return stack.add_user(f"{local}@{domain or stack.domains[0]}", password=uuid.uuid4().hex)


@pytest.fixture
def mail_user_factory(mail_stack: MailStack) -> MailUserFactory:
    """Call it as ``mail_user_factory(prefix="doc", domain="medecin.test")``."""

    def make(prefix: str = "user", domain: str | None = None) -> MailUser:
        return new_mail_user(mail_stack, prefix, domain)

    return make


@pytest.fixture
def mail_user(mail_stack: MailStack) -> MailUser:
    return new_mail_user(mail_stack)


def send_mail(stack: MailStack, msg: EmailMessage, *, starttls: bool = True) -> None:
    """Submit a message to the stack's Postfix (envelope taken from the headers)."""
    with _smtp(stack, starttls) as smtp:
        smtp.send_message(msg)


def send_raw_mail(
    stack: MailStack,
    raw: bytes,
    *,
    sender: str,
    recipients: list[str],
    starttls: bool = True,
) -> None:
    """Submit exact bytes (CRLF line endings) to the stack's Postfix."""
    with _smtp(stack, starttls) as smtp:
        smtp.sendmail(sender, recipients, raw)


def _smtp(stack: MailStack, starttls: bool) -> smtplib.SMTP:
    smtp = smtplib.SMTP(stack.host, stack.smtp_port, timeout=10)
    try:
        if starttls:
            smtp.starttls(context=ssl.create_default_context(cafile=str(stack.ca_path)))
    except BaseException:
        smtp.close()
        raise
    return smtp


_DOVECOT_NAME = re.compile(r"^(\d+)\.(?:M(\d+))?")


def _delivery_key(path: Path) -> tuple[int, int, int, str]:
    # Dovecot names files "<secs>.M<usecs>P<pid>..." with usecs not zero-padded,
    # so plain string order misplaces two deliveries within the same second.
    match = _DOVECOT_NAME.match(path.name)
    secs, usecs = (int(match[1]), int(match[2] or 0)) if match else (0, 0)
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        mtime = 0
    return secs, usecs, mtime, path.name


def maildir_files(root: Path) -> list[Path]:
    """Files of a Maildir folder (new/ and cur/) in delivery order."""
    files: list[Path] = []
    for sub in ("new", "cur"):
        d = root / sub
        if d.is_dir():
            files.extend(p for p in d.iterdir() if p.is_file())
    return sorted(files, key=_delivery_key)


def maildir_messages(stack: MailStack, user: MailUser, folder: str = "INBOX") -> list[bytes]:
    """Messages of a Maildir folder in delivery order (Dovecot stores them with LF)."""
    out: list[bytes] = []
    for path in maildir_files(stack.maildir(user, folder)):
        try:
            out.append(path.read_bytes())
        except FileNotFoundError:  # moved from new/ to cur/ meanwhile
            continue
    return out


def wait_for_messages(
    stack: MailStack,
    user: MailUser,
    folder: str = "INBOX",
    count: int = 1,
    timeout: float = 20,
) -> list[bytes]:
    """Poll the Maildir until at least ``count`` messages are there."""
    deadline = time.monotonic() + timeout
    while True:
        found = maildir_messages(stack, user, folder)
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{len(found)} message(s) in {folder} of {user.address} after {timeout}s, "
                f"expected {count}; postfix log: {stack.log_paths['postfix']}"
            )
        time.sleep(0.05)
