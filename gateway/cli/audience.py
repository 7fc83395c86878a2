"""Who reads a command, and so the language of what it prints, errors included.

The convention (README, "Commands"):

- coordinator commands speak French, and their errors read ``erreur : …``
  (``cli.line.error`` in ``gateway/wording/cli.toml``): ``parse``, ``check``,
  ``routes``, ``export billing``, ``directory import``, ``timers``;
- operator commands speak English, and their errors read ``error: …``: ``run``,
  ``web``, ``status``, ``user add|passwd|disable``, ``db upgrade``, ``config check``,
  ``process``, ``demo``.

Either way an error is one line on stderr and nothing on stdout. A configuration
error keeps the configuration's own (English) message, which names the key, after
the command's prefix. Usage errors caught by typer itself (an unknown option, a
missing argument) are typer's, in English, with exit code 2.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType

import typer

from gateway.config import Config, load_config
from gateway.errors import ConfigError
from gateway.wording import say

__all__ = ["COMMANDS", "Audience", "error_line", "load_or_exit", "print_error"]


class Audience(StrEnum):
    COORDINATOR = "coordinator"  # French
    OPERATOR = "operator"  # English


# Every command, by its path under `aiguilleur`. A test checks that none is missing.
COMMANDS: Mapping[str, Audience] = MappingProxyType(
    {
        "parse": Audience.COORDINATOR,
        "check": Audience.COORDINATOR,
        "routes": Audience.COORDINATOR,
        "export billing": Audience.COORDINATOR,
        "directory import": Audience.COORDINATOR,
        "timers": Audience.COORDINATOR,
        "run": Audience.OPERATOR,
        "web": Audience.OPERATOR,
        "status": Audience.OPERATOR,
        "user add": Audience.OPERATOR,
        "user passwd": Audience.OPERATOR,
        "user disable": Audience.OPERATOR,
        "db upgrade": Audience.OPERATOR,
        "config check": Audience.OPERATOR,
        "process": Audience.OPERATOR,
        "demo": Audience.OPERATOR,
    }
)


def error_line(audience: Audience, message: object) -> str:
    """``erreur : …`` for a coordinator, ``error: …`` for an operator."""
    if audience is Audience.COORDINATOR:
        return say("cli.line.error", message=message)
    return f"error: {message}"


def print_error(audience: Audience, message: object) -> None:
    print(error_line(audience, message), file=sys.stderr)


def load_or_exit(path: Path, audience: Audience) -> Config:
    """The configuration, or its error on one line and exit code 2."""
    try:
        return load_config(path)
    except ConfigError as exc:
        print_error(audience, exc)
        raise typer.Exit(2) from None
