"""Reading the gateway's own source with ``ast``: which calls it makes, with what arguments.

The label and event-kind tests use it to find every code the gateway writes, so that a new
one without a label fails there.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

__all__ = ["ROOT", "argument", "assigned", "call_name", "python_modules", "scoped_calls"]

ROOT = Path(__file__).resolve().parents[2]


def python_modules(*roots: Path) -> Iterator[tuple[str, ast.Module]]:
    """Each module under ``roots`` (a folder, or one file), by its path from the repository."""
    for root in roots:
        for path in sorted(root.rglob("*.py")) if root.is_dir() else [root]:
            rel = path.relative_to(ROOT).as_posix()
            yield rel, ast.parse(path.read_text(encoding="utf-8"))


def call_name(func: ast.expr) -> str:
    """``f`` of ``f(…)`` or ``x.f(…)``; "" for anything else."""
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    """The argument given at ``position`` or as ``keyword``, if any."""
    if len(call.args) > position:
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def assigned(scope: ast.AST, name: str) -> list[ast.expr]:
    """The values assigned to ``name`` in ``scope`` (``name = …`` statements)."""
    return [
        node.value
        for node in ast.walk(scope)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
    ]


def scoped_calls(tree: ast.AST) -> Iterator[tuple[ast.AST, ast.Call]]:
    """Every call with the innermost function (or the module) it is written in."""
    scopes: list[ast.AST] = [tree]
    scopes += [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    seen: set[int] = set()
    for scope in reversed(scopes):  # innermost first: a call is seen once, in its own function
        for node in ast.walk(scope):
            if isinstance(node, ast.Call) and id(node) not in seen:
                seen.add(id(node))
                yield scope, node
