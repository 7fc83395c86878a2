"""`aiguilleur status`: the /readyz health summary as a terminal table; exit 1 when failing."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from gateway.cli.audience import Audience, load_or_exit
from gateway.cli.commands.config_file import ConfigOption
from gateway.health import HealthReport, readiness
from gateway.storage.db import make_engine

__all__ = ["render_status", "status_command"]


def render_status(report: HealthReport, console: Console) -> None:
    checks = Table(title="Aiguilleur health")
    checks.add_column("check")
    checks.add_column("state")
    checks.add_column("detail")
    for check in report.checks:
        checks.add_row(check.name, "OK" if check.ok else "FAIL", check.detail)
    console.print(checks)
    if report.mailboxes:
        boxes = Table(title="Mailboxes")
        columns = ["mailbox", "programme", "connected", "last sync (UTC)", "reconnects"]
        leased = any(m.holder is not None for m in report.mailboxes)
        for column in (*columns, "held by", "lease age", "expires in") if leased else columns:
            boxes.add_column(column)
        for m in report.mailboxes:
            row = [
                m.name,
                m.programme,
                "yes" if m.connected else "no",
                m.last_sync_at.strftime("%Y-%m-%d %H:%M:%S") if m.last_sync_at else "never",
                str(m.reconnects),
            ]
            if leased:
                row += [m.holder or "nobody", _seconds(m.held_for), _seconds(m.expires_in)]
            boxes.add_row(*row)
        console.print(boxes)
    console.print(f"overall: {'OK' if report.ok else 'FAILING: ' + ', '.join(report.failed())}")


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} s"


def status_command(config: ConfigOption = Path("aiguilleur.toml")) -> None:
    """Print the health summary (database, mailboxes, outbox); exit 1 when a check fails."""
    cfg = load_or_exit(config, Audience.OPERATOR)
    engine = make_engine(cfg.database.url)
    try:
        report = readiness(engine, cfg)
    finally:
        engine.dispose()
    render_status(report, Console(width=120))
    raise typer.Exit(0 if report.ok else 1)
