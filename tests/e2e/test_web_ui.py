"""The coordinator UI in a real browser (Debian's Chromium), against a live server."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine
from sqlmodel import Session, select
from starlette.routing import Mount, Route

from gateway.storage.models import OutboundMessage, utcnow
from gateway.storage.web_models import AuditEntry
from gateway.web.app import create_app
from gateway.web.context import WebContext
from gateway.web.routes.ops import PUBLIC_PATHS
from tests.support.browser import (  # noqa: F401  (fixtures)
    ARTIFACTS,
    LiveSite,
    ServeSite,
    browser,
    serve_site,
)
from tests.support.web import PASSWORD, SeededCase, make_users, seed_case

pytestmark = pytest.mark.e2e
Site = LiveSite[list[SeededCase]]


def _seed(engine: Engine) -> list[SeededCase]:
    make_users(engine)
    now = utcnow()
    return [
        seed_case(
            engine,
            n,
            family=("DURAND", "MARTIN", "PETIT")[n % 3],
            programme="tele_expertise" if n % 2 == 0 else "signalement",
            status="waiting_coordinator" if n == 4 else "routed",
            opened_at=now - timedelta(minutes=n),
            quarantined=n == 3,
        )
        for n in range(1, 9)
    ]


@pytest.fixture
def site(serve_site: ServeSite) -> Site:  # noqa: F811
    return serve_site(_seed)


def _login(page: Page, site: Site, username: str) -> None:
    page.goto(site.url + "/")
    expect(page).to_have_url(site.url + "/login?next=%2F")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Tableau de bord")).to_be_visible()


def _logged_in(browser: Browser, site: Site, username: str) -> Page:  # noqa: F811
    page = browser.new_page()
    _login(page, site, username)
    return page


def _screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_log_in_and_see_the_dashboard(site: Site, browser: Browser) -> None:  # noqa: F811
    page = browser.new_page()
    page.goto(site.url + "/login")
    page.get_by_label("Identifiant").fill("coord")
    page.get_by_label("Mot de passe").fill("wrong password!")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("alert")).to_contain_text("incorrect")
    _login(page, site, "coord")
    expect(page.get_by_text("dossier(s) en attente de coordination")).to_be_visible()
    expect(page.get_by_text("message(s) en quarantaine")).to_contain_text("1")
    _screenshot(page, "dashboard.png")
    page.close()


def test_filter_the_routing_log_and_open_a_case(site: Site, browser: Browser) -> None:  # noqa: F811
    page = _logged_in(browser, site, "coord")
    page.get_by_role("link", name="Journal des orientations").click()
    expect(page.locator("table.log tbody tr")).to_have_count(8)
    page.get_by_label("Programme").select_option("tele_expertise")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.locator("table.log tbody tr")).to_have_count(4)
    assert "programme=tele_expertise" in page.url
    page.get_by_label("Recherche").fill("petit")
    page.get_by_role("button", name="Filtrer").click()
    # PETIT are n % 3 == 2: 2 and 8 are télé-expertise.
    expect(page.locator("table.log tbody tr")).to_have_count(2)
    page.get_by_role("link", name="AIG-2026-000002").click()
    expect(page.get_by_role("heading", name="Dossier AIG-2026-000002")).to_be_visible()
    expect(page.locator("tr.conflict")).to_have_count(1)
    expect(page.get_by_text("Informations contradictoires")).to_be_visible()
    page.get_by_label("Nouvelle note").fill("Patient rappelé, attend un retour")
    page.get_by_role("button", name="Ajouter la note").click()
    expect(page.locator("#notes")).to_contain_text("Patient rappelé, attend un retour")
    _screenshot(page, "case.png")
    page.close()


def test_resend_a_failed_reply_from_the_case_page(site: Site, browser: Browser) -> None:  # noqa: F811
    page = _logged_in(browser, site, "coord")
    seeded = site.seeded[0]
    page.goto(f"{site.url}/cases/{seeded.reference}")
    page.get_by_role("button", name="Renvoyer").click()
    expect(page.locator("#outbound")).to_contain_text("en attente")
    with Session(site.engine) as db:
        out = db.get(OutboundMessage, seeded.outbound_failed_id)
        audit = db.exec(select(AuditEntry).where(AuditEntry.action == "reply_resent")).all()
    assert out is not None and out.status == "pending"
    assert [a.actor for a in audit] == ["coord"]
    page.close()


def test_viewer_gets_no_action_buttons_and_a_forged_post_is_refused(
    site: Site,
    browser: Browser,  # noqa: F811
) -> None:
    page = _logged_in(browser, site, "viewer")
    quarantined = site.seeded[2]
    page.goto(f"{site.url}/cases/{quarantined.reference}")
    expect(page.get_by_role("heading", name=f"Dossier {quarantined.reference}")).to_be_visible()
    for name in ("Ajouter la note", "Renvoyer", "Remettre en traitement", "Écarter"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    expect(page.get_by_role("link", name="fiche.pdf")).to_have_count(0)
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    assert token
    forged = page.request.post(
        f"{site.url}/messages/{quarantined.inbound_id}/release", form={"csrf": token}
    )
    assert forged.status == 403
    page.close()


def test_a_csrf_less_post_is_refused(site: Site, browser: Browser) -> None:  # noqa: F811
    page = _logged_in(browser, site, "coord")
    seeded = site.seeded[0]
    response = page.request.post(
        f"{site.url}/cases/{seeded.reference}/notes", form={"text": "sans jeton"}
    )
    assert response.status == 403
    page.goto(f"{site.url}/cases/{seeded.reference}")
    expect(page.locator("#notes")).not_to_contain_text("sans jeton")
    page.close()


def test_every_route_refuses_a_visitor_without_a_session(site: Site) -> None:
    app = create_app(WebContext.build(site.server.config, site.engine))
    checked = 0
    with httpx.Client(base_url=site.url, follow_redirects=False) as client:
        for route in app.routes:
            if isinstance(route, Mount) or not isinstance(route, Route):
                continue
            if route.path in PUBLIC_PATHS:
                continue
            path = route.path.replace("{reference}", site.seeded[0].reference)
            for name in ("message_id", "outbound_id", "index", "rpps"):
                path = path.replace("{" + name + "}", "1")
            for method in sorted((route.methods or set()) - {"HEAD"}):
                response = client.request(method, path)
                checked += 1
                location = response.headers.get("location", "")
                assert (response.status_code == 303 and location.startswith("/login")) or (
                    response.status_code in (401, 403)
                ), (method, path, response.status_code)
    assert checked >= 15
