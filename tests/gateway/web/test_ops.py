"""/healthz, /readyz and /metrics, and the roster editor writing the file the daemon reads."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from gateway.directory.roster import load_roster
from gateway.ingest.leases import MailboxLeases
from gateway.metrics import Metrics
from gateway.storage import repo
from gateway.storage.db import is_postgres
from gateway.storage.models import MailboxCursor, utcnow
from gateway.web.context import WebContext
from tests.gateway.web.conftest import Web
from tests.support.outbound import outbound_ack
from tests.support.web import csrf_of, login, seed_case, web_config


def _synced(engine: Engine, ago: float) -> None:
    with Session(engine) as db:
        db.merge(
            MailboxCursor(
                mailbox="sig", connected=False, last_sync_at=utcnow() - timedelta(seconds=ago)
            )
        )
        db.commit()
    if is_postgres(engine):  # several replicas possible: one of them must hold the mailbox
        MailboxLeases(engine, "replica-a", ["sig"], lease_seconds=300).round()


def test_readyz_says_which_check_failed(web: Web) -> None:
    client = web.client()
    assert client.get("/healthz").json() == {"status": "ok"}
    body = client.get("/readyz").json()
    assert body["failed"] == ["mailbox:sig"]
    _synced(web.engine, 10)
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json()["status"] == "ok"
    with Session(web.engine) as db:
        repo.queue_outbound(
            db, outbound_ack("old", "a@b.test", created_at=utcnow() - timedelta(hours=2))
        )
        db.commit()
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["failed"] == ["outbox_oldest"]
    # A daemon loop that fails (the sender here) is red too, with the error's type only.
    web.ctx.metrics.loops.failed("outbox", ConnectionRefusedError("x"))
    body = client.get("/readyz").json()
    assert body["failed"] == ["outbox_oldest", "loop:outbox"]
    assert "ConnectionRefusedError" in body["checks"][-1]["detail"]


def test_metrics_count_rows_and_in_process_events(web: Web) -> None:
    seed_case(web.engine, 1, quarantined=True)
    _synced(web.engine, 5)
    web.ctx.metrics.observe_parse("signalement", 0.3)
    web.ctx.metrics.smtp_failure("permanent")
    text = web.client().get("/metrics").text
    quarantined = 'mailbox="sig",programme="signalement",status="quarantined"'
    assert f"aiguilleur_inbound_messages{{{quarantined}}} 1.0" in text
    assert 'aiguilleur_cases{programme="signalement",status="routed"} 1.0' in text
    assert 'aiguilleur_outbound_messages{kind="ack",status="failed"} 1.0' in text
    assert 'aiguilleur_rule_results_total{outcome="missing",rule="no_medecin_traitant"} 1.0' in text
    assert 'aiguilleur_parse_duration_seconds_count{kind="signalement"} 1.0' in text
    assert 'aiguilleur_smtp_failures_total{kind="permanent"} 1.0' in text
    assert 'aiguilleur_mailbox_last_sync_timestamp_seconds{mailbox="sig"}' in text
    assert "aiguilleur_database_up 1.0" in text
    web.ctx.metrics.loops.failed("timers", TimeoutError())
    text = web.client().get("/metrics").text
    assert 'aiguilleur_loop_errors_total{loop="timers"} 1.0' in text
    assert 'aiguilleur_loop_failing{loop="timers"} 1.0' in text


def test_metrics_token_is_required_when_configured(db_url: str, tmp_path: Path, web: Web) -> None:
    token = tmp_path / "metrics-token"
    token.write_text("s3cret-token\n")
    config = web_config(db_url, tmp_path, metrics_token_file=str(token))
    ctx = WebContext.build(config, web.engine, Metrics())
    web.ctx = ctx
    client = web.client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert ok.status_code == 200 and "aiguilleur_cases" in ok.text


def test_admin_edits_the_roster_file_and_bad_input_changes_nothing(web: Web) -> None:
    path = web.config.routing.roster_path
    assert path is not None
    doctor = load_roster(path)[0]
    client = web.client()
    login(client, "admin")
    token = csrf_of(client.get("/roster").text)
    response = client.post(
        f"/roster/{doctor.rpps}",
        data={
            "csrf": token,
            "filieres": "ORL, Dermatologie",
            "absences": "2027-01-02 2027-01-09",
            "accepts_new_patients": "",
        },
    )
    assert response.status_code == 200
    after = next(d for d in load_roster(path) if d.rpps == doctor.rpps)
    assert after.filieres == frozenset({"ORL", "Dermatologie"}) and not after.accepts_new_patients
    assert [(a.start.isoformat(), a.end.isoformat()) for a in after.absences] == [
        ("2027-01-02", "2027-01-09")
    ]
    before = path.read_text()
    bad = client.post(
        f"/roster/{doctor.rpps}", data={"csrf": token, "absences": "2027-02-10 2027-02-01"}
    )
    assert bad.status_code == 400 and "antérieure" in bad.text
    assert path.read_text() == before
    coord = web.client()
    login(coord, "coord")
    refused = coord.post(
        f"/roster/{doctor.rpps}", data={"csrf": csrf_of(coord.get("/roster").text)}
    )
    assert refused.status_code == 403 and path.read_text() == before
