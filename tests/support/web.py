"""Web UI test helpers: a configured app, seeded cases, and logging in as a person would."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session
from starlette.testclient import TestClient

from gateway.cli.demo_routing import DEMO_DOCTORS, roster_toml
from gateway.config import Config, parse_config
from gateway.storage import repo
from gateway.storage.models import (
    Case,
    Offer,
    RuleResultRow,
    utcnow,
)
from gateway.storage.web_models import Role
from gateway.web.users import add_user
from parsers.request import Conflict, Patient, Provenance, Request, RequestKind
from tests.support.mail_rows import add_inbound, add_outbound

__all__ = [
    "PASSWORD",
    "SeededCase",
    "add_rule_results",
    "login",
    "make_users",
    "request_mail",
    "request_provenance",
    "seed_case",
    "web_config",
]

PASSWORD = "correct horse battery"
GATEWAY = "signalement@cpts.test"


def web_config(db_url: str, tmp_path: Path, **web: object) -> Config:
    roster = tmp_path / "roster.toml"
    roster.write_text(roster_toml(DEMO_DOCTORS), encoding="utf-8")
    return parse_config(
        {
            "database": {"url": db_url},
            "mailboxes": [
                {"name": "sig", "address": GATEWAY, "programme": "signalement", "host": "x"}
            ],
            "routing": {"roster_path": str(roster)},
            "web": {"secret_key_file": str(tmp_path / "web-secret"), **web},
        },
        environ={},
    )


def make_users(engine: Engine) -> None:
    with Session(engine) as db:
        add_user(db, "viewer", PASSWORD, Role.VIEWER, "Véra Lecture")
        add_user(db, "coord", PASSWORD, Role.COORDINATOR, "Claire Coordination")
        add_user(db, "admin", PASSWORD, Role.ADMIN, "Adam Admin")
        db.commit()


def login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    response = client.post(
        "/login",
        data={"csrf": token.group(1), "username": username, "password": password, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


@dataclass(frozen=True)
class SeededCase:
    case_id: int
    reference: str
    inbound_id: int
    outbound_failed_id: int


def add_rule_results(
    db: Session, case_id: int, rules: list[tuple[str, str, str]], evaluation: int = 1
) -> None:
    """One evaluation's results, ``(rule_id, outcome, reason_fr)`` in their order."""
    for position, (rule_id, outcome, reason) in enumerate(rules):
        row = RuleResultRow(case_id=case_id, rule_id=rule_id, outcome=outcome, reason_fr=reason)
        row.evaluation, row.position = evaluation, position
        db.add(row)


def request_provenance() -> dict[str, Provenance]:
    """Where a seeded request's patient was read: the ``request_mail`` form and its body."""
    return {
        "patient.family_name": Provenance(source="fiche.pdf", kind="pdf", locator="nom"),
        "patient.birth_date": Provenance(source="body", kind="body", locator="ligne 3"),
    }


def request_mail(sender: str, subject: str, message_id: str, body: str) -> bytes:
    """A request to the gateway with its form attached as ``fiche.pdf``, the source the
    seeded requests' provenance names."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = GATEWAY
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    msg.set_content(body)
    msg.add_attachment(
        b"%PDF-1.4 fiche", maintype="application", subtype="pdf", filename="fiche.pdf"
    )
    return bytes(msg)


def seed_case(
    engine: Engine,
    number: int,
    *,
    family: str = "DURAND",
    programme: str = "signalement",
    status: str = "routed",
    doctor: tuple[str, str] | None = ("10000000001", "Dr Claire Martin"),
    opened_at: datetime | None = None,
    quarantined: bool = False,
) -> SeededCase:
    """A case with everything the case page shows: request, rules, offer, messages."""
    when = opened_at or utcnow()
    request = Request(
        kind=RequestKind.SIGNALEMENT,
        patient=Patient(family_name=family, given_names=["Jeanne"], birth_date=date(1948, 3, 12)),
        provenance=request_provenance(),
        conflicts=[
            Conflict(
                field="patient.birth_date",
                kept="1948-03-12",
                kept_from=Provenance(source="body", kind="body"),
                other="1948-03-21",
                other_from=Provenance(source="fiche.pdf", kind="pdf"),
            )
        ],
    )
    raw = request_mail(
        "dr.house@medecin.test",
        f"Signalement {family}",
        f"<{family.lower()}@medecin.test>",
        "Patient sans médecin traitant.",
    )
    with Session(engine, expire_on_commit=False) as db:
        case = Case(
            reference=f"AIG-2026-{number:06d}",
            programme=programme,
            status=status,
            mailbox="sig",
            sender="dr.house@medecin.test",
            request_json=request.model_dump_json(),
            opened_at=when,
            decision="eligible",
            doctor_rpps=doctor[0] if doctor else None,
            doctor_name=doctor[1] if doctor else None,
            patient_family_name=family,
            patient_ins="248031234567890",
        )
        db.add(case)
        db.flush()
        assert case.id is not None
        inbound = add_inbound(
            db,
            raw,
            mailbox="sig",
            source_key=f"k{number}",
            content_sha256=f"{number:064d}",
            status="quarantined" if quarantined else "processed",
            attempts=3 if quarantined else 1,
            error="RuntimeError: parser exploded" if quarantined else None,
            case_id=case.id,
            received_at=when,
        )
        add_rule_results(
            db,
            case.id,
            [
                ("territory", "passed", "Le patient habite le territoire."),
                ("no_medecin_traitant", "missing", "Le médecin traitant n'est pas précisé."),
            ],
        )
        db.add(
            Offer(
                case_id=case.id,
                kind="signalement",
                doctor_rpps="10000000001",
                doctor_name="Dr Claire Martin",
                doctor_email="claire.martin@medecin.test",
                deadline_at=when + timedelta(hours=72),
            )
        )
        failed = add_outbound(
            db,
            b"Subject: x\r\n\r\nx",
            case_id=case.id,
            cause_key=f"ack:{number}",
            kind="ack",
            recipient="dr.house@medecin.test",
            message_id=f"<ack{number}@cpts.test>",
            subject=f"[{case.reference}] Accusé de réception",
            status="failed",
            attempts=12,
            last_error="550 mailbox unavailable",
        )
        repo.add_event(db, case.id, "case_opened", {"programme": programme})
        db.commit()
        assert inbound.id is not None and failed.id is not None
        return SeededCase(case.id, case.reference, inbound.id, failed.id)
