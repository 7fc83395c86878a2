"""Log in and log out. The login form is protected by a double-submit CSRF cookie."""

from __future__ import annotations

import asyncio
import hmac
import secrets

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from gateway.storage.web_models import WebSession
from gateway.web.audit import AuditAction, record
from gateway.web.auth import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    Call,
    clear_session_cookie,
    client_address,
    guarded,
    open_session,
    render,
    secure_cookies,
)
from gateway.web.context import WebContext
from gateway.web.cookies import token_id, unsign
from gateway.web.params import local_path
from gateway.web.users import LoginOutcome, Throttle, account_delay, authenticate
from gateway.wording import say

__all__ = ["routes"]


MAX_PASSWORD = 1024  # argon2 hashes any length: a huge one is only a slow request


def _safe_next(value: str | None) -> str:
    return local_path(value) or "/"


def routes(ctx: WebContext) -> list[Route]:
    def login_page(request: Request, error: str = "", status: int = 200) -> Response:
        token = secrets.token_urlsafe(32)
        response = render(
            ctx,
            request,
            "login.html",
            None,
            status=status,
            csrf=token,
            error=error,
            next=_safe_next(request.query_params.get("next")),
        )
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=secure_cookies(ctx, request),
            path="/login",
        )
        return response

    async def login_form(request: Request) -> Response:
        return login_page(request)

    async def login(request: Request) -> Response:
        form = await request.form()
        given, expected = str(form.get("csrf", "")), request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not given or not expected or not hmac.compare_digest(given, expected):
            return login_page(request, say("web.login.expired"), 403)
        username, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
        if not username.isprintable() or len(password) > MAX_PASSWORD:
            return login_page(request, say("web.login.bad_credentials"), 401)
        client = client_address(request)
        throttle = Throttle(ctx.config.web.login_max_failures, ctx.config.web.login_window_seconds)

        def delay() -> float:
            with Session(ctx.engine) as db:
                return account_delay(db, username[:64], throttle)

        # A guessed-at account answers slowly, whoever asks; it is never refused for it.
        await asyncio.sleep(await run_in_threadpool(delay))

        def check() -> Response:
            with Session(ctx.engine, expire_on_commit=False) as db:
                outcome, user = authenticate(db, username, password, client, throttle)
                if outcome is LoginOutcome.THROTTLED or user is None:
                    db.commit()
                    message = say(
                        "web.login.throttled"
                        if outcome is LoginOutcome.THROTTLED
                        else "web.login.bad_credentials"
                    )
                    return login_page(
                        request, message, 429 if outcome is LoginOutcome.THROTTLED else 401
                    )
                response = RedirectResponse(_safe_next(str(form.get("next", "/"))), status_code=303)
                open_session(ctx, db, request, user, response)
                record(db, user.username, AuditAction.LOGIN, client=client)
                db.commit()
                response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
                return response

        return await run_in_threadpool(check)

    def logout(call: Call) -> Response:
        signed = call.request.cookies.get(COOKIE, "")
        token = unsign(ctx.secret, signed)
        if token is not None:
            row = call.db.get(WebSession, token_id(token))
            if row is not None:
                call.db.delete(row)
        record(call.db, call.visitor.username, AuditAction.LOGOUT, client=call.client)
        call.db.commit()
        response = RedirectResponse("/login", status_code=303)
        clear_session_cookie(response)
        return response

    return [
        Route("/login", login_form, methods=["GET"], name="login_form"),
        Route("/login", login, methods=["POST"], name="login"),
        guarded(ctx, "/logout", logout, name="logout", method="POST"),
    ]
