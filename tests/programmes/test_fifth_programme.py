"""Adding a programme is data: a TOML table, one rule module, an existing strategy.

The programme below ("pédiatrie sans médecin traitant") is declared only in this
test's programmes file, with its own rule module (``tests.programmes.child_age``)
and the signalement strategy. No file of the tree knows its name; it must run
through ``aiguilleur check`` and through the daemon's own pipeline.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from gateway.cases.services import RoutingServices
from gateway.cli import app
from gateway.cli.demo_routing import DEMO_DOCTORS, programmes_toml, roster_toml
from gateway.config import load_config
from gateway.errors import ConfigError
from gateway.pipeline.worker import Pipeline
from gateway.replies.compose import ReplyRenderer
from gateway.storage import repo
from gateway.storage.db import make_engine, upgrade
from gateway.storage.models import Case, InboundMessage, Offer, OutboundMessage, RuleResultRow
from gateway.storage.repo import IncomingRaw
from parsers import ParsedMessage, parse_message
from parsers.request import RequestKind
from tests.support.mail_rows import raw_of

NAME = "pediatrie_sans_mt"
ADDRESS = "pediatrie@cpts.test"
IDE = "ide@infirmier.test"
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
FIFTH = f"""
[{NAME}]
label_fr = "Enfant sans médecin traitant"
mail_label_fr = "signalement d'un enfant sans médecin traitant"
kind = "signalement"
routing = "gp_offers"
status.completed = {{ code = "pediatre_trouve", label_fr = "Un médecin a accepté l'enfant" }}
rules = [
    "sender_verified",
    "patient_in_territory",
    "no_medecin_traitant",
    "tests.programmes.child_age",
]

[{NAME}.params.sender_verified]
policy = "accept"

[{NAME}.params.patient_in_territory]
postal_codes = ["88400"]

[{NAME}.params.patient_is_child]
max_years = 15
"""


def _site(tmp_path: Path, database_url: str) -> Path:
    (tmp_path / "programmes.toml").write_text(programmes_toml() + FIFTH, encoding="utf-8")
    (tmp_path / "roster.toml").write_text(roster_toml(DEMO_DOCTORS), encoding="utf-8")
    config = tmp_path / "aiguilleur.toml"
    config.write_text(
        f"""
[database]
url = {json.dumps(database_url)}
[smtp]
from_address = "ne-pas-repondre@cpts.test"
[replies]
rate_limit_per_hour = 0
[routing]
programmes_path = "programmes.toml"
roster_path = "roster.toml"
coordinator_addresses = ["coordination@cpts.test"]
[[mailboxes]]
name = "ped"
address = "{ADDRESS}"
programme = "{NAME}"
host = "x"
""",
        encoding="utf-8",
    )
    return config


def _mail(birth: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = IDE
    msg["To"] = ADDRESS
    msg["Subject"] = "Enfant sans médecin traitant"
    msg["Date"] = format_datetime(T0)
    msg["Message-ID"] = make_msgid(idstring=uuid.uuid4().hex[:8], domain="test")
    msg.set_content(
        "Nom : PETIT\nPrénom : Léo\n"
        f"Date de naissance : {birth}\nCode postal : 88400\nCommune : Gérardmer\n"
        "Médecin traitant : non\n"
    )
    return bytes(msg)


def test_check_runs_the_fifth_programme(tmp_path: Path) -> None:
    config = _site(tmp_path, f"sqlite:///{tmp_path / 'none.db'}")
    eml = tmp_path / "m.eml"
    for birth, outcome in (("12/03/2019", "eligible"), ("12/03/1990", "ineligible")):
        eml.write_bytes(_mail(birth))
        result = CliRunner().invoke(
            app, ["check", str(eml), "--config", str(config), "--at", "2026-11-23"]
        )
        assert result.exit_code == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["programme"] == NAME
        assert report["decision"]["outcome"] == outcome
        rules = [r["rule_id"] for r in report["rules"]]
        assert rules[-1] == "patient_is_child"
        if outcome == "eligible":
            assert report["routing"]["action"] == "offer_sequence"
            assert report["routing"]["targets"], "the demo GPs of 88400 are offered the child"


def test_the_daemon_routes_the_fifth_programme(tmp_path: Path, db_url: str) -> None:
    config = load_config(_site(tmp_path, db_url))
    upgrade(db_url)
    services = RoutingServices.load(config)
    engine = make_engine(db_url)

    async def parse(raw: bytes, kind: RequestKind | None) -> ParsedMessage:
        assert kind == RequestKind.SIGNALEMENT  # the programme's `kind`
        return await asyncio.to_thread(parse_message, raw, default_kind=kind)

    pipeline = Pipeline(
        config=config,
        engine=engine,
        parse=parse,
        renderer=ReplyRenderer(
            from_address="ne-pas-repondre@cpts.test", from_name="CPTS", limit_bytes=10_000_000
        ),
        services=services,
        owner="t",
        clock=lambda: T0,
    )
    with repo.session_for(engine) as s:
        (stored,) = repo.store_inbound_batch(s, [IncomingRaw("ped", _mail("12/03/2019"))])
        row = s.get(InboundMessage, stored)
        assert row is not None
        row.received_at = row.next_attempt_at = T0
        s.commit()
    asyncio.run(pipeline.drain())
    with repo.session_for(engine) as s:
        (case,) = s.exec(select(Case)).all()
        assert (case.programme, case.status) == (NAME, "routed")
        results = s.exec(select(RuleResultRow)).all()
        assert [r.rule_id for r in results][-1] == "patient_is_child"
        assert all(r.outcome == "passed" for r in results)
        (offer,) = s.exec(select(Offer)).all()
        assert offer.kind == "signalement"
        ack = next(m for m in s.exec(select(OutboundMessage)).all() if m.recipient == IDE)
        sent = raw_of(s, ack)
    assert ack.kind == "ack"
    message = email.message_from_bytes(sent, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    part = message.get_body(("plain",))
    assert part is not None
    assert "votre signalement d'un enfant sans médecin traitant" in str(part.get_content())
    engine.dispose()


def test_a_mailbox_naming_an_undeclared_programme_is_refused(tmp_path: Path) -> None:
    config_path = _site(tmp_path, "sqlite://")
    (tmp_path / "programmes.toml").write_text(programmes_toml(), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"mailboxes\[0\]\.programme: unknown programme"):
        RoutingServices.load(load_config(config_path))


def test_a_programme_with_an_unknown_strategy_is_refused(tmp_path: Path) -> None:
    config_path = _site(tmp_path, "sqlite://")
    text = (tmp_path / "programmes.toml").read_text(encoding="utf-8")
    (tmp_path / "programmes.toml").write_text(
        text.replace('routing = "gp_offers"', 'routing = "carrier_pigeon"'), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="unknown strategy 'carrier_pigeon'"):
        RoutingServices.load(load_config(config_path))
