"""The dev mail stack really delivers: SMTP -> Postfix -> LMTP -> Dovecot -> IMAP(S)."""

from __future__ import annotations

import imaplib
import smtplib
import socket
import ssl
import uuid
from collections.abc import Callable
from email.message import EmailMessage

import pytest
import trustme

from deploy.mailstack import (
    POSTFIX_MAIN_CF,
    MailStack,
    MailStackError,
    MailStackUnavailableError,
    MailUser,
    _descendants,
)

# Fixtures (mail_stack, mail_user, ...) come from tests.support.mailstack, registered
# as a plugin by the root conftest.
from tests.support import mailstack as support
from tests.support.mailstack import send_mail, wait_for_messages


def _message(to: MailUser, token: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "dr.martin@medecin.test"
    msg["To"] = to.address
    msg["Subject"] = f"Demande {token}"
    msg["Message-ID"] = f"<{token}@medecin.test>"
    msg.set_content(f"Bonjour, voici la demande {token}.\n")
    return msg


def _ctx(stack: MailStack) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(stack.ca_path))


def _imap_bodies(imap: imaplib.IMAP4, user: MailUser) -> list[bytes]:
    imap.login(user.login, user.password)
    imap.select("INBOX")
    _, data = imap.uid("SEARCH", "ALL")
    bodies: list[bytes] = []
    for uid in data[0].split():
        _, parts = imap.uid("FETCH", uid, "(BODY.PEEK[])")
        first = parts[0]
        assert isinstance(first, tuple)
        bodies.append(first[1])
    return bodies


def test_smtp_delivery_lands_in_dovecot_over_verified_imaps(
    mail_stack: MailStack, mail_user: MailUser
) -> None:
    token = uuid.uuid4().hex
    send_mail(mail_stack, _message(mail_user, token))

    on_disk = wait_for_messages(mail_stack, mail_user)
    assert token.encode() in on_disk[0]
    with imaplib.IMAP4_SSL(
        mail_stack.host, mail_stack.imaps_port, ssl_context=_ctx(mail_stack)
    ) as imap:
        bodies = _imap_bodies(imap, mail_user)
    assert len(bodies) == 1
    assert f"Subject: Demande {token}".encode() in bodies[0]
    assert b"Received: from" in bodies[0]  # went through Postfix


def test_imaps_certificate_is_not_trusted_without_the_stack_ca(mail_stack: MailStack) -> None:
    other = trustme.CA()
    ctx = ssl.create_default_context()
    other.configure_trust(ctx)
    with pytest.raises(ssl.SSLCertVerificationError):
        imaplib.IMAP4_SSL(mail_stack.host, mail_stack.imaps_port, ssl_context=ctx)


def test_starttls_port(mail_stack: MailStack, mail_user: MailUser) -> None:
    send_mail(mail_stack, _message(mail_user, "starttls"), starttls=False)
    wait_for_messages(mail_stack, mail_user)
    with imaplib.IMAP4(mail_stack.host, mail_stack.imap_port) as imap:
        assert "STARTTLS" in imap.capabilities
        imap.starttls(ssl_context=_ctx(mail_stack))
        assert imap.sock.version() in ("TLSv1.2", "TLSv1.3")  # type: ignore[attr-defined]
        bodies = _imap_bodies(imap, mail_user)
    assert b"Demande starttls" in bodies[0]


def test_smtp_offers_starttls_with_the_stack_certificate(mail_stack: MailStack) -> None:
    with smtplib.SMTP(mail_stack.host, mail_stack.smtp_port, timeout=10) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("starttls")
        smtp.starttls(context=_ctx(mail_stack))
        code, _ = smtp.ehlo()
        assert code == 250


def test_wrong_password_is_rejected(mail_stack: MailStack, mail_user: MailUser) -> None:
    with (
        imaplib.IMAP4_SSL(
            mail_stack.host, mail_stack.imaps_port, ssl_context=_ctx(mail_stack)
        ) as imap,
        pytest.raises(imaplib.IMAP4.error),
    ):
        imap.login(mail_user.login, mail_user.password + "x")


def test_unknown_domain_is_not_relayed(mail_stack: MailStack) -> None:
    with (
        smtplib.SMTP(mail_stack.host, mail_stack.smtp_port, timeout=10) as smtp,
        pytest.raises(smtplib.SMTPRecipientsRefused),
    ):
        smtp.sendmail("a@cpts.test", ["someone@example.org"], b"Subject: x\r\n\r\nx\r\n")


def test_restart_dovecot_drops_connections_and_comes_back(
    mail_stack: MailStack, mail_user: MailUser
) -> None:
    imap = imaplib.IMAP4_SSL(mail_stack.host, mail_stack.imaps_port, ssl_context=_ctx(mail_stack))
    imap.login(mail_user.login, mail_user.password)
    old_master = mail_stack.dovecot_pid
    assert old_master is not None
    old_tree = {old_master, *_descendants(old_master)}

    mail_stack.restart_dovecot()

    with pytest.raises((imaplib.IMAP4.abort, OSError)):
        imap.noop()
    imap.shutdown()
    assert not any(_alive(p) for p in old_tree)
    assert mail_stack.dovecot_pid not in (None, old_master)
    send_mail(mail_stack, _message(mail_user, "after-restart"))
    wait_for_messages(mail_stack, mail_user)
    with imaplib.IMAP4_SSL(
        mail_stack.host, mail_stack.imaps_port, ssl_context=_ctx(mail_stack)
    ) as again:
        assert b"after-restart" in _imap_bodies(again, mail_user)[0]


def test_stop_and_start_postfix(mail_stack: MailStack, mail_user: MailUser) -> None:
    mail_stack.stop_postfix()
    try:
        with pytest.raises(OSError):
            socket.create_connection((mail_stack.host, mail_stack.smtp_port), timeout=2).close()
    finally:
        mail_stack.start_postfix()
    send_mail(mail_stack, _message(mail_user, "postfix-back"))
    assert b"postfix-back" in wait_for_messages(mail_stack, mail_user)[0]


def test_two_stacks_run_side_by_side_and_stop_leaves_nothing(
    mail_stack_factory: Callable[[], MailStack],
) -> None:
    first, second = mail_stack_factory(), mail_stack_factory()
    users = [first.add_user("a@cpts.test"), second.add_user("a@cpts.test")]
    first.start()
    second.start()
    pids = first.running_pids | second.running_pids
    assert pids and first.running_pids.isdisjoint(second.running_pids)
    for stack, user in zip((first, second), users, strict=True):
        send_mail(stack, _message(user, f"stack-{stack.smtp_port}"))
    for stack, user in zip((first, second), users, strict=True):
        assert f"stack-{stack.smtp_port}".encode() in wait_for_messages(stack, user)[0]

    first.stop()
    second.stop()

    alive = [p for p in pids if _alive(p)]
    assert alive == []
    assert first.running_pids == frozenset()
    registered = POSTFIX_MAIN_CF.read_text()
    assert str(first.base_dir) not in registered
    assert str(second.base_dir) not in registered


def test_start_failure_raises_with_log_tail_and_cleans_up(
    mail_stack_factory: Callable[[], MailStack],
) -> None:
    stack = mail_stack_factory()
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind((stack.host, stack.imaps_port))
        squatter.listen()
        with pytest.raises(MailStackError) as caught:
            stack.start()
    assert "dovecot" in str(caught.value)
    assert "Address already in use" in str(caught.value)
    assert stack.running_pids == frozenset()


def test_add_user_rejects_foreign_domain(mail_stack: MailStack) -> None:
    with pytest.raises(MailStackError):
        mail_stack.add_user("x@example.org")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.parametrize("ci", ["true", ""])
def test_unavailable_stack_fails_in_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, ci: str
) -> None:
    def missing() -> None:
        raise MailStackUnavailableError("missing binaries ['dovecot']")

    monkeypatch.setattr(support, "check_prerequisites", missing)
    monkeypatch.setenv("CI", ci)
    if ci:
        with pytest.raises(RuntimeError, match="CI=true"):
            support.require_mail_stack()
    else:
        with pytest.raises(pytest.skip.Exception, match="missing binaries"):
            support.require_mail_stack()
