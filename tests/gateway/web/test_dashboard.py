"""Dashboard figures: today's and this week's cases, and what needs a person."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from gateway.storage.models import utcnow
from gateway.web.dashboard import load_dashboard
from tests.gateway.web.conftest import Web
from tests.support.web import login, seed_case


def test_counts_cover_today_and_the_week_only(web: Web) -> None:
    now = utcnow()
    seed_case(web.engine, 1, opened_at=now)
    seed_case(web.engine, 2, opened_at=now, programme="tele_expertise")
    seed_case(web.engine, 3, opened_at=now, status="waiting_coordinator", quarantined=True)
    seed_case(web.engine, 4, opened_at=now - timedelta(days=40))
    with Session(web.engine) as db:
        board = load_dashboard(db, now)
    assert board.today == [
        ("signalement", "routed", 1),
        ("signalement", "waiting_coordinator", 1),
        ("tele_expertise", "routed", 1),
    ]
    assert sum(n for _, _, n in board.week) == 3
    assert board.waiting_count == 1 and [c.reference for c in board.waiting] == ["AIG-2026-000003"]
    assert board.quarantined == 1 and board.failed_replies == 4
    client = web.client()
    login(client, "viewer")
    page = client.get("/").text
    assert "Attente coordination" in page and 'href="/cases/AIG-2026-000003"' in page
