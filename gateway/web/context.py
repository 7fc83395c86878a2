"""What every web handler needs, built once and passed explicitly."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from gateway.cases.services import RoutingServices
from gateway.config import Config
from gateway.metrics import Metrics
from gateway.replies.compose import ReplyRenderer
from gateway.web.cookies import load_secret
from gateway.web.labels import check_text, detail_text, french, target_text
from rules.programmes import ProgrammeSpec

__all__ = ["PARIS", "WebContext", "default_secret_path"]

PARIS = ZoneInfo("Europe/Paris")
TEMPLATES = Path(__file__).resolve().parent / "templates"


def default_secret_path(config: Config) -> Path:
    """Beside the SQLite database; otherwise in systemd's StateDirectory, or here."""
    url = make_url(config.database.url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent / "web-secret"
    return Path(os.environ.get("STATE_DIRECTORY", ".")) / "web-secret"


def _local(value: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    return value.astimezone(PARIS).strftime(fmt) if value is not None else "—"


def make_templates(programmes: Mapping[str, ProgrammeSpec]) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local"] = _local
    # Every code a page shows goes through its enumeration's table: label("offer_status", …).
    env.globals["label"] = french
    env.globals["detail_text"] = detail_text
    env.globals["target_text"] = target_text
    env.globals["check_text"] = check_text
    # The programmes' names come from their specs, so a new programme needs no template.
    env.globals["PROGRAMME"] = {name: spec.short_label_fr for name, spec in programmes.items()}
    return env


@dataclass(frozen=True)
class WebContext:
    config: Config
    engine: Engine
    secret: bytes
    templates: Environment
    metrics: Metrics
    metrics_token: str | None
    services: RoutingServices  # the routing actions run with the daemon's own configuration
    renderer: ReplyRenderer

    @classmethod
    def build(
        cls,
        config: Config,
        engine: Engine,
        metrics: Metrics | None = None,
        services: RoutingServices | None = None,
    ) -> WebContext:
        web = config.web
        secret = load_secret(web.secret_key_file or default_secret_path(config))
        token = (
            web.metrics_token_file.read_text(encoding="utf-8").strip()
            if web.metrics_token_file is not None
            else None
        )
        if metrics is None:
            metrics = Metrics()
        metrics.watch_database(engine, {m.name: m.programme for m in config.mailboxes})
        renderer = ReplyRenderer(
            from_address=config.smtp.from_address,
            from_name=config.smtp.from_name,
            limit_bytes=config.limits.max_message_bytes,
        )
        services = services or RoutingServices.load(config)
        return cls(
            config,
            engine,
            secret,
            make_templates(services.programmes),
            metrics,
            token or None,
            services,
            renderer,
        )
