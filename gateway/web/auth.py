"""Sessions, roles and CSRF: the one gate every non-public route goes through.

``protect`` wraps a synchronous handler. It finds the session from the signed cookie, ends
it after ``session_idle_minutes`` of inactivity or ``session_absolute_hours`` after login,
checks the role and the parameters and, for a POST, the CSRF token; then it runs the handler
in a worker thread with a database session, since storage is synchronous and the event loop
also runs the daemon. A background refresh (the routing log's polling, marked by
``BACKGROUND_HEADER``) is served but is not activity: it does not keep the session alive.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import delete
from sqlmodel import Session, col
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from gateway.storage.models import utcnow
from gateway.storage.web_models import Role, WebSession, WebUser
from gateway.web.access import role_of
from gateway.web.audit import record
from gateway.web.context import WebContext
from gateway.web.cookies import new_token, sign, token_id, unsign
from gateway.web.params import MAX_QUERY_VALUE, BadParameterError, bad_text
from gateway.wording import say

__all__ = [
    "BACKGROUND_HEADER",
    "COOKIE",
    "Call",
    "Handler",
    "Visitor",
    "clear_session_cookie",
    "client_address",
    "error_page",
    "guarded",
    "open_session",
    "protect",
    "render",
    "secure_cookies",
]

COOKIE = "aig_session"
LOGIN_CSRF_COOKIE = "aig_login_csrf"
TOUCH_EVERY = timedelta(seconds=60)  # spares a write per request
# Sent by htmx's polling (the routing log's refresh): such a request does not extend a session.
BACKGROUND_HEADER = "x-aiguilleur-background"


@dataclass(frozen=True)
class Visitor:
    user_id: int
    username: str
    display_name: str
    role: Role
    csrf: str

    def can(self, role: Role) -> bool:
        return self.role.at_least(role)


@dataclass(frozen=True)
class Call:
    """One authorised request, as a handler sees it."""

    ctx: WebContext
    request: Request
    visitor: Visitor
    db: Session
    form: Mapping[str, str]

    @property
    def client(self) -> str:
        return client_address(self.request)

    def audited(
        self,
        action: str,
        *,
        case_id: int | None,
        target: str,
        detail: dict[str, Any] | None = None,
        timeline: bool = True,
    ) -> None:
        """Record what this visitor did, then commit it with the action's own writes."""
        record(
            self.db,
            self.visitor.username,
            action,
            case_id=case_id,
            target=target,
            client=self.client,
            detail=detail,
            timeline=timeline,
        )
        self.db.commit()

    def param(self, name: str) -> str:
        return str(self.request.path_params[name])

    def error(self, status: int, message: str) -> HTMLResponse:
        """A refusal as a French page (with the menu: the visitor is still logged in)."""
        return error_page(self.ctx, self.request, status, message, self.visitor)


Handler = Callable[[Call], Response]
Endpoint = Callable[[Request], Awaitable[Response]]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def render(
    ctx: WebContext,
    request: Request,
    name: str,
    visitor: Visitor | None,
    status: int = 200,
    **values: Any,
) -> HTMLResponse:
    html = ctx.templates.get_template(name).render(
        request=request, visitor=visitor, Role=Role, **values
    )
    return HTMLResponse(html, status_code=status)


def error_page(
    ctx: WebContext, request: Request, status: int, message: str, visitor: Visitor | None = None
) -> HTMLResponse:
    """A French error page: the status's title and one sentence, never a trace."""
    title = say(f"web.page.status_{status}")
    return render(ctx, request, "error.html", visitor, status=status, title=title, message=message)


def bad_parameter(
    ctx: WebContext, request: Request, name: str, visitor: Visitor | None
) -> Response:
    return error_page(ctx, request, 400, say("web.error.bad_parameter", name=name), visitor)


def secure_cookies(ctx: WebContext, request: Request) -> bool:
    mode = ctx.config.web.cookie_secure
    return mode == "always" or (mode == "auto" and request.url.scheme == "https")


def open_session(
    ctx: WebContext, db: Session, request: Request, user: WebUser, response: Response
) -> None:
    """Start a session for a user who just logged in, and set its cookie.

    The token is always new, and a session the browser already held ends here: a token
    planted before login is never the one that gets the rights."""
    assert user.id is not None
    previous = request.cookies.get(COOKIE)
    old = unsign(ctx.secret, previous) if previous else None
    if old is not None:
        db.execute(delete(WebSession).where(col(WebSession.id) == token_id(old)))
    # Sessions that ran out without a later visit are never looked up again: drop them here.
    now, web = utcnow(), ctx.config.web
    db.execute(
        delete(WebSession).where(
            (col(WebSession.last_seen_at) < now - timedelta(minutes=web.session_idle_minutes))
            | (col(WebSession.created_at) < now - timedelta(hours=web.session_absolute_hours))
        )
    )
    token = new_token()
    db.add(WebSession(id=token_id(token), user_id=user.id, csrf_token=secrets.token_urlsafe(32)))
    response.set_cookie(
        COOKIE,
        sign(ctx.secret, token),
        httponly=True,
        samesite="lax",
        secure=secure_cookies(ctx, request),
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")


def _find_visitor(ctx: WebContext, request: Request) -> Visitor | None:
    signed = request.cookies.get(COOKIE)
    token = unsign(ctx.secret, signed) if signed else None
    if token is None:
        return None
    now = utcnow()
    idle = timedelta(minutes=ctx.config.web.session_idle_minutes)
    lifetime = timedelta(hours=ctx.config.web.session_absolute_hours)
    background = request.headers.get(BACKGROUND_HEADER) == "1"
    with Session(ctx.engine, expire_on_commit=False) as db:
        row = db.get(WebSession, token_id(token))
        if row is None:
            return None
        user = db.get(WebUser, row.user_id)
        expired = now - row.last_seen_at > idle or now - row.created_at > lifetime
        if user is None or not user.active or expired:
            db.delete(row)
            db.commit()
            return None
        if not background and now - row.last_seen_at > TOUCH_EVERY:
            row.last_seen_at = now
            db.add(row)
            db.commit()
        return Visitor(
            user_id=row.user_id,
            username=user.username,
            display_name=user.display_name or user.username,
            role=Role(user.role),
            csrf=row.csrf_token,
        )


def _refuse_anonymous(request: Request) -> Response:
    if request.method == "GET" and "hx-request" not in request.headers:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    return PlainTextResponse(say("web.auth.session_required"), status_code=401)


def _forbidden(ctx: WebContext, request: Request, visitor: Visitor, why: str) -> Response:
    return render(ctx, request, "forbidden.html", visitor, status=403, why=why)


def csrf_matches(expected: str, form: Mapping[str, str], request: Request) -> bool:
    given = form.get("csrf") or request.headers.get("x-csrf-token", "")
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


def guarded(
    ctx: WebContext, path: str, handler: Handler, *, name: str, method: str = "GET"
) -> Route:
    """A route whose handler runs only for a visitor holding the role that
    ``gateway.web.access`` gives ``name`` (CSRF-checked on POST)."""
    role = role_of(name)
    if role is None:
        raise ValueError(f"route {name!r} is public in gateway.web.access: it needs no guard")
    return Route(path, protect(ctx, role, handler), methods=[method], name=name)


def protect(ctx: WebContext, role: Role, handler: Handler) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        visitor = await run_in_threadpool(_find_visitor, ctx, request)
        if visitor is None:
            return _refuse_anonymous(request)
        if not visitor.can(role):
            return _forbidden(ctx, request, visitor, say("web.auth.role_forbidden"))
        if bad_text(request.path_params.items(), text=False, limit=200) is not None:
            return error_page(ctx, request, 404, say("web.error.not_found"), visitor)
        bad = bad_text(request.query_params.multi_items(), text=False, limit=MAX_QUERY_VALUE)
        if bad is not None:
            return bad_parameter(ctx, request, bad, visitor)
        form: dict[str, str] = {}
        if request.method == "POST":
            raw = await request.form()
            form = {k: v for k, v in raw.items() if isinstance(v, str)}
            if not csrf_matches(visitor.csrf, form, request):
                return _forbidden(ctx, request, visitor, say("web.auth.csrf_invalid"))
            bad = bad_text(form.items(), text=True, limit=None)
            if bad is not None:
                return bad_parameter(ctx, request, bad, visitor)

        def run() -> Response:
            with Session(ctx.engine, expire_on_commit=False) as db:
                try:
                    return handler(Call(ctx, request, visitor, db, form))
                except BadParameterError as exc:
                    db.rollback()
                    return bad_parameter(ctx, request, exc.name, visitor)

        return await run_in_threadpool(run)

    endpoint.__name__ = handler.__name__
    return endpoint
