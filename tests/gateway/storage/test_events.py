"""Every case event kind is a ``CaseEventKind`` with a French label.

The kinds written by the code are read from its source: a literal passed to
``repo.add_event``/``add_events`` (or assigned to the name passed), and the action of
an audited web action that lands on a case's timeline. A new kind without a member,
or a member without a label, fails here.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from gateway.storage.events import CaseEventKind
from gateway.storage.models import OfferStatus
from gateway.web.casepage import event_label
from gateway.wording import label, labels
from tests.support import source_scan as scan

KINDS = {k.value for k in CaseEventKind}


def _kinds(node: ast.expr, scope: ast.AST) -> Iterator[tuple[str, ast.expr]]:
    """What a kind expression can be: ("literal", …), ("prefix", …) or ("member", …)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield "literal", node
    elif isinstance(node, ast.JoinedStr):
        yield "prefix", node
    elif isinstance(node, ast.Attribute) and scan.call_name(node.value) == "CaseEventKind":
        yield "member", node
    elif isinstance(node, ast.Name):
        for value in scan.assigned(scope, node.id):
            yield from _kinds(value, scope)


def _timeline_record(call: ast.Call) -> bool:
    """An audited web action that also writes a case event (``gateway.web.audit.record``,
    or ``Call.audited`` which calls it)."""
    if scan.call_name(call.func) not in ("record", "audited"):
        return False
    keywords = {k.arg: k.value for k in call.keywords}
    case_id = keywords.get("case_id")
    timeline = keywords.get("timeline")
    if case_id is None or (isinstance(case_id, ast.Constant) and case_id.value is None):
        return False
    return not (isinstance(timeline, ast.Constant) and timeline.value is False)


def written_kinds() -> list[tuple[str, str, ast.expr]]:
    """(where, how, node) of every kind expression the gateway writes."""
    found: list[tuple[str, str, ast.expr]] = []
    for rel, tree in scan.python_modules(scan.ROOT / "gateway"):
        for scope, call in scan.scoped_calls(tree):
            name = scan.call_name(call.func)
            exprs: list[ast.expr] = []
            if name == "add_event":
                kind = scan.argument(call, 2, "kind")
                exprs += [kind] if kind is not None else []
            elif name == "add_events":
                exprs += [
                    node.elts[1]
                    for node in ast.walk(call)
                    if isinstance(node, ast.Tuple) and len(node.elts) == 3
                ]
            elif _timeline_record(call):
                position = 0 if name == "audited" else 2  # audited(action, …) is a method
                action = scan.argument(call, position, "action")
                exprs += [action] if action is not None else []
            for expr in exprs:
                for how, node in _kinds(expr, scope):
                    found.append((f"{rel}:{node.lineno}", how, node))
    return found


def test_every_kind_has_a_french_label_and_every_label_a_kind() -> None:
    for kind in CaseEventKind:
        assert label("event", kind.value), kind
        assert event_label(kind) == label("event", kind.value) != kind.value
    assert set(labels("event")) == KINDS


def test_every_kind_the_gateway_writes_is_a_case_event_kind() -> None:
    found = written_kinds()
    problems = []
    for where, how, node in found:
        if how == "literal":
            assert isinstance(node, ast.Constant)
            if node.value not in KINDS:
                problems.append(f"{where}: {node.value!r} is not a CaseEventKind")
        elif how == "member":
            assert isinstance(node, ast.Attribute)
            if node.attr not in CaseEventKind.__members__:
                problems.append(f"{where}: CaseEventKind.{node.attr} does not exist")
        else:
            assert isinstance(node, ast.JoinedStr)
            first = node.values[0] if node.values else None
            prefix = first.value if isinstance(first, ast.Constant) else ""
            if not prefix or not any(k.startswith(str(prefix)) for k in KINDS):
                problems.append(f"{where}: no CaseEventKind starts with {prefix!r}")
    assert problems == []
    # The scan does see the writers: the pipeline's, the outbox's and the web UI's.
    literals = {n.value for _, how, n in found if how == "literal" and isinstance(n, ast.Constant)}
    members = {n.attr for _, how, n in found if how == "member" and isinstance(n, ast.Attribute)}
    assert {"case_opened", "reply_sent", "reply_failed", "offer_sent"} <= literals
    assert {"NOTE_ADDED", "MESSAGE_RELEASED", "ASSIGNED"} <= members


def test_a_declined_offer_writes_a_kind_of_its_status() -> None:
    # gateway.cases.offers.decline writes f"offer_{status.value}" for these two.
    for status in (OfferStatus.REFUSED, OfferStatus.EXPIRED):
        assert f"offer_{status.value}" in KINDS
