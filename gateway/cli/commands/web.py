"""`aiguilleur web`: serve the coordinator UI and the ops endpoints alone, until SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import structlog

from gateway.cli.audience import Audience, load_or_exit
from gateway.cli.commands.config_file import ConfigOption
from gateway.config import Config, transport_warnings

__all__ = ["web_command"]


async def _serve_until_signal(config: Config) -> None:
    from gateway.storage.db import make_engine
    from gateway.web.server import serve

    engine = make_engine(config.database.url, echo=config.database.echo)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await serve(config, engine, stop)
    finally:
        engine.dispose()


def web_command(config: ConfigOption = Path("aiguilleur.toml")) -> None:
    """Serve the web UI (web.host:web.port) without the daemon; the schema is upgraded first."""
    from gateway.observability import configure_logging
    from gateway.storage.db import upgrade

    cfg = load_or_exit(config, Audience.OPERATOR)
    configure_logging(cfg.logging.level, cfg.logging.format)
    for warning in transport_warnings(cfg):  # keys and hosts only, never a secret
        structlog.get_logger("aiguilleur.web").warning("config_warning", warning=warning)
    upgrade(cfg.database.url)
    asyncio.run(_serve_until_signal(cfg))
