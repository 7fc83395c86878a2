"""The ``--help`` screens: typer's Rich renderer, with two faults taken out.

Typer (0.29) prints a type for every option in its Rich help, flags included, so
``--dry-run`` and ``--help`` read ``<bool>`` although they take no value; and a long
type such as ``<viewer|coordinator|admin>`` does not fit its column at 80 columns and is
folded mid-word. So every ``aiguilleur`` command and group is built from the classes
below (``Typer(cls=Group)``, ``command(cls=Command)``), which show no type for a flag,
and every option names its value with a short metavar (``FILE``, ``DATE``, ``ROLE``…).
``tests/gateway/cli/test_conventions.py`` renders each command's help to check both.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

__all__ = ["Command", "Group", "new_app"]


def _without_flag_types(params: list[Any]) -> list[Any]:
    """A flag takes no value: an empty metavar keeps its type column blank."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    return params


class Command(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        return _without_flag_types(super().get_params(ctx))


class Group(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        return _without_flag_types(super().get_params(ctx))


def new_app(help_text: str, **options: Any) -> typer.Typer:
    """A (sub-)command group whose help is rendered by ``Group``."""
    options.setdefault("no_args_is_help", True)
    return typer.Typer(cls=Group, help=help_text, **options)
