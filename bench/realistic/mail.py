"""Assemble a complete RFC 5322 message, deterministically (fixed boundaries and ids)."""

from __future__ import annotations

import random
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from tests.parsers.builders import tiny_jpeg

from .case import Case
from .styles import Rendered

__all__ = ["build_raw"]

_MAILERS = (
    "Microsoft Outlook 16.0",
    "Mozilla Thunderbird",
    "Mailiz Webmail",
    "Apicrypt 2",
    "Zimbra",
    "weda-mss",
)


def _encodable(text: str, charset: str) -> bool:
    try:
        text.encode(charset)
    except UnicodeEncodeError:
        return False
    return True


def build_raw(case: Case, rendered: Rendered, rng: random.Random, to: str) -> bytes:
    message = EmailMessage()
    display = rendered.from_display or ""
    message["From"] = formataddr((display, case.reporter.email)) if display else case.reporter.email
    message["To"] = rng.choice((to, to, formataddr(("Coordination", to))))
    message["Date"] = format_datetime(case.when)
    message["Subject"] = rendered.subject
    domain = case.reporter.email.rsplit("@", 1)[1]
    message["Message-ID"] = f"<{rng.getrandbits(64):016x}.{rng.randint(1000, 9999)}@{domain}>"
    if rng.random() < 0.5:
        message["X-Mailer"] = rng.choice(_MAILERS)
    for name, value in rendered.headers.items():
        message[name] = value
    text, html = rendered.text, rendered.html
    charset = "utf-8"
    if text is not None and rng.random() < 0.2 and _encodable(text, "iso-8859-1"):
        charset = "iso-8859-1"
    if text is not None:
        message.set_content(text, charset=charset)
        if html is not None:
            message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html")
    if rendered.logo and html is not None:
        html_part = message if text is None else message.get_payload()[1]  # type: ignore[index]
        assert isinstance(html_part, EmailMessage)
        html_part.add_related(tiny_jpeg(), "image", "jpeg", cid="<logo001>", filename="logo.jpg")
    for filename, content_type, data in rendered.attachments:
        maintype, subtype = content_type.split("/", 1)
        params = {"charset": "utf-8"} if maintype == "text" else None
        message.add_attachment(
            data, maintype=maintype, subtype=subtype, filename=filename, params=params
        )
    for index in range(case.photos):
        message.add_attachment(
            tiny_jpeg(), maintype="image", subtype="jpeg", filename=f"photo{index + 1}.jpg"
        )
    # Fixed boundaries: the library would draw them from the global random state.
    for number, part in enumerate(message.walk()):
        if part.is_multipart():
            part.set_boundary(f"==_aig_{rng.getrandbits(48):012x}_{number}")
    # No header folding: CPython's folder drops the space between two adjacent encoded
    # words ("Jérôme Kévin" -> "JérômeKévin"). Lines stay far below the 998 limit.
    crlf = rng.random() < 0.3
    out_policy = (policy.SMTP if crlf else policy.default).clone(max_line_length=998)
    return message.as_bytes(policy=out_policy)
