"""The dashboard's retention block: the policy the daemon applied and its last pass."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col

from gateway.cases.retention import Retention
from gateway.config import parse_config
from gateway.storage import repo
from gateway.storage.models import Case, InboundMessage, InboundStatus, utcnow
from tests.gateway.web.conftest import Web
from tests.support.mail_rows import add_inbound
from tests.support.web import login, seed_case


def test_the_dashboard_shows_the_policy_and_the_last_pass(web: Web) -> None:
    client = web.client()
    login(client, "viewer")
    assert "Aucune purge effectuée pour l'instant" in client.get("/").text

    long_ago = utcnow() - timedelta(days=800)
    with repo.session_for(web.engine) as session:
        add_inbound(
            session,
            b"abc",
            mailbox="sig",
            source_key="q1",
            content_sha256="0" * 64,
            status=InboundStatus.QUARANTINED,
            received_at=long_ago,
        )
        session.commit()
    config = parse_config({"retention": {"raw_months": 12, "closed_case_months": 36}}, environ={})
    Retention(web.engine, config).run()
    page = client.get("/").text
    assert "Conservation : messages bruts 12 mois" in page
    assert "dossiers clos 36 mois après clôture" in page
    assert "quarantaine conservée jusqu&#39;à remise en traitement" in page
    assert "Dernière purge le " in page
    assert "1 message(s) en quarantaine</a> au-delà de la durée de conservation" in page


def test_a_reduced_case_still_opens_without_its_personal_data(web: Web) -> None:
    long_ago = utcnow() - timedelta(days=1000)
    seeded = seed_case(web.engine, 7, family="QUERNAVSKI", status="completed", opened_at=long_ago)
    with repo.session_for(web.engine) as session:
        session.execute(
            update(Case)
            .where(col(Case.id) == seeded.case_id)
            .values(closed_at=long_ago, updated_at=long_ago)
        )
        session.execute(update(InboundMessage).values(received_at=long_ago))
        session.commit()
    report = Retention(web.engine, parse_config({}, environ={})).run()
    assert report.cases_reduced == 1
    client = web.client()
    login(client, "coord")
    page = client.get(f"/cases/{seeded.reference}")
    assert page.status_code == 200
    assert seeded.reference in page.text
    assert "QUERNAVSKI" not in page.text
