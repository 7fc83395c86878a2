"""The public ops endpoints: /healthz, /readyz, /metrics (with an optional bearer token)."""

from __future__ import annotations

import hmac

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from gateway.health import readiness
from gateway.web.context import WebContext

__all__ = ["PUBLIC_PATHS", "routes"]

PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/login"})


def routes(ctx: WebContext) -> list[Route]:
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
