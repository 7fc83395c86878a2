"""The alert rules and the Grafana dashboard use only metrics that /metrics really exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from sqlmodel import Session

from gateway.metrics import Metrics
from gateway.pipeline.parse_pool import ParsePool
from gateway.storage.db import make_engine, upgrade
from gateway.storage.models import MailboxCursor, utcnow
from tests.support.database import _pg_url, create_pg_database, drop_pg_database
from tests.support.web import seed_case

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
METRIC = re.compile(r"\baiguilleur_[a-z0-9_]+")
SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created")


def _render(url: str) -> set[str]:
    """Metric family names in a real /metrics exposition, with their series suffixes."""
    upgrade(url)
    engine = make_engine(url)
    seed_case(engine, 1)
    with Session(engine) as db:
        db.add(MailboxCursor(mailbox="sig", connected=True, last_sync_at=utcnow(), reconnects=2))
        db.commit()
    metrics = Metrics()
    metrics.watch_database(engine, {"sig": "signalement"})
    metrics.observe_parse("signalement", 0.1)
    metrics.watch_parse_workers(ParsePool())  # starts no process until a parse
    text = metrics.render().decode()
    engine.dispose()
    series = [line for line in text.splitlines() if line and not line.startswith("#")]
    return {line.split("{")[0].split(" ")[0] for line in series}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, pg_server: str) -> set[str]:
    """What SQLite and PostgreSQL export (the mailbox leases only exist on PostgreSQL)."""
    names = _render(f"sqlite:///{tmp_path_factory.mktemp('metrics') / 'a.db'}")
    database = create_pg_database(pg_server)
    try:
        names |= _render(_pg_url(pg_server, database))
    finally:
        drop_pg_database(pg_server, database)
    return names


def _used(text: str) -> set[str]:
    return set(METRIC.findall(text))


def test_alert_rules_parse_and_use_exported_metrics(exported: set[str]) -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "aiguilleur-alerts.yml").read_text())
    alerts = [r for g in rules["groups"] for r in g["rules"]]
    names = {a["alert"] for a in alerts}
    assert {
        "AiguilleurMailboxNotSynced",
        "AiguilleurOutboxBacklog",
        "AiguilleurQuarantineGrowing",
        "AiguilleurOffersOverdue",
    } <= names
    for alert in alerts:
        assert alert["annotations"]["runbook"].startswith("docs/operations.md#")
        missing = _used(alert["expr"]) - exported
        assert not missing, (alert["alert"], missing)


def test_grafana_dashboard_parses_and_uses_exported_metrics(exported: set[str]) -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "aiguilleur-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(exprs) >= 10
    used = set().union(*(_used(e) for e in exprs))
    assert used - exported == set()
    # Every in-process and database family appears somewhere on the dashboard.
    families = {n for n in exported if not n.endswith(SUFFIXES)}
    assert families - used == set()
    assert {"aiguilleur_smtp_failures_total", "aiguilleur_parse_duration_seconds_bucket"} <= used


def test_runbook_has_every_anchor_the_alerts_link_to() -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "aiguilleur-alerts.yml").read_text())
    runbook = (DEPLOY.parent / "docs" / "operations.md").read_text()
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", h.lower()).strip().replace(" ", "-")
        for h in re.findall(r"^#+ (.+)$", runbook, flags=re.MULTILINE)
    }
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert rule["annotations"]["runbook"].split("#")[1] in anchors, rule["alert"]
