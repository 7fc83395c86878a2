"""The `aiguilleur` command line.

Every command and group is built with ``gateway.cli.help`` (help without ``<bool>``,
short metavars) and reports errors in its audience's language (``gateway.cli.audience``).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from gateway.cli.audience import Audience, load_or_exit, print_error
from gateway.cli.commands.config_file import ConfigOption, OptionalConfigOption
from gateway.cli.help import Command, Group, new_app
from gateway.config import Config, transport_warnings
from gateway.errors import ConfigError

__all__ = ["app", "main"]

app = typer.Typer(
    cls=Group,
    name="aiguilleur",
    help="Secure-mail gateway for primary-care coordination (CPTS, DAC).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = new_app("Database schema.")
config_app = new_app("Configuration files.")
app.add_typer(db_app, name="db")
app.add_typer(config_app, name="config")

OPERATOR = Audience.OPERATOR
COORDINATOR = Audience.COORDINATOR


def _logging(config: Config) -> None:
    from gateway.observability import configure_logging

    configure_logging(config.logging.level, config.logging.format)


def _upgrade_or_exit(url: str, *, apart: bool = False) -> None:
    """``apart``: in a process of its own, so that the daemon never holds Alembic and the
    migrations."""
    from gateway.storage.db import error_line, upgrade, upgrade_apart

    error: str | None = None
    if apart:
        error = upgrade_apart(url)
    else:
        try:
            upgrade(url)
        except SQLAlchemyError as exc:
            error = error_line(exc)
    if error is not None:
        print_error(OPERATOR, f"cannot upgrade the database: {error}")
        raise typer.Exit(1)


@config_app.command("check", cls=Command)
def config_check(
    path: Annotated[Path, typer.Argument(metavar="FILE", help="TOML file to validate.")],
) -> None:
    """Validate a configuration file and its programmes; errors name the key."""
    from gateway.cases.services import RoutingServices

    config = load_or_exit(path, OPERATOR)
    try:
        services = RoutingServices.load(config)
    except ConfigError as exc:
        print_error(OPERATOR, exc)
        raise typer.Exit(2) from None
    typer.echo(
        f"{path}: OK ({len(config.mailboxes)} mailbox(es), database "
        f"{config.database.url.split(':', 1)[0]}, smtp {config.smtp.transport})"
    )
    # Refused transports are errors of load_or_exit (the daemon refuses them too); these pass.
    for warning in transport_warnings(config):
        typer.echo(f"warning: {warning}", err=True)
    read = sorted({mailbox.programme for mailbox in config.mailboxes})
    for name in read:
        for rule_id, params in services.programmes[name].unconfigured():
            # A warning, not an error: the daemon runs, and each request escalates instead.
            typer.echo(
                f"warning: programme {name}: rule {rule_id} cannot decide until one of "
                f"{', '.join(params)} is set (routing.programmes_path, see "
                "deploy/programmes.example.toml); until then every request goes to a "
                "coordinator",
                err=True,
            )


@db_app.command("upgrade", cls=Command)
def db_upgrade(
    config: ConfigOption = Path("aiguilleur.toml"),
    url: Annotated[
        str | None, typer.Option(metavar="URL", help="Database URL (overrides the file).")
    ] = None,
) -> None:
    """Apply the database migrations."""
    _upgrade_or_exit(url or load_or_exit(config, OPERATOR).database.url)
    typer.echo("database schema is up to date")


@app.command("run", cls=Command)
def run(config: ConfigOption = Path("aiguilleur.toml")) -> None:
    """Run the daemon until SIGTERM; then drain and stop."""
    from gateway.app import run_daemon

    cfg = load_or_exit(config, OPERATOR)
    _logging(cfg)
    _upgrade_or_exit(cfg.database.url, apart=True)
    asyncio.run(run_daemon(cfg))


@app.command("demo", cls=Command)
def demo(
    directory: Annotated[
        Path,
        typer.Option(
            "--dir", metavar="DIR", help="Where the demo keeps its database and Maildirs."
        ),
    ] = Path("demo-data"),
) -> None:
    """Embedded default: SQLite + local Maildirs, seeded with sample requests."""
    from gateway.cli.demo import DemoError, run_demo

    console = Console()
    if not console.is_terminal:
        console = Console(width=160)  # piped output: don't squeeze the table to 80 columns
    try:
        code = run_demo(directory, console)
    except DemoError as exc:
        print_error(OPERATOR, exc)
        raise typer.Exit(2) from None
    raise typer.Exit(code)


@app.command("process", cls=Command)
def process(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A mail (.eml or Maildir file).")],
    config: ConfigOption = Path("aiguilleur.toml"),
    mailbox: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="Mailbox it arrived in (default: the first)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Parse and decide only.")] = False,
) -> None:
    """Put one message through the pipeline; prints the result as JSON."""
    from gateway.cli.process import ProcessError, process_file

    try:
        raw = file.read_bytes()
    except OSError as exc:
        print_error(OPERATOR, f"cannot read {file}: {exc.strerror or exc}")
        raise typer.Exit(2) from None
    cfg = load_or_exit(config, OPERATOR) if (config.exists() or not dry_run) else Config()
    if not dry_run:
        _logging(cfg)
    try:
        result = asyncio.run(process_file(cfg, raw, mailbox=mailbox, dry_run=dry_run))
    except ProcessError as exc:
        print_error(OPERATOR, exc)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))


directory_app = new_app("The professional directory (the ANS's extracts).")
app.add_typer(directory_app, name="directory")


@directory_app.command("import", cls=Command)
def directory_import(
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE",
            help="PS_LibreAcces_Personne_activite and Extraction_Correspondance_MSSante "
            "files (.txt, unzipped).",
        ),
    ],
    config: ConfigOption = Path("aiguilleur.toml"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Import Annuaire Santé extracts (streaming, idempotent); prints a summary per file."""
    from gateway.cli.commands.directory import directory_import_command

    url = load_or_exit(config, COORDINATOR).database.url
    raise typer.Exit(directory_import_command(files, url, quiet))


@app.command("parse", cls=Command)
def parse(
    file: Annotated[
        Path | None,
        typer.Argument(
            metavar="FILE",
            help="A mail (.eml, Maildir file), DOCX, PDF, CDA XML or IHE_XDM ZIP; "
            "the type is read from the content, not the name.",
        ),
    ] = None,
    inbound: Annotated[
        int | None,
        typer.Option(
            "--inbound",
            metavar="ID",
            help="Instead of FILE, a stored message (its id, as on the quarantine page), "
            "read from the database of --config.",
        ),
    ] = None,
    config: ConfigOption = Path("aiguilleur.toml"),
) -> None:
    """Parse one file, or one stored message, and print the Request as JSON (exit 2 when
    unreadable)."""
    from gateway.cli.commands.parse import parse_command, parse_stored_command
    from gateway.wording import say

    if (file is None) == (inbound is None):
        print_error(COORDINATOR, say("cli.error.file_or_inbound"))
        raise typer.Exit(2)
    if inbound is not None:
        raise typer.Exit(parse_stored_command(config, inbound))
    assert file is not None
    raise typer.Exit(parse_command(file))


@app.command("check", cls=Command)
def check(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A mail (.eml or Maildir file).")],
    config: OptionalConfigOption = None,
    at: Annotated[
        str | None,
        typer.Option(metavar="DATE", help="Reception date, YYYY-MM-DD (default: today)."),
    ] = None,
    programme: Annotated[
        str | None, typer.Option(metavar="NAME", help="Programme to assess against.")
    ] = None,
    mailbox: Annotated[
        str | None, typer.Option(metavar="NAME", help="Mailbox it arrived in.")
    ] = None,
) -> None:
    """Dry run: rules, decision and routing plan as JSON; sends and writes nothing."""
    from gateway.cli.commands.check import check_command

    raise typer.Exit(check_command(file, config, at=at, programme=programme, mailbox=mailbox))


@app.command("routes", cls=Command)
def routes(
    config: OptionalConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """Mailbox → programme → rules → routing, with roster counts."""
    from gateway.cli.commands.routes import routes_command

    raise typer.Exit(routes_command(config, as_json=as_json))


export_app = new_app("Exports.")
app.add_typer(export_app, name="export")


@export_app.command("billing", cls=Command)
def export_billing(
    month: Annotated[str, typer.Option("--month", metavar="YYYY-MM", help="The month.")],
    config: ConfigOption = Path("aiguilleur.toml"),
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="CSV file (default: stdout)."),
    ] = None,
) -> None:
    """Télé-expertise acts (TE2, RQD) of one month as CSV (';', UTF-8 with BOM, CRLF)."""
    from gateway.cli.commands.billing import billing_command

    raise typer.Exit(billing_command(config, month, output))


@app.command("timers", cls=Command)
def timers(
    config: ConfigOption = Path("aiguilleur.toml"),
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            metavar="DATETIME",
            help="Run as if it were this ISO date-time (UTC unless given).",
        ),
    ] = None,
) -> None:
    """Expire overdue offers and send due reminders once (the daemon does it continuously)."""
    from gateway.cli.commands.timers import timers_cli

    raise typer.Exit(timers_cli(config, at))


# Web UI and ops commands (gateway/cli/commands/web.py, user.py, status.py).
from gateway.cli.commands.status import status_command  # noqa: E402
from gateway.cli.commands.user import user_app  # noqa: E402
from gateway.cli.commands.web import web_command  # noqa: E402

app.add_typer(user_app, name="user")
app.command("web", cls=Command)(web_command)
app.command("status", cls=Command)(status_command)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
