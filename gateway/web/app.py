"""The Starlette application: routes from each area, static files, security headers,
proxy-aware client addresses and French error pages."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from gateway.web.access import role_of
from gateway.web.auth import error_page
from gateway.web.context import WebContext
from gateway.web.routes import admin, cases, directory, messages, ops, pages, session
from gateway.wording import say

__all__ = ["create_app", "security_headers"]

STATIC = Path(__file__).resolve().parent / "static"
# No inline script or style anywhere (htmx runs with allowEval off and no injected styles),
# so the policy needs no 'unsafe-inline'.
CSP = (
    b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    b"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cache-control", b"no-store"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000")


def security_headers(ctx: WebContext, scope: Scope) -> list[tuple[bytes, bytes]]:
    """The headers every response carries; HSTS once the site is (or must be) HTTPS."""
    mode = ctx.config.web.cookie_secure
    https = scope.get("scheme") == "https"
    return [*SECURITY_HEADERS, HSTS] if mode == "always" or https else list(SECURITY_HEADERS)


class SecurityHeaders:
    """Adds the same headers to every HTTP response (pure ASGI: streaming stays streaming)."""

    def __init__(self, app: ASGIApp, ctx: WebContext) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = security_headers(self.ctx, scope)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in headers if k not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


def all_routes(ctx: WebContext) -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for area in (ops, session, pages, messages, cases, directory, admin):
        routes += area.routes(ctx)
    routes.append(Mount("/static", StaticFiles(directory=STATIC), name="static"))
    for route in routes:  # a route without a decision in the access table never ships
        if isinstance(route, Route | Mount):
            role_of(route.name or "")
    return routes


def _error_handlers(ctx: WebContext) -> dict[int | type[Exception], object]:
    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status not in (404, 405):
            status = 400 if 400 <= status < 500 else 500
        message = {404: "web.error.not_found", 405: "web.error.method_not_allowed"}.get(
            status, "web.error.bad_request" if status == 400 else "web.error.internal"
        )
        return error_page(ctx, request, status, say(message))

    async def server_error(request: Request, _exc: Exception) -> Response:
        # Outside the middleware stack: the headers are added here. The trace goes to the
        # log (uvicorn), never to the page.
        response = error_page(ctx, request, 500, say("web.error.internal"))
        for key, value in security_headers(ctx, request.scope):
            response.headers[key.decode()] = value.decode()
        return response

    return {HTTPException: http_error, 500: server_error}


def create_app(ctx: WebContext) -> Starlette:
    return Starlette(
        routes=all_routes(ctx),
        middleware=[
            # First: the client address and scheme the rest sees are the ones the trusted
            # proxy gave (X-Forwarded-For/-Proto); anyone else's headers are ignored.
            Middleware(ProxyHeadersMiddleware, trusted_hosts=ctx.config.web.forwarded_allow_ips),
            Middleware(SecurityHeaders, ctx=ctx),
        ],
        exception_handlers=_error_handlers(ctx),  # type: ignore[arg-type]
    )
