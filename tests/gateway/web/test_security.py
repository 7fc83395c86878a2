"""The web UI against OWASP ASVS L2 (docs/security.md maps each item to a test here)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select
from starlette.routing import Mount, Route
from starlette.testclient import TestClient
from structlog.testing import capture_logs

from gateway.storage.models import Case, utcnow
from gateway.storage.web_models import LoginAttempt, Role, WebSession
from gateway.web import users
from gateway.web.access import PUBLIC_ROUTES, ROUTE_ROLES, UnlistedRouteError
from gateway.web.app import create_app
from gateway.web.auth import BACKGROUND_HEADER, guarded
from gateway.web.context import WebContext
from gateway.web.csvsafe import safe_cell
from tests.gateway.web.conftest import Web
from tests.gateway.web.hostile import IMG, SCRIPT, hostile_case
from tests.support.web import PASSWORD, SeededCase, csrf_of, login, seed_case, web_config

ROLES: dict[str, Role] = {"viewer": Role.VIEWER, "coord": Role.COORDINATOR, "admin": Role.ADMIN}
HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy")


def _web(db_url: str, tmp_path: Path, web: Web, **settings: object) -> Web:
    config = web_config(db_url, tmp_path, **settings)
    return Web(config, web.engine, WebContext.build(config, web.engine))


def _path(route: Route, seeded: SeededCase) -> str:
    values = {
        "reference": seeded.reference,
        "message_id": str(seeded.inbound_id),
        "outbound_id": str(seeded.outbound_failed_id),
        "index": "0",
        "rpps": "10000000001",
    }
    path = route.path
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, path
    return path


# --- Access control: one table, every route, every role ------------------------------


def test_route_role_matrix_from_the_router(web: Web) -> None:
    """Every route of the app is in gateway.web.access, and each role gets what it says."""
    seeded = seed_case(web.engine, 1, quarantined=True)
    app = create_app(web.ctx)
    clients: dict[str, TestClient] = {"anonymous": web.client()}
    for name in ROLES:
        clients[name] = web.client()
        login(clients[name], name)
    tokens = {name: csrf_of(c.get("/").text) for name, c in clients.items() if name in ROLES}
    cells = []
    for route in app.routes:
        assert route.name in ROUTE_ROLES if isinstance(route, Route | Mount) else False, route
        if isinstance(route, Route):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                cells.append((route, method))
    # Logging out ends the session the other cells use: last.
    cells.sort(key=lambda cell: cell[0].name == "logout")
    assert {r.name for r, _ in cells} | {"static"} == set(ROUTE_ROLES)
    for route, method in cells:
        needed = ROUTE_ROLES[route.name]
        path = _path(route, seeded)
        for who, client in clients.items():
            data = {"csrf": tokens[who]} if who in tokens else {}
            response = client.request(
                method, path, data=data or None, follow_redirects=False, headers={}
            )
            status, cell = response.status_code, (method, path, who, response.status_code)
            if needed is None:
                assert status not in (401, 403) or route.name == "login", cell
            elif who == "anonymous":
                expected = 303 if method == "GET" else 401
                assert status == expected, cell
            elif not ROLES[who].at_least(needed):
                assert status == 403 and "Accès refusé" in response.text, cell
            elif method == "GET":
                assert status == 200, cell
            else:  # allowed: the action runs, or refuses for a business reason
                assert status in (303, 400, 409), cell


def test_a_route_missing_from_the_table_cannot_be_built(web: Web) -> None:
    with pytest.raises(UnlistedRouteError):
        guarded(web.ctx, "/new", lambda call: None, name="not_in_the_table")  # type: ignore[arg-type, return-value]
    with pytest.raises(ValueError, match="public"):
        guarded(web.ctx, "/healthz", lambda call: None, name="healthz")  # type: ignore[arg-type, return-value]
    assert {"healthz", "readyz", "metrics", "login", "login_form", "static"} == PUBLIC_ROUTES


# --- Sessions ------------------------------------------------------------------------


def _home_status_with(web: Web, session: str) -> int:
    """The home page's status for another client replaying the ``session`` cookie."""
    replay = web.client()
    replay.cookies.set("aig_session", session)
    status: int = replay.get("/", follow_redirects=False).status_code
    return status


def test_session_id_changes_at_login_and_the_old_one_ends(web: Web) -> None:
    client = web.client()
    login(client, "coord")
    first = client.cookies["aig_session"]
    login(client, "coord")
    second = client.cookies["aig_session"]
    assert first != second
    with Session(web.engine) as db:
        assert len(db.exec(select(WebSession)).all()) == 1
    assert _home_status_with(web, first) == 303


def test_logout_ends_the_session_on_the_server(web: Web) -> None:
    client = web.client()
    login(client, "coord")
    stolen = client.cookies["aig_session"]
    client.post("/logout", data={"csrf": csrf_of(client.get("/").text)})
    assert _home_status_with(web, stolen) == 303


def test_a_session_ends_after_its_absolute_lifetime_however_active(web: Web) -> None:
    client = web.client()
    login(client, "coord")
    with Session(web.engine) as db:
        (row,) = db.exec(select(WebSession)).all()
        row.created_at -= timedelta(hours=web.config.web.session_absolute_hours, minutes=1)
        row.last_seen_at = utcnow()
        db.add(row)
        db.commit()
    assert client.get("/", follow_redirects=False).status_code == 303


def _age(web: Web, by: timedelta) -> None:
    """Make the one open session last seen ``by`` ago."""
    with Session(web.engine) as db:
        (row,) = db.exec(select(WebSession)).all()
        row.last_seen_at = utcnow() - by
        db.add(row)
        db.commit()


def _seen(web: Web) -> timedelta:
    with Session(web.engine) as db:
        (row,) = db.exec(select(WebSession)).all()
        return utcnow() - row.last_seen_at


def test_the_routing_logs_auto_refresh_does_not_keep_a_session_alive(web: Web) -> None:
    client = web.client()
    login(client, "coord")
    page = client.get("/cases")
    assert """hx-headers='{"X-Aiguilleur-Background": "1"}'""" in page.text
    idle = timedelta(minutes=web.config.web.session_idle_minutes)
    poll = {"HX-Request": "true", BACKGROUND_HEADER: "1"}
    _age(web, idle - timedelta(minutes=1))
    for _ in range(3):
        assert client.get("/cases/rows", headers=poll).status_code == 200
    assert _seen(web) > idle - timedelta(minutes=2)  # not touched
    _age(web, idle + timedelta(seconds=5))
    assert client.get("/cases/rows", headers=poll).status_code == 401
    # A request the person made does count as activity.
    login(client, "coord")
    _age(web, timedelta(minutes=5))
    client.get("/cases")
    assert _seen(web) < timedelta(minutes=1)


def test_cookies_and_hsts_when_cookie_secure_is_always(
    db_url: str, tmp_path: Path, web: Web
) -> None:
    secure = _web(db_url, tmp_path, web, cookie_secure="always")
    client = TestClient(create_app(secure.ctx), base_url="https://testserver")
    page = client.get("/login")
    assert "Secure" in page.headers["set-cookie"] and "HttpOnly" in page.headers["set-cookie"]
    assert page.headers["strict-transport-security"].startswith("max-age=")
    response = client.post(
        "/login",
        data={"csrf": csrf_of(page.text), "username": "coord", "password": PASSWORD},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"]
    for flag in ("Secure", "HttpOnly", "SameSite=lax", "Path=/"):
        assert flag in cookie, cookie
    assert "strict-transport-security" not in web.client().get("/login").headers


def test_security_headers_and_a_csp_without_unsafe_inline(web: Web) -> None:
    response = web.client().get("/login")
    csp = response.headers["content-security-policy"]
    for part in ("default-src 'self'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert part in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


# --- Login throttling ----------------------------------------------------------------


def _try(client: TestClient, address: str, username: str, password: str) -> int:
    page = client.get("/login", headers={"X-Forwarded-For": address})
    response = client.post(
        "/login",
        data={"csrf": csrf_of(page.text), "username": username, "password": password},
        headers={"X-Forwarded-For": address},
        follow_redirects=False,
    )
    return int(response.status_code)


def test_an_attackers_failures_do_not_stop_the_right_password(
    db_url: str, tmp_path: Path, web: Web
) -> None:
    behind = _web(db_url, tmp_path, web, forwarded_allow_ips=["testclient"])
    attacker, user = behind.client(), behind.client()
    limit = behind.config.web.login_max_failures
    codes = [_try(attacker, "203.0.113.9", "coord", "wrong password") for _ in range(limit + 1)]
    assert codes == [401] * limit + [429]
    with Session(behind.engine) as db:  # a long campaign: the attacker now waits minutes
        for _ in range(6):
            db.add(LoginAttempt(username="coord", client="203.0.113.9", success=False))
        db.commit()
    # The real user, from their own address, gets in at once; the attacker does not.
    assert _try(user, "198.51.100.7", "coord", PASSWORD) == 303
    assert _try(attacker, "203.0.113.9", "coord", PASSWORD) == 429
    with Session(behind.engine) as db:
        clients = {a.client for a in db.exec(select(LoginAttempt)).all()}
        failures = db.exec(select(LoginAttempt).where(LoginAttempt.success == False)).all()  # noqa: E712
    assert clients == {"203.0.113.9", "198.51.100.7"}  # X-Forwarded-For from the proxy
    assert len(failures) == limit + 6  # refused tries are not failures


def test_the_wait_doubles_and_then_the_right_password_works(web: Web) -> None:
    client = web.client()
    limit = web.config.web.login_max_failures
    for _ in range(limit):
        assert _try(client, "", "coord", "wrong password") == 401
    assert _try(client, "", "coord", PASSWORD) == 429
    with Session(web.engine) as db:  # the 4 s wait has passed
        for row in db.exec(select(LoginAttempt)).all():
            row.at -= timedelta(seconds=5)
            db.add(row)
        db.commit()
    assert _try(client, "", "coord", PASSWORD) == 303


def test_x_forwarded_for_is_ignored_from_an_untrusted_peer(web: Web) -> None:
    _try(web.client(), "192.0.2.1", "coord", "wrong password")
    with Session(web.engine) as db:
        (attempt,) = db.exec(select(LoginAttempt)).all()
    assert attempt.client == "testclient"


def test_a_refused_try_skips_argon2(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    client = web.client()
    for _ in range(web.config.web.login_max_failures):
        _try(client, "", "coord", "wrong password")
    checked: list[str] = []

    def check(_stored: str | None, password: str) -> bool:
        checked.append(password)
        return False

    monkeypatch.setattr(users, "check_password", check)
    assert _try(client, "", "coord", PASSWORD) == 429
    assert checked == []


# --- Output encoding: stored XSS -----------------------------------------------------


def test_stored_xss_is_inert_on_every_page_and_fragment(web: Web) -> None:
    seeded = hostile_case(web.engine)
    client = web.client()
    login(client, "admin")
    pages = ["/", "/cases", "/cases/rows", f"/cases/{seeded.reference}", "/quarantine", "/audit"]
    pages += [f"/cases?q={SCRIPT}", f"/directory?q={IMG}", f"/audit?actor={IMG}"]
    for path in pages:
        response = client.get(path, headers={"HX-Request": "true"} if "rows" in path else {})
        assert response.status_code == 200, path
        text = response.text
        assert "<script>window" not in text and "<img src=x" not in text, path
        assert 'href="javascript:' not in text, path
    case = client.get(f"/cases/{seeded.reference}").text
    assert "&lt;script&gt;window.__xss=1;alert(1)&lt;/script&gt;" in case


# --- CSV formula injection -----------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_starting_a_formula_is_quoted(start: str) -> None:
    assert safe_cell(f"{start}1+1") == f"'{start}1+1"
    assert safe_cell("dr.house@medecin.test") == "dr.house@medecin.test"


def test_the_routing_log_csv_neutralises_formulas(web: Web) -> None:
    seeded = seed_case(web.engine, 1)
    with Session(web.engine) as db:
        case = db.get(Case, seeded.case_id)
        assert case is not None
        case.sender = "=cmd|'/ccalc'!a0@evil.test"
        case.doctor_name = '+HYPERLINK("http://evil.test")'
        db.add(case)
        db.commit()
    client = web.client()
    login(client, "viewer")
    text = client.get("/cases.csv").content.decode("utf-8-sig")
    (row,) = csv.DictReader(io.StringIO(text), delimiter=";")
    assert row["sender"] == "'=cmd|'/ccalc'!a0@evil.test"
    assert row["doctor_name"].startswith("'+")
    assert row["reference"] == seeded.reference


# --- Input validation: 400 or 404, never 500 -----------------------------------------


def _french_error(response: object, status: int) -> None:
    assert response.status_code == status, (response.status_code, response.text[:300])  # type: ignore[attr-defined]
    text = response.text  # type: ignore[attr-defined]
    assert "Traceback" not in text and 'lang="fr"' in text
    for header in HEADERS:
        assert header in response.headers  # type: ignore[attr-defined]


CRAFTED_GETS = [
    ("/cases?to=9999-12-31", 400),
    ("/cases?from=0001-01-01", 400),
    ("/cases?from=demain", 400),
    ("/cases?after=nimportequoi", 400),
    ("/cases?after=2026-01-01T00:00:00~1", 400),  # naive time
    ("/cases?after=2026-01-01T00:00:00%2B00:00~99999999999999999999", 400),
    ("/cases/rows?to=9999-12-31", 400),
    ("/cases.csv?to=9999-12-31", 400),
    ("/cases?q=a%00b", 400),
    ("/directory?q=%01%02", 400),
    ("/audit?before=99999999999999999999", 400),
    ("/audit?before=abc", 400),
    ("/cases/AIG-2026%00", 404),
    ("/messages/99999999999999999999/attachments/0", 404),
    ("/messages/1/attachments/99999999999999999999", 404),
    ("/messages/1/attachments/-1", 404),
    ("/messages/1/attachments/..%2F..%2Fetc%2Fpasswd", 404),
    ("/messages/1/attachments/../../etc/passwd", 404),
    ("/static/..%2F..%2Fconfig.py", 404),
    ("/nowhere", 404),
]


@pytest.mark.parametrize(("path", "status"), CRAFTED_GETS)
def test_crafted_parameters_are_a_french_400_or_404(web: Web, path: str, status: int) -> None:
    seed_case(web.engine, 1, quarantined=True)
    client = web.client()
    login(client, "admin")
    _french_error(client.get(path, follow_redirects=False), status)


def test_crafted_posts_are_a_400_or_404(web: Web) -> None:
    seeded = seed_case(web.engine, 1, quarantined=True)
    client = web.client()
    login(client, "admin")
    token = csrf_of(client.get("/").text)
    roster = web.config.routing.roster_path
    assert roster is not None
    before = roster.read_bytes()
    for path, form, status in [
        ("/messages/99999999999999999999/release", {}, 400),
        ("/outbound/99999999999999999999/resend", {}, 400),
        ("/roster/10000000001", {"filieres": "cardio\x01logie"}, 400),
        ("/roster/10000000001", {"filieres": "a\x7fb"}, 400),
        ("/roster/abc", {"filieres": "x"}, 404),
        (f"/cases/{seeded.reference}/notes", {"text": "a\x00b"}, 400),
    ]:
        response = client.post(path, data={"csrf": token, **form}, follow_redirects=False)
        _french_error(response, status)
    assert roster.read_bytes() == before
    _french_error(client.put("/cases"), 405)


def test_an_internal_error_is_a_french_page_with_headers_and_no_trace(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.web.routes import pages

    def explode(*_args: object, **_kw: object) -> None:
        raise RuntimeError("secret-internal-detail")

    monkeypatch.setattr(pages, "load_dashboard", explode)
    client = TestClient(create_app(web.ctx), raise_server_exceptions=False)
    login(client, "viewer")
    response = client.get("/")
    _french_error(response, 500)
    assert "secret-internal-detail" not in response.text and "RuntimeError" not in response.text


# --- Redirects, downloads ------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    ["//evil.test/", "https://evil.test/", "/\\evil.test", "/\t/evil.test", "javascript:x", ""],
)
def test_next_stays_on_site(web: Web, target: str) -> None:
    client = web.client()
    page = client.get("/login", params={"next": target})
    assert "evil.test" not in page.text
    response = client.post(
        "/login",
        data={
            "csrf": csrf_of(page.text),
            "username": "coord",
            "password": PASSWORD,
            "next": target,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_back_after_an_action_stays_on_site(web: Web) -> None:
    seeded = seed_case(web.engine, 1, quarantined=True)
    client = web.client()
    login(client, "coord")
    token = csrf_of(client.get("/").text)
    response = client.post(
        f"/messages/{seeded.inbound_id}/release",
        data={"csrf": token, "back": "/\t/evil.test"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/quarantine"


def test_an_attachment_name_cannot_climb_out_of_the_download_folder(web: Web) -> None:
    seeded = hostile_case(web.engine)
    client = web.client()
    login(client, "coord")
    response = client.get(f"/messages/{seeded.inbound_id}/attachments/0")
    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    name = disposition.split('filename="', 1)[1][:-1]
    assert "/" not in name and '"' not in name and "\\" not in name and "<" not in name
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["x-content-type-options"] == "nosniff"


# --- Ops endpoints -------------------------------------------------------------------


def test_metrics_needs_a_token_beyond_loopback(db_url: str, tmp_path: Path, web: Web) -> None:
    wide = _web(db_url, tmp_path, web, host="0.0.0.0")  # noqa: S104
    response = wide.client().get("/metrics")
    assert response.status_code == 403 and "metrics_token_file" in response.text
    token = tmp_path / "metrics-token"
    token.write_text("t0k3n-for-metrics\n")
    tokened = _web(db_url, tmp_path, web, host="0.0.0.0", metrics_token_file=str(token))  # noqa: S104
    assert tokened.client().get("/metrics").status_code == 401
    ok = tokened.client().get("/metrics", headers={"Authorization": "Bearer t0k3n-for-metrics"})
    assert ok.status_code == 200
    assert web.client().get("/metrics").status_code == 200  # loopback: open, as before


def test_metrics_and_readyz_reveal_no_patient_data_nor_secrets(web: Web) -> None:
    hostile_case(web.engine)
    client = web.client()
    secret = web.ctx.secret.decode()
    for path in ("/metrics", "/readyz", "/healthz"):
        text = client.get(path).text
        for leak in ("XSS", "DURAND", "Jeanne", "medecin.test", "248031234567890", PASSWORD):
            assert leak not in text, (path, leak)
        assert secret not in text and "argon2" not in text, path


# --- Logging -------------------------------------------------------------------------


def test_logins_are_logged_without_their_password(web: Web) -> None:
    client = web.client()
    with capture_logs() as logs:
        for _ in range(web.config.web.login_max_failures + 1):
            _try(client, "", "coord", "my-secret-typo")
    events = [entry["event"] for entry in logs]
    assert events.count("login_failed") == web.config.web.login_max_failures
    assert events.count("login_throttled") == 1
    assert "my-secret-typo" not in repr(logs)
