"""Sessions, CSRF, roles and throttling, through the HTTP interface."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select
from starlette.routing import Mount, Route

from gateway.storage.web_models import AuditEntry, LoginAttempt, WebSession
from gateway.web.app import create_app
from gateway.web.routes.ops import PUBLIC_PATHS
from tests.gateway.web.conftest import Web
from tests.support.web import PASSWORD, csrf_of, login, seed_case


def test_every_route_but_the_public_ones_needs_a_session(web: Web) -> None:
    client = web.client()
    app = create_app(web.ctx)
    walked = 0
    for route in app.routes:
        if isinstance(route, Mount) or not isinstance(route, Route):
            continue
        path = route.path.replace("{reference}", "AIG-2026-000001")
        for name in ("message_id", "outbound_id", "index", "rpps"):
            path = path.replace("{" + name + "}", "1")
        assert "{" not in path, path
        for method in sorted(route.methods or ()):
            if method == "HEAD" or route.path in PUBLIC_PATHS:
                continue
            response = client.request(method, path, follow_redirects=False)
            walked += 1
            if response.status_code == 303:
                assert response.headers["location"].startswith("/login?next="), path
            else:
                assert response.status_code in (401, 403), (method, path, response.status_code)
    assert walked >= 15


def test_login_sets_a_hardened_cookie_and_logout_ends_the_session(web: Web) -> None:
    client = web.client()
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"csrf": csrf_of(page.text), "username": "coord", "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    home = client.get("/")
    assert home.status_code == 200 and "Tableau de bord" in home.text
    client.post("/logout", data={"csrf": csrf_of(home.text)}, follow_redirects=False)
    assert client.get("/", follow_redirects=False).status_code == 303
    with Session(web.engine) as db:
        assert db.exec(select(WebSession)).all() == []
        actions = [a.action for a in db.exec(select(AuditEntry)).all()]
    assert actions == ["login", "logout"]


def test_login_without_its_csrf_token_is_refused(web: Web) -> None:
    client = web.client()
    client.get("/login")
    response = client.post("/login", data={"username": "coord", "password": PASSWORD})
    assert response.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 303


def test_post_without_csrf_is_refused_even_with_a_session(web: Web) -> None:
    seeded = seed_case(web.engine, 1)
    client = web.client()
    login(client, "coord")
    response = client.post(f"/cases/{seeded.reference}/notes", data={"text": "sans jeton"})
    assert response.status_code == 403 and "CSRF" in response.text
    response = client.post(
        f"/cases/{seeded.reference}/notes", data={"text": "faux", "csrf": "forged"}
    )
    assert response.status_code == 403
    page = client.get(f"/cases/{seeded.reference}")
    assert "sans jeton" not in page.text and "faux" not in page.text


def test_viewer_sees_no_action_and_a_forged_post_is_refused(web: Web) -> None:
    seeded = seed_case(web.engine, 1, quarantined=True)
    client = web.client()
    login(client, "viewer")
    page = client.get(f"/cases/{seeded.reference}")
    assert page.status_code == 200
    for action in ("/notes", "/release", "/discard", "/resend", "/attachments/"):
        assert action not in page.text
    token = csrf_of(page.text)  # the logout form's: a valid token for this session
    for path in (
        f"/cases/{seeded.reference}/notes",
        f"/messages/{seeded.inbound_id}/release",
        f"/outbound/{seeded.outbound_failed_id}/resend",
    ):
        response = client.post(path, data={"csrf": token, "text": "x"}, follow_redirects=False)
        assert response.status_code == 403, path
    assert client.get(f"/messages/{seeded.inbound_id}/attachments/0").status_code == 403


def test_wrong_passwords_are_throttled_even_before_the_right_one(web: Web) -> None:
    client = web.client()
    for _ in range(web.config.web.login_max_failures):
        page = client.get("/login")
        bad = client.post(
            "/login", data={"csrf": csrf_of(page.text), "username": "coord", "password": "nope"}
        )
        assert bad.status_code == 401 and "incorrect" in bad.text
    page = client.get("/login")
    good = client.post(
        "/login", data={"csrf": csrf_of(page.text), "username": "coord", "password": PASSWORD}
    )
    assert good.status_code == 429 and "Trop de tentatives" in good.text
    # The refused try is not a failure: it is not recorded, so it does not extend the wait.
    with Session(web.engine) as db:
        assert len(db.exec(select(LoginAttempt)).all()) == web.config.web.login_max_failures


def test_an_idle_session_expires(web: Web) -> None:
    client = web.client()
    login(client, "coord")
    assert client.get("/", follow_redirects=False).status_code == 200
    with Session(web.engine) as db:
        (row,) = db.exec(select(WebSession)).all()
        row.last_seen_at -= timedelta(minutes=web.config.web.session_idle_minutes + 1)
        db.add(row)
        db.commit()
    assert client.get("/", follow_redirects=False).status_code == 303
    with Session(web.engine) as db:
        assert db.exec(select(WebSession)).all() == []


def test_a_tampered_cookie_is_no_session(web: Web) -> None:
    client = web.client()
    login(client, "coord")
    value = client.cookies["aig_session"]
    client.cookies.set("aig_session", value[:-1] + ("0" if value[-1] != "0" else "1"))
    assert client.get("/", follow_redirects=False).status_code == 303


def test_logging_in_drops_sessions_that_idled_out(web: Web) -> None:
    first = web.client()
    login(first, "viewer")
    with Session(web.engine) as db:
        (row,) = db.exec(select(WebSession)).all()
        row.last_seen_at -= timedelta(minutes=web.config.web.session_idle_minutes + 1)
        db.add(row)
        db.commit()
    login(web.client(), "coord")
    with Session(web.engine) as db:
        assert len(db.exec(select(WebSession)).all()) == 1
