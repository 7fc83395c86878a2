"""The ``--config``/``-c`` option every command shares, with its metavar.

Loading it, with an error line in the command's language, is ``gateway.cli.audience``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["ConfigOption", "OptionalConfigOption"]

# Commands that need a configuration: `aiguilleur.toml` in the current folder by default.
ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", metavar="FILE", help="TOML configuration file.")
]
# Commands that run on the embedded defaults when it is not given.
OptionalConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", metavar="FILE", help="TOML configuration file (default: none)."),
]
