"""A reply as a mail client writes it when a doctor hits "Reply" on a gateway mail."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

__all__ = ["reply_to"]


def reply_to(original: EmailMessage, sender: str, body: str) -> EmailMessage:
    """From ``sender`` to the original's Reply-To, "Re:" its subject, in its thread."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = original["Reply-To"]
    msg["Subject"] = f"Re: {original['Subject']}"
    msg["Message-ID"] = make_msgid(domain="medecin.test")
    msg["In-Reply-To"] = original["Message-ID"]
    msg["References"] = original["Message-ID"]
    msg.set_content(body)
    return msg
