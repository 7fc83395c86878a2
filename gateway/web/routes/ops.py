"""The public ops endpoints: /healthz, /readyz, /metrics (with an optional bearer token)."""

from __future__ import annotations

import hmac
import ipaddress

import structlog
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from gateway.health import readiness
from gateway.web.context import WebContext

__all__ = ["PUBLIC_PATHS", "listens_on_loopback", "routes"]

PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/login"})
log = structlog.get_logger("aiguilleur.web")


def listens_on_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name or "0.0.0.0": reachable from elsewhere


def routes(ctx: WebContext) -> list[Route]:
    # Mailbox names and volumes are no one else's business: without a token, /metrics
    # answers only when the UI cannot be reached from another host.
    closed = ctx.metrics_token is None and not listens_on_loopback(ctx.config.web.host)
    if closed:
        log.warning(
            "metrics_closed",
            host=ctx.config.web.host,
            reason="web.host is not loopback and web.metrics_token_file is unset; "
            "/metrics answers 403 until a token file is configured",
        )

    async def healthz(_request: Request) -> Response:
        # Answering at all proves the event loop turns; nothing else is checked here.
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> Response:
        report = await run_in_threadpool(readiness, ctx.engine, ctx.config, loops=ctx.metrics.loops)
        body = {
            "status": "ok" if report.ok else "failing",
            "failed": report.failed(),
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in report.checks],
            # Which replica reads which mailbox (PostgreSQL), and the lease's age.
            "mailboxes": [
                {
                    "name": m.name,
                    "connected": m.connected,
                    "holder": m.holder,
                    "held_for_seconds": m.held_for,
                    "expires_in_seconds": m.expires_in,
                }
                for m in report.mailboxes
            ],
        }
        return JSONResponse(body, status_code=200 if report.ok else 503)

    async def metrics(request: Request) -> Response:
        if closed:
            return PlainTextResponse(
                "metrics disabled: set web.metrics_token_file (the web UI listens beyond loopback)",
                status_code=403,
            )
        if ctx.metrics_token is not None:
            given = request.headers.get("authorization", "")
            expected = f"Bearer {ctx.metrics_token}"
            if not hmac.compare_digest(given.encode(), expected.encode()):
                return PlainTextResponse(
                    "bearer token required", status_code=401, headers={"WWW-Authenticate": "Bearer"}
                )
        body = await run_in_threadpool(ctx.metrics.render)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return [
        Route("/healthz", healthz, methods=["GET"], name="healthz"),
        Route("/readyz", readyz, methods=["GET"], name="readyz"),
        Route("/metrics", metrics, methods=["GET"], name="metrics"),
    ]
