"""`aiguilleur user add|passwd|disable`: web accounts, audited like UI actions.

An operator command: its output and errors are English (``error: …``). Exit 1 when
the account change is refused (name taken, no such user, password too short), 2 on
a configuration error or when the two passwords typed differ.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from gateway.cli.audience import Audience, load_or_exit, print_error
from gateway.cli.commands.config_file import ConfigOption
from gateway.cli.help import Command, new_app
from gateway.storage.db import make_engine, upgrade
from gateway.storage.web_models import Role
from gateway.web.audit import record
from gateway.web.users import UserError, add_user, disable_user, set_password

__all__ = ["user_app"]

user_app = new_app("Web UI accounts.")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        print_error(Audience.OPERATOR, "the two passwords differ")
        raise typer.Exit(2)
    return first


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _run(
    config_path: Path, action: str, username: str, change: Callable[[Session], object]
) -> None:
    config = load_or_exit(config_path, Audience.OPERATOR)
    upgrade(config.database.url)
    engine = make_engine(config.database.url)
    try:
        with Session(engine) as db:
            try:
                change(db)
            except UserError as exc:
                print_error(Audience.OPERATOR, exc)
                raise typer.Exit(1) from None
            record(db, _actor(), action, target=f"user:{username}")
            db.commit()
    finally:
        engine.dispose()


UsernameArgument = Annotated[str, typer.Argument(metavar="USERNAME", help="Login name.")]
StdinOption = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]


@user_app.command("add", cls=Command)
def user_add(
    username: UsernameArgument,
    role: Annotated[
        Role, typer.Option(metavar="ROLE", help="viewer, coordinator or admin.")
    ] = Role.VIEWER,
    display_name: Annotated[str, typer.Option(metavar="TEXT", help="Name shown in the UI.")] = "",
    password_stdin: StdinOption = False,
    config: ConfigOption = Path("aiguilleur.toml"),
) -> None:
    """Create an account (the password is asked for, or read from stdin)."""
    password = _password(password_stdin)
    _run(
        config,
        "user_added",
        username,
        lambda db: add_user(db, username, password, role, display_name),
    )
    typer.echo(f"user {username} added ({role.value})")


@user_app.command("passwd", cls=Command)
def user_passwd(
    username: UsernameArgument,
    password_stdin: StdinOption = False,
    config: ConfigOption = Path("aiguilleur.toml"),
) -> None:
    """Change a password; the user's open sessions end."""
    password = _password(password_stdin)
    _run(config, "password_changed", username, lambda db: set_password(db, username, password))
    typer.echo(f"password of {username} changed")


@user_app.command("disable", cls=Command)
def user_disable(
    username: UsernameArgument,
    config: ConfigOption = Path("aiguilleur.toml"),
) -> None:
    """Disable an account; its open sessions end at once."""
    _run(config, "user_disabled", username, lambda db: disable_user(db, username))
    typer.echo(f"user {username} disabled")
