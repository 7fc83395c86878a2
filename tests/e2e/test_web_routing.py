"""A coordinator reassigns and closes a case in the browser; the mails go through the real
mail stack, sent by the running daemon (which also serves the UI)."""

from __future__ import annotations

import subprocess
import uuid

import httpx
import pytest
from playwright.sync_api import Browser, expect

from deploy.mailstack import MailUser
from gateway.cli.demo_routing import DemoDoctor
from tests.e2e.harness import AIGUILLEUR, Gateway, signalement_mail, wait_until
from tests.e2e.test_routing_stories import _body, _one
from tests.support.browser import browser, free_port  # noqa: F401  (fixture)

pytestmark = pytest.mark.e2e
PASSWORD = "mot-de-passe-solide-42"


def _web_up(gateway: Gateway) -> bool:
    try:
        return httpx.get(gateway.web_url + "/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_reassign_then_close_from_the_browser(
    gateway: Gateway,
    professional: MailUser,
    browser: Browser,  # noqa: F811
) -> None:
    gp1 = gateway.stack.add_user(f"gp1-{uuid.uuid4().hex[:8]}@medecin.test")
    gp2 = gateway.stack.add_user(f"gp2-{uuid.uuid4().hex[:8]}@medecin.test")
    gateway.doctors[:] = [
        DemoDoctor("10000000001", "Dr Claire Martin", gp1.address),
        DemoDoctor("10000000002", "Dr Hugo Bernard", gp2.address),
    ]
    gateway.web_port = free_port()
    gateway.start()
    gateway.send(signalement_mail(professional.address, gateway.address))
    _one(gateway, gp1, "Proposition de nouveau patient")
    subprocess.run(
        [
            str(AIGUILLEUR),
            "user",
            "add",
            "coord",
            "--role",
            "coordinator",
            "--password-stdin",
            "--config",
            str(gateway.config_path),
        ],
        input=PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
        timeout=60,
    )
    wait_until(lambda: _web_up(gateway), what="the daemon's web UI")
    (case,) = gateway.db().cases()

    page = browser.new_page()
    page.goto(gateway.web_url + "/login")
    page.get_by_label("Identifiant").fill("coord")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Tableau de bord")).to_be_visible()
    page.goto(f"{gateway.web_url}/cases/{case.reference}")

    # Reassign to the second GP: the first is told, the second gets the offer by mail.
    page.get_by_label("Attribuer à").select_option("10000000002")
    page.get_by_role("button", name="Réattribuer").click()
    expect(page.locator("#timeline")).to_contain_text("coord")
    offer = _one(gateway, gp2, "Proposition de nouveau patient")
    assert "ACCEPTE ou REFUSE" in _body(offer)
    _one(gateway, gp1, "Demande déjà attribuée")
    assert [o.kind for o in gateway.db().outbound() if o.recipient == gp2.address] == ["offer"]

    # Close with an outcome: the reply reaches the sender's mailbox.
    page.get_by_label("Clore avec l'issue").select_option("oriente_autrement")
    page.get_by_label("Message à l'expéditeur (facultatif)").fill("Suivi par la MSP du secteur.")
    page.get_by_role("button", name="Clore le dossier").click()
    expect(page.locator(".summary")).to_contain_text("Clos")
    closed = _one(gateway, professional, "Dossier clos")
    assert "Suivi par la MSP du secteur." in _body(closed)
    assert "autre solution" in _body(closed)
    page.close()
    gateway.terminate()
