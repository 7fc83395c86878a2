"""Every word a coordinator reads is French: the whole UI walked in a real browser.

A database holds every state the UI shows (each case status, offers of every kind and
status, a quarantined message, failed replies, every event kind with its details, every
audit action), plus what a coordinator's own actions write through the real handlers.
Logged in as a coordinator, then as an admin, the test follows every link from the
navigation (case pages included) and looks for the codes of the enums, as whole words,
in the text the browser shows. The codes come from the enums themselves
(``tests.support.french.english_codes``); the few left out are listed there, with why.
"""

from __future__ import annotations

from urllib.parse import urldefrag, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from gateway.storage.web_models import AuditEntry, Role
from gateway.web.audit import AuditAction
from gateway.web.users import add_user
from tests.support.browser import LiveSite, ServeSite, browser, serve_site  # noqa: F401  (fixtures)
from tests.support.french import (
    SEED_CLIENT,
    Seeded,
    english_codes,
    raw_codes,
    seed_every_state,
)
from tests.support.web import PASSWORD

pytestmark = pytest.mark.e2e

COORDINATOR, ADMIN = "claire", "gaspard"
# Links that are not pages: downloads, the log's fragment polled by htmx, static files.
NOT_PAGES = ("/static/", "/attachments/", "/cases.csv", "/cases/rows")
MAX_PAGES = 80


Site = LiveSite[Seeded]


def _seed(engine: Engine) -> Seeded:
    with Session(engine) as db:
        add_user(db, COORDINATOR, PASSWORD, Role.COORDINATOR, "Claire Lemoine")
        add_user(db, ADMIN, PASSWORD, Role.ADMIN, "Gaspard Roche")
        db.commit()
    return seed_every_state(engine, actor=COORDINATOR)


@pytest.fixture
def site(serve_site: ServeSite) -> Site:  # noqa: F811
    return serve_site(_seed)


CODES = english_codes()


def _codes_shown(page: Page) -> list[str]:
    return raw_codes(page.inner_text("body"), CODES)


def _login(page: Page, site: Site, username: str) -> None:
    page.goto(site.url + "/login")
    assert _codes_shown(page) == []
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Tableau de bord")).to_be_visible()


def _links(page: Page, site: Site) -> list[str]:
    """The same-site pages the current page links to (its navigation included)."""
    found = []
    for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
        url, _ = urldefrag(str(href))
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != site.url:
            continue
        if any(marker in parts.path for marker in NOT_PAGES):
            continue
        found.append(url)
    return found


def _walk(page: Page, site: Site) -> tuple[set[str], dict[str, list[str]]]:
    """Every page reachable from the dashboard, each read once: the paths visited, and the
    codes each page shows (none, we expect)."""
    to_visit = [site.url + "/"]
    visited: set[str] = set()
    shown: dict[str, list[str]] = {}
    while to_visit:
        url = to_visit.pop(0)
        if url in visited:
            continue
        visited.add(url)
        assert len(visited) <= MAX_PAGES, "the walk does not end"
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        hits = _codes_shown(page)
        if hits:
            shown[url.removeprefix(site.url)] = hits
        to_visit += [link for link in _links(page, site) if link not in visited]
    paths = {urlsplit(u).path for u in visited}
    # The walk saw the navigation's pages and every case.
    assert {"/", "/cases", "/quarantine", "/directory", "/roster"} <= paths
    assert {f"/cases/{r}" for r in site.seeded.references} <= paths
    return paths, shown


def _act_as_a_coordinator(page: Page, site: Site) -> None:
    """What a coordinator does, through the real handlers: their audit entries and case
    events are then read like the seeded ones."""
    first, second, third = site.seeded.references[:3]
    page.goto(f"{site.url}/cases/{first}")
    page.get_by_label("Nouvelle note").fill("Patiente rappelée, attend un retour.")
    page.get_by_role("button", name="Ajouter la note").click()
    expect(page.locator("#notes")).to_contain_text("Patiente rappelée")
    page.locator("#outbound").get_by_role("button", name="Renvoyer").first.click()
    page.get_by_label("Corriger").select_option("patient.city")
    page.get_by_label("Valeur").fill("Gérardmer")
    page.get_by_role("button", name="Corriger et réexaminer").click()
    expect(page.locator("#timeline")).to_contain_text("Champ corrigé")
    page.goto(f"{site.url}/cases/{second}")
    page.get_by_label("Attribuer à").select_option("10000000002")
    page.locator("#assign-form").get_by_role("button").click()
    page.goto(f"{site.url}/cases/{third}")
    page.get_by_label("Clore avec l'issue").select_option("sans_solution")
    page.get_by_role("button", name="Clore le dossier").click()
    expect(page.locator("#timeline")).to_contain_text("Dossier clos")
    page.goto(f"{site.url}/quarantine")
    page.get_by_role("button", name="Remettre en traitement").first.click()
    attachment = page.request.get(
        f"{site.url}/messages/{site.seeded.quarantined_inbound}/attachments/0"
    )
    assert attachment.ok


def _audited(site: Site) -> set[str]:
    with Session(site.engine) as db:
        return set(db.exec(select(AuditEntry.action).where(col(AuditEntry.client) != SEED_CLIENT)))


def test_a_coordinator_reads_no_code_on_any_page(site: Site, browser: Browser) -> None:  # noqa: F811
    page = browser.new_page()
    try:
        _login(page, site, COORDINATOR)
        _act_as_a_coordinator(page, site)
        # The real handlers wrote these (the seeded entries come from SEED_CLIENT).
        assert {
            AuditAction.NOTE_ADDED,
            AuditAction.REPLY_RESENT,
            AuditAction.FIELD_CORRECTED,
            AuditAction.CASE_ASSIGNED,
            AuditAction.CASE_CLOSED,
            AuditAction.MESSAGE_RELEASED,
            AuditAction.ATTACHMENT_DOWNLOADED,
        } <= _audited(site)
        visited, shown = _walk(page, site)
        assert "/audit" not in visited and "/users" not in visited  # not a coordinator's
        assert shown == {}
    finally:
        page.close()


def test_an_admin_reads_no_code_on_any_page(site: Site, browser: Browser) -> None:  # noqa: F811
    page = browser.new_page()
    try:
        _login(page, site, ADMIN)
        # An admin's own action: a roster entry edited, then read in the audit log.
        page.goto(f"{site.url}/roster")
        doctor = page.locator("#rpps-10000000003")
        doctor.get_by_label("Filières (séparées par des virgules)").fill("orl, cardiologie")
        doctor.get_by_role("button", name="Enregistrer").click()
        assert AuditAction.ROSTER_EDITED in _audited(site)
        page.goto(f"{site.url}/directory?q=martin")
        assert _codes_shown(page) == []
        visited, shown = _walk(page, site)
        assert {"/audit", "/users"} <= visited
        assert shown == {}
    finally:
        page.close()
