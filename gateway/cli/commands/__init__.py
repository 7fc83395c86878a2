"""Plain command functions; the typer app in ``gateway.cli`` registers them."""

from gateway.cli.commands.parse import parse_command

__all__ = ["parse_command"]
