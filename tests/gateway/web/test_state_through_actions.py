"""The web UI changes a case or a message only through action functions.

Handlers parse the request, call ``gateway.cases.actions``, ``gateway.pipeline.quarantine``
or ``gateway.outbox.queue``, audit and redirect. This reads the web package's source: no
handler writes a column of the daemon's tables, adds one of its rows, or builds an
INSERT, UPDATE or DELETE of them itself. (Users, sessions and the audit log are the web's own.)
"""

from __future__ import annotations

import ast
from pathlib import Path

from sqlmodel import SQLModel

import gateway.storage.models as models

WEB = Path(__file__).resolve().parents[3] / "gateway" / "web"
_DAEMON_TABLES = {
    table.name
    for table in SQLModel.metadata.sorted_tables
    if any(
        getattr(cls, "__tablename__", None) == table.name
        for cls in vars(models).values()
        if isinstance(cls, type) and issubclass(cls, SQLModel)
    )
}
_COLUMNS = {
    column.name
    for table in SQLModel.metadata.sorted_tables
    if table.name in _DAEMON_TABLES
    for column in table.columns
} - {"id", "name", "kind", "text"}  # too generic: web's own dataclasses use them
_MODEL_NAMES = {
    name
    for name, cls in vars(models).items()
    if isinstance(cls, type) and issubclass(cls, SQLModel) and hasattr(cls, "__tablename__")
}


def _writes(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr in _COLUMNS
                    and not (isinstance(target.value, ast.Name) and target.value.id == "self")
                ):
                    found.append(f"{path.name}:{node.lineno}: sets .{target.attr}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("insert", "update", "delete")
            and node.args
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id in _MODEL_NAMES
        ):
            found.append(f"{path.name}:{node.lineno}: {node.func.id}({node.args[0].id})")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("add", "add_all", "delete", "merge")
            and node.args
            and isinstance(node.args[0], ast.Call)
            and isinstance(node.args[0].func, ast.Name)
            and node.args[0].func.id in _MODEL_NAMES
        ):
            found.append(f"{path.name}:{node.lineno}: {node.func.attr}s a {node.args[0].func.id}")
    return found


def test_web_handlers_change_daemon_state_only_through_actions() -> None:
    assert {"cases", "offer", "inbound_message", "outbound_message"} <= _DAEMON_TABLES
    writes = [w for path in sorted(WEB.rglob("*.py")) for w in _writes(path)]
    assert writes == []


def test_the_scan_sees_an_inline_mutation(tmp_path: Path) -> None:
    bad = tmp_path / "handler.py"
    bad.write_text(
        "from sqlalchemy import update\n"
        "def release(row, session):\n"
        "    session.execute(update(InboundMessage).values(status='received'))\n"
        "    row.status = 'received'\n"
        "    row.attempts += 1\n"
        "    session.add(Case(reference='x'))\n",
        encoding="utf-8",
    )
    assert len(_writes(bad)) == 4
    assert any(w.endswith("update(InboundMessage)") for w in _writes(bad))
