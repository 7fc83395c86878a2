"""The Starlette application: routes from each area, static files, security headers."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.web.context import WebContext
from gateway.web.routes import admin, cases, directory, messages, ops, pages, session

__all__ = ["create_app"]

STATIC = Path(__file__).resolve().parent / "static"
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'; form-action 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]


class SecurityHeaders:
    """Adds the same headers to every HTTP response (pure ASGI: streaming stays streaming)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


def all_routes(ctx: WebContext) -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for area in (ops, session, pages, messages, cases, directory, admin):
        routes += area.routes(ctx)
    routes.append(Mount("/static", StaticFiles(directory=STATIC), name="static"))
    return routes


def create_app(ctx: WebContext) -> Starlette:
    return Starlette(routes=all_routes(ctx), middleware=[Middleware(SecurityHeaders)])
