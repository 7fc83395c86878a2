"""The `aiguilleur` command line."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from gateway.config import Config, load_config
from gateway.errors import ConfigError

__all__ = ["app", "main"]

app = typer.Typer(
    name="aiguilleur",
    help="Secure-mail gateway for primary-care coordination (CPTS, DAC).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
config_app = typer.Typer(help="Configuration files.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(config_app, name="config")

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="TOML configuration file.", exists=False)
]
err = Console(stderr=True)


def _load(path: Path) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        err.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
        raise typer.Exit(2) from None


def _logging(config: Config) -> None:
    from gateway.observability import configure_logging

    configure_logging(config.logging.level, config.logging.format)


@config_app.command("check")
def config_check(path: Annotated[Path, typer.Argument(help="TOML file to validate.")]) -> None:
    """Validate a configuration file; errors name the key."""
    config = _load(path)
    typer.echo(
        f"{path}: OK ({len(config.mailboxes)} mailbox(es), database "
        f"{config.database.url.split(':', 1)[0]}, smtp {config.smtp.transport})"
    )


@db_app.command("upgrade")
def db_upgrade(
    config: ConfigOption = Path("aiguilleur.toml"),
    url: Annotated[str | None, typer.Option(help="Database URL (overrides the file).")] = None,
) -> None:
    """Apply the database migrations."""
    from gateway.storage.db import upgrade

    target = url or _load(config).database.url
    upgrade(target)
    typer.echo("database schema is up to date")


@app.command("run")
def run(config: ConfigOption = Path("aiguilleur.toml")) -> None:
    """Run the daemon until SIGTERM; then drain and stop."""
    from gateway.app import run_daemon
    from gateway.storage.db import upgrade

    cfg = _load(config)
    _logging(cfg)
    upgrade(cfg.database.url)
    asyncio.run(run_daemon(cfg))


@app.command("demo")
def demo(
    directory: Annotated[
        Path, typer.Option("--dir", help="Where the demo keeps its database and Maildirs.")
    ] = Path("demo-data"),
) -> None:
    """Embedded default: SQLite + local Maildirs, seeded with sample requests."""
    from gateway.cli.demo import run_demo

    console = Console()
    if not console.is_terminal:
        console = Console(width=160)  # piped output: don't squeeze the table to 80 columns
    raise typer.Exit(run_demo(directory, console))


@app.command("process")
def process(
    file: Annotated[Path, typer.Argument(help="An .eml file.")],
    config: ConfigOption = Path("aiguilleur.toml"),
    mailbox: Annotated[
        str | None, typer.Option(help="Mailbox it arrived in (default: the first).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Parse and decide only.")] = False,
) -> None:
    """Put one message through the pipeline."""
    from gateway.cli.process import process_file

    try:
        raw = file.read_bytes()
    except OSError as exc:
        err.print(f"error: cannot read {file}: {exc.strerror}")
        raise typer.Exit(2) from None
    cfg = _load(config) if (config.exists() or not dry_run) else Config()
    if not dry_run:
        _logging(cfg)
    result = asyncio.run(process_file(cfg, raw, mailbox=mailbox, dry_run=dry_run))
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))


directory_app = typer.Typer(help="The professional directory (the ANS's extracts).")
app.add_typer(directory_app, name="directory")


@directory_app.command("import")
def directory_import(
    files: Annotated[
        list[Path],
        typer.Argument(help="PS_LibreAcces and Extraction_Correspondance_MSSante files."),
    ],
    config: ConfigOption = Path("aiguilleur.toml"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Import Annuaire Santé extracts (streaming, idempotent)."""
    from gateway.cli.commands.directory import directory_import_command

    raise typer.Exit(directory_import_command(files, _load(config).database.url, quiet))


@app.command("parse")
def parse(file: Annotated[Path, typer.Argument(help=".eml, .docx, .pdf, .xml or .zip")]) -> None:
    """Parse one file and print the Request as JSON (exit 2 when unreadable)."""
    from gateway.cli.commands.parse import parse_command

    raise typer.Exit(parse_command(file))


@app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="An .eml file.")],
    config: Annotated[Path | None, typer.Option("--config", "-c", help="TOML file.")] = None,
    at: Annotated[str | None, typer.Option(help="Reception date (default: today).")] = None,
    programme: Annotated[str | None, typer.Option(help="Programme to assess against.")] = None,
    mailbox: Annotated[str | None, typer.Option(help="Mailbox it arrived in.")] = None,
) -> None:
    """Dry run: rules, decision and routing plan as JSON; sends and writes nothing."""
    from gateway.cli.commands.check import check_command

    raise typer.Exit(check_command(file, config, at=at, programme=programme, mailbox=mailbox))


@app.command("routes")
def routes(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="TOML file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """Mailbox → programme → rules → routing, with roster counts."""
    from gateway.cli.commands.routes import routes_command

    raise typer.Exit(routes_command(config, as_json=as_json))


export_app = typer.Typer(help="Exports.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("billing")
def export_billing(
    month: Annotated[str, typer.Option("--month", help="YYYY-MM.")],
    config: ConfigOption = Path("aiguilleur.toml"),
    output: Annotated[Path | None, typer.Option("--output", "-o", help="CSV file.")] = None,
) -> None:
    """Télé-expertise acts (TE2, RQD) of one month as CSV (';', UTF-8)."""
    from gateway.cli.commands.billing import billing_command

    raise typer.Exit(billing_command(config, month, output))


@app.command("timers")
def timers(
    config: ConfigOption = Path("aiguilleur.toml"),
    at: Annotated[
        str | None,
        typer.Option("--at", help="Run as if it were this ISO date-time (UTC unless given)."),
    ] = None,
) -> None:
    """Expire overdue offers and send due reminders once (the daemon does it continuously)."""
    from gateway.cli.commands.timers import parse_moment, timers_command

    try:
        moment = parse_moment(at) if at else None
    except ValueError:
        err.print(f"error: --at: not an ISO date-time: {at}")
        raise typer.Exit(2) from None
    cfg = _load(config)
    _logging(cfg)
    raise typer.Exit(timers_command(cfg, moment))


# Web UI and ops commands (gateway/cli/commands/web.py, user.py, status.py).
from gateway.cli.commands.status import status_command  # noqa: E402
from gateway.cli.commands.user import user_app  # noqa: E402
from gateway.cli.commands.web import web_command  # noqa: E402

app.add_typer(user_app, name="user")
app.command("web")(web_command)
app.command("status")(status_command)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
