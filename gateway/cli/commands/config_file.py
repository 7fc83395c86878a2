"""Loading the configuration for a command: errors print one line and exit 2."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gateway.config import Config, load_config
from gateway.errors import ConfigError

__all__ = ["ConfigOption", "load_or_exit"]

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="TOML configuration file.")]


def load_or_exit(path: Path) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
