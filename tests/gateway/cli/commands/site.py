"""A CPTS on disk for command tests: configuration, programmes, roster, and a database.

The territory and doctors are the demo ones (``gateway.cli.demo_routing``) plus a
second dermatologist, so a télé-expertise group still has someone when the
named requis is at quota.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, create_engine
from typer.testing import CliRunner

from gateway.cli import app
from gateway.cli.commands.check import PARIS
from gateway.cli.demo_routing import DEMO_DOCTORS, DemoDoctor, programmes_toml, roster_toml
from gateway.storage.db import upgrade
from gateway.storage.models import Case, TeleExpertiseAct

__all__ = [
    "ADDRESSES",
    "DAC_TEAM",
    "DOCTORS",
    "GARNIER",
    "MOREAU",
    "PETIT",
    "ROUX_EMAIL",
    "Site",
    "add_act",
    "add_case",
    "check_json",
    "eml",
    "make_site",
    "run_cli",
    "session_for",
]

GARNIER = "10000000006"
MOREAU = "10000000004"
PETIT = "10000000003"
ROUX_EMAIL = "anne.roux@medecin.mssante.test"
DAC_TEAM = "equipe@dac-vosges.test"
DOCTORS: tuple[DemoDoctor, ...] = (
    *DEMO_DOCTORS,
    DemoDoctor(
        GARNIER,
        "Dr Sophie Garnier",
        "sophie.garnier@medecin.test",
        speciality="SM15",
        accepts_new_patients=False,
        capacity=0,
        communes=(),
        filieres=("dermatologie",),
    ),
)
ADDRESSES = {
    "signalement": "signalement@cpts-vosges.test",
    "tele_expertise": "teleexpertise@cpts-vosges.test",
    "appui_dac": "appui@dac-vosges.test",
    "medecin_referent": "referent@cpts-vosges.test",
}
_MAILBOXES = {
    "signalement": "sig",
    "tele_expertise": "te",
    "appui_dac": "dac",
    "medecin_referent": "mr",
}

runner = CliRunner()


@dataclass(frozen=True)
class Site:
    directory: Path
    config: Path
    database_url: str
    database: Path


def make_site(
    directory: Path,
    *,
    extra_programmes: str = "",
    programmes: str | None = None,
    doctors: tuple[DemoDoctor, ...] = DOCTORS,
    dac_team: str | None = DAC_TEAM,
    with_database: bool = False,
) -> Site:
    """Write ``aiguilleur.toml`` and its files; create the database only if asked."""
    directory.mkdir(parents=True, exist_ok=True)
    programmes_path = directory / "programmes.toml"
    roster_path = directory / "roster.toml"
    programmes_path.write_text(
        (programmes if programmes is not None else programmes_toml()) + "\n" + extra_programmes,
        encoding="utf-8",
    )
    roster_path.write_text(roster_toml(doctors), encoding="utf-8")
    database = directory / "aiguilleur.db"
    url = f"sqlite:///{database}"
    lines = [
        "[database]",
        f"url = {json.dumps(url)}",
        "[routing]",
        f"programmes_path = {json.dumps(str(programmes_path))}",
        f"roster_path = {json.dumps(str(roster_path))}",
        'coordinator_addresses = ["coordination@cpts-vosges.test"]',
        "offer_deadline_hours = 48",
    ]
    if dac_team:
        lines.append(f"dac_team_address = {json.dumps(dac_team)}")
    for programme, address in ADDRESSES.items():
        lines += [
            "[[mailboxes]]",
            f'name = "{_MAILBOXES[programme]}"',
            f'address = "{address}"',
            f'programme = "{programme}"',
        ]
    config = directory / "aiguilleur.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if with_database:
        upgrade(url)
    return Site(directory=directory, config=config, database_url=url, database=database)


def eml(
    fields: dict[str, str],
    *,
    sender: str,
    to: str,
    subject: str = "Demande",
    sent_on: date | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """A mail whose body lists ``Label : value`` lines. No Date header unless ``sent_on``:
    the request date is then the reception date (``--at``)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = "<check-test@cpts-vosges.test>"
    if sent_on is not None:
        message["Date"] = format_datetime(
            datetime(sent_on.year, sent_on.month, sent_on.day, 10, 0, tzinfo=PARIS)
        )
    for name, value in (headers or {}).items():
        message[name] = value
    body = ["Bonjour,", ""] + [f"{k} : {v}" for k, v in fields.items()] + ["", "Cordialement"]
    message.set_content("\n".join(body) + "\n")
    return message.as_bytes()


def run_cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def check_json(site: Site, raw: bytes, *args: str) -> dict[str, Any]:
    path = site.directory / "message.eml"
    path.write_bytes(raw)
    code, out, err = run_cli("check", str(path), "--config", str(site.config), *args)
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def session_for(site: Site) -> Session:
    return Session(create_engine(site.database_url))


def add_case(session: Session, reference: str, programme: str = "tele_expertise") -> int:
    case = Case(reference=reference, programme=programme, mailbox="te", sender=ROUX_EMAIL)
    session.add(case)
    session.flush()
    assert case.id is not None
    return case.id


def add_act(
    session: Session,
    case_id: int,
    code: str,
    performed_on: date,
    *,
    patient_key: str,
    requis_rpps: str | None = MOREAU,
    professional_rpps: str | None = MOREAU,
    email: str = "marc.moreau@medecin.test",
    name: str | None = "Dr Marc Moreau",
    filiere: str | None = "dermatologie",
) -> None:
    session.add(
        TeleExpertiseAct(
            case_id=case_id,
            code=code,
            professional_rpps=professional_rpps,
            professional_email=email,
            professional_name=name,
            requis_rpps=requis_rpps,
            patient_key=patient_key,
            filiere=filiere,
            performed_on=performed_on,
        )
    )
