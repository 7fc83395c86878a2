"""Stored-XSS payloads in every field a page shows: a patient name, a sender, a subject,
an attachment name, an error. Shared by the HTTP tests and the browser test."""

from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy import Engine
from sqlmodel import Session

from gateway.storage.models import Case, InboundMessage, InboundRaw
from tests.support.web import SeededCase, seed_case

__all__ = ["IMG", "JS_URL", "SCRIPT", "hostile_case"]

# Each sets window.__xss and opens a dialog if it ever runs.
SCRIPT = "<script>window.__xss=1;alert(1)</script>"
IMG = '"><img src=x onerror="window.__xss=1;alert(1)">'
JS_URL = "javascript:window.__xss=1;alert(1)"


def hostile_case(engine: Engine, number: int = 1) -> SeededCase:
    """A case whose patient name, sender, subject and attachment name are XSS payloads."""
    seeded = seed_case(engine, number, family="XSS", quarantined=True)
    msg = EmailMessage()
    msg["From"] = f"{IMG}@medecin.test"
    msg["To"] = "signalement@cpts.test"
    msg["Subject"] = f"Signalement {SCRIPT} {IMG}"
    msg["Message-ID"] = "<xss@medecin.test>"
    msg.set_content(f"{SCRIPT} {JS_URL}")
    msg.add_attachment(b"x", maintype="text", subtype="html", filename=f"{JS_URL}{IMG}.html")
    with Session(engine) as db:
        case = db.get(Case, seeded.case_id)
        inbound = db.get(InboundMessage, seeded.inbound_id)
        assert case is not None and inbound is not None
        case.patient_family_name = SCRIPT
        case.sender = f"{IMG}@medecin.test"
        case.doctor_name = JS_URL
        stored = db.get(InboundRaw, seeded.inbound_id)
        assert stored is not None
        stored.raw = bytes(msg)
        db.add(stored)
        inbound.error = SCRIPT
        db.add(case)
        db.add(inbound)
        db.commit()
    return seeded
