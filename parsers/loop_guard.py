"""Mail-loop protection: decide from the envelope alone whether we may answer at all."""

from __future__ import annotations

from collections.abc import Collection

from parsers.envelope import Envelope

__all__ = ["no_reply_reason"]

_MAILER_DAEMON_LOCALS = frozenset({"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"})
_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list"})


def no_reply_reason(envelope: Envelope, own_addresses: Collection[str]) -> str | None:
    """Why this message must get no automatic reply, or None when a reply is allowed."""
    auto = (envelope.auto_submitted or "").split(";")[0].strip().lower()
    if auto and auto != "no":
        return f"auto-submitted: {auto}"
    if (envelope.precedence or "").strip().lower() in _BULK_PRECEDENCE:
        return f"precedence: {envelope.precedence}"
    if envelope.auto_response_suppress is not None:
        return "x-auto-response-suppress"
    if envelope.list_id:
        return "mailing list"
    if envelope.report_type in ("delivery-status", "disposition-notification"):
        return f"report: {envelope.report_type}"
    if envelope.return_path == "":
        return "null return-path"
    sender = envelope.from_addr
    if sender is None:
        return "no sender address"
    local = sender.split("@", 1)[0]
    if local in _MAILER_DAEMON_LOCALS:
        return "mailer-daemon sender"
    own = {a.lower() for a in own_addresses}
    if sender in own or (envelope.return_path or "").lower() in own:
        return "our own address"
    return None
