"""Stored XSS in a real browser (Debian's Chromium): payloads in a patient name, a sender, a
subject, an attachment name and an error never run, on any page nor in the routing log's
htmx refresh. Each payload would set ``window.__xss`` and open a dialog."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect
from sqlalchemy import Engine

from tests.gateway.web.hostile import IMG, SCRIPT, hostile_case
from tests.support.browser import LiveSite, ServeSite, browser, serve_site  # noqa: F401  (fixtures)
from tests.support.web import PASSWORD, SeededCase, make_users

pytestmark = pytest.mark.e2e
Site = LiveSite[SeededCase]


def _seed(engine: Engine) -> SeededCase:
    make_users(engine)
    return hostile_case(engine)


@pytest.fixture
def site(serve_site: ServeSite) -> Site:  # noqa: F811
    return serve_site(_seed)


def _watched(browser: Browser, dialogs: list[str]) -> Page:  # noqa: F811
    page = browser.new_page()

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return page


def _inert(page: Page, dialogs: list[str]) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined", page.url
    assert dialogs == [], page.url


def test_stored_xss_never_runs_in_the_browser(site: Site, browser: Browser) -> None:  # noqa: F811
    dialogs: list[str] = []
    page = _watched(browser, dialogs)
    page.goto(site.url + "/login")
    page.get_by_label("Identifiant").fill("admin")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Tableau de bord")).to_be_visible()
    _inert(page, dialogs)
    for path in (
        "/cases",
        f"/cases/{site.seeded.reference}",
        "/quarantine",
        "/audit",
        f"/cases?q={quote(SCRIPT)}",
        f"/directory?q={quote(IMG)}",
    ):
        page.goto(site.url + path)
        page.wait_for_load_state("load")
        _inert(page, dialogs)
    # The payloads are on the page, as text.
    page.goto(site.url + f"/cases/{site.seeded.reference}")
    expect(page.get_by_text(SCRIPT).first).to_be_visible()
    # The routing log's refresh swaps in an htmx fragment holding the payloads; it is marked
    # as background (it must not keep the session alive) and still carries the CSRF header.
    page.goto(site.url + "/cases")
    with page.expect_request(lambda r: "/cases/rows" in r.url, timeout=25_000) as polled:
        pass
    headers = polled.value.all_headers()
    assert headers.get("x-aiguilleur-background") == "1"
    assert headers.get("hx-request") == "true" and headers.get("x-csrf-token")
    page.wait_for_timeout(500)  # the swap
    expect(page.locator("table.log tbody tr")).to_have_count(1)
    _inert(page, dialogs)
    page.close()
