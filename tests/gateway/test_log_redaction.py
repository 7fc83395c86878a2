"""A whole case through the pipeline leaves no patient data in the logs."""

from __future__ import annotations

import asyncio
import logging
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlmodel import Session, select

from gateway.config import parse_config
from gateway.observability import configure_logging
from gateway.pipeline.worker import Pipeline
from gateway.replies.compose import ReplyRenderer
from gateway.storage import repo
from gateway.storage.db import make_engine, upgrade
from gateway.storage.models import Case, OutboundMessage
from gateway.storage.repo import IncomingRaw
from parsers import ParsedMessage, parse_message
from parsers.request import RequestKind
from tests.parsers.builders import DEFAULT_SIGNALEMENT, build_signalement_docx
from tests.support.routing import demo_services

GATEWAY = "signalement@cpts.test"
PATIENT = {
    "Nom": "QUERNAVSKI",
    "Prénom": "Philomène",
    "Date de naissance": "17/08/1951",
    "N° INS": DEFAULT_SIGNALEMENT["N° INS"],
    "Téléphone du patient": "06 47 15 10 10",
}
BODY = "Patiente très isolée depuis le décès de son époux, chutes répétées."
# Every spelling under which a value could leak.
SECRETS = [
    "QUERNAVSKI",
    "Quernavski",
    "Philomène",
    "Philomene",
    "17/08/1951",
    "1951-08-17",
    str(PATIENT["N° INS"]),
    "0647151010",
    "isolée depuis le décès",
    "chutes répétées",
]


def _mail() -> bytes:
    msg = EmailMessage()
    msg["From"] = "paul.martin@infirmier.mssante.fr"
    msg["To"] = GATEWAY
    msg["Subject"] = "Signalement QUERNAVSKI Philomène"
    msg["Message-ID"] = "<redaction-1@infirmier.mssante.fr>"
    lines = [BODY, ""] + [f"{k} : {v}" for k, v in PATIENT.items()]
    msg.set_content("\n".join(lines))
    msg.add_attachment(
        build_signalement_docx(PATIENT),
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
        filename="signalement.docx",
    )
    return bytes(msg)


async def _parse(raw: bytes, kind: RequestKind | None) -> ParsedMessage:
    return await asyncio.to_thread(parse_message, raw, default_kind=kind)


async def test_pipeline_logs_no_patient_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    upgrade(url)
    engine = make_engine(url)
    config = parse_config(
        {
            "database": {"url": url},
            "mailboxes": [
                {"name": "sig", "address": GATEWAY, "programme": "signalement", "host": "x"}
            ],
            "smtp": {"from_address": GATEWAY},
        },
        environ={},
    )
    configure_logging("debug", "json")
    caplog.set_level(logging.DEBUG)
    pipeline = Pipeline(
        config=config,
        engine=engine,
        parse=_parse,
        renderer=ReplyRenderer(from_address=GATEWAY, from_name="CPTS", limit_bytes=10_000_000),
        services=demo_services(config),
        owner="t",
    )
    with repo.session_for(engine) as session:
        repo.store_inbound_batch(session, [IncomingRaw("sig", _mail(), source_key="a")])
        session.commit()
    outcomes = await pipeline.drain()
    with Session(engine) as session:
        (case,) = session.exec(select(Case)).all()
        replies = session.exec(select(OutboundMessage)).all()
    engine.dispose()
    # The case really carried the patient, so a leak had something to leak.
    assert [o.status for o in outcomes] == ["processed"]
    assert case.patient_family_name == "QUERNAVSKI" and case.request_json
    assert "Philom" in case.request_json and replies
    logs = capsys.readouterr().err + "\n".join(r.getMessage() for r in caplog.records)
    assert "message_processed" in logs
    leaked = [s for s in SECRETS if s.lower() in logs.lower()]
    assert leaked == []
