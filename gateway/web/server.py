"""The web UI's server: ``serve`` runs it in the caller's event loop (the daemon's TaskGroup,
or ``aiguilleur web``) until ``stop`` is set; the caller keeps the signal handlers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Generator

import structlog
import uvicorn
from sqlalchemy import Engine

from gateway.cases.services import RoutingServices
from gateway.config import Config
from gateway.metrics import Metrics
from gateway.web.app import create_app
from gateway.web.context import WebContext

__all__ = ["serve"]

log = structlog.get_logger("aiguilleur.web")


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the daemon owns SIGTERM/SIGINT and sets ``stop``


async def serve(
    config: Config,
    engine: Engine,
    stop: asyncio.Event,
    metrics: Metrics | None = None,
    services: RoutingServices | None = None,
) -> None:
    ctx = WebContext.build(config, engine, metrics, services)
    server = _Server(
        uvicorn.Config(
            create_app(ctx),
            host=config.web.host,
            port=config.web.port,
            log_config=None,
            access_log=False,  # URLs carry search terms such as patient names
            proxy_headers=False,  # the app applies web.forwarded_allow_ips itself
            server_header=False,
            lifespan="off",
        )
    )
    task = asyncio.create_task(server.serve(), name="web")
    log.info("web_started", host=config.web.host, port=config.web.port)
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stopped.cancel()
    await task  # re-raises if the server failed
    log.info("web_stopped")
