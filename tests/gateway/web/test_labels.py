"""Every code the coordinator UI shows has a French label, in one table per enumeration.

The enumerations take their codes from the enums themselves; what has no enum (the keys
of event details, the targets of audit entries, the health checks, the audit actions the
command line writes) is read from the code that writes it. A new value without a label,
or a template that prints a code as it is, fails here.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path

import pytest
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.testclient import TestClient

import gateway.replies.facts
import gateway.storage.events
import gateway.storage.models
import gateway.storage.web_models
import gateway.web.audit
import parsers.request
import rules.result
from gateway.cases import answers
from gateway.config import Config
from gateway.storage.db import make_engine
from gateway.storage.events import CaseEventKind
from gateway.storage.web_models import Role
from gateway.web.app import create_app
from gateway.web.audit import AuditAction
from gateway.web.casepage import _SKIPPED
from gateway.web.context import WebContext
from gateway.web.labels import (
    DETAIL_KEYS,
    ENUMERATIONS,
    HEALTH_CHECKS,
    TARGET_KINDS,
    check_text,
    detail_text,
    field_label,
    french,
    target_text,
    value_enumeration,
)
from gateway.web.users import add_user
from gateway.wording import label, labels
from parsers.request import Request
from tests.support.french import EXCLUDED, english_codes, raw_codes, seed_every_state
from tests.support.french import visible_text as visible
from tests.support.source_scan import (
    ROOT,
    argument,
    assigned,
    call_name,
    python_modules,
    scoped_calls,
)
from tests.support.web import PASSWORD, login, web_config

GATEWAY = ROOT / "gateway"
TEMPLATES = GATEWAY / "web" / "templates"
EVENTS = frozenset(k.value for k in CaseEventKind)
ACTIONS = frozenset(a.value for a in AuditAction)
# Tables that hold more than their enumeration: the reply subjects' fallback.
EXTRA_KEYS = {"subject": {"default"}}
# StrEnums of the modules the UI reads that it never shows, and why.
NOT_SHOWN = {
    "SituationCriterion": "rules' internal criterion names, shown through their reasons",
}


# --- Every value has its label ---------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ENUMERATIONS))
def test_every_value_has_a_french_label(name: str) -> None:
    enumeration = ENUMERATIONS[name]
    assert enumeration.codes, name
    table = labels(enumeration.section)
    missing = [code for code in enumeration.codes if code not in table]
    assert missing == [], f"{name}: no label in [{enumeration.section}] for {missing}"
    for code in enumeration.codes:
        assert french(name, code) == label(enumeration.section, code), (name, code)
        # A label may be the code itself only when it is a French word too ("programme").
        assert french(name, code) != code or code in EXCLUDED, (name, code)
    stale = set(table) - set(enumeration.codes) - EXTRA_KEYS.get(enumeration.section, set())
    assert stale == set(), f"[{enumeration.section}] labels codes {name} does not have"


def test_each_enumeration_has_its_own_table() -> None:
    sections = [e.section for e in ENUMERATIONS.values()]
    assert len(sections) == len(set(sections))


def _strenums() -> Iterator[type[StrEnum]]:
    for module in (
        gateway.storage.models,
        gateway.storage.events,
        gateway.storage.web_models,
        gateway.replies.facts,
        gateway.web.audit,
        parsers.request,
        rules.result,
    ):
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, StrEnum) and value is not StrEnum:
                yield value


def test_every_enum_the_ui_reads_is_an_enumeration() -> None:
    registered = {frozenset(e.codes) for e in ENUMERATIONS.values()}
    unregistered = [
        enum.__name__
        for enum in _strenums()
        if frozenset(m.value for m in enum) not in registered and enum.__name__ not in NOT_SHOWN
    ]
    assert unregistered == []


def _leaves(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    for name, field in model.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            yield from _leaves(kind, f"{prefix}{name}.")
        elif prefix or name not in _SKIPPED:
            yield f"{prefix}{name}"


def test_every_field_of_the_request_has_a_french_name() -> None:
    """The case page lists the parsed request by field: each one by its French name."""
    unnamed = [path for path in _leaves(Request) if field_label(path).lower() == path.lower()]
    assert unnamed == []


def test_an_unknown_code_shows_as_it_is_and_none_as_a_dash() -> None:
    assert french("case_status", "no_such_status") == "no_such_status"
    assert french("decision", None) == french("decision", "") == "—"
    with pytest.raises(KeyError):
        french("no_such_enumeration", "x")


# --- The templates print labels, never codes -------------------------------------------------

_LABEL_CALL = re.compile(r"""label\(\s*["']([^"']+)["']""")
# A code printed as it is: {{ x.status }}, {{ o.kind }}… outside a class name ("status-…").
_RAW = re.compile(
    r"(?<![-\w])\{\{\s*[\w.]+\.(status|kind|decision|outcome|role|action|target|detail_json)"
    r"\s*\}\}"
)


def _templates() -> Iterator[tuple[str, str]]:
    for path in sorted(TEMPLATES.glob("*.html")):
        yield path.name, path.read_text(encoding="utf-8")


def test_templates_name_known_enumerations() -> None:
    named = {(name, m) for name, text in _templates() for m in _LABEL_CALL.findall(text)}
    assert named, "the templates call label()"
    assert {(n, m) for n, m in named if m not in ENUMERATIONS} == set()


def test_templates_print_no_code_as_it_is() -> None:
    raw = [(name, m.group(0)) for name, text in _templates() for m in _RAW.finditer(text)]
    assert raw == []


# --- What no enum lists is read from the code that writes it ---------------------------------


def _resolved(node: ast.expr, scope: ast.AST) -> list[ast.expr]:
    """The expression, or the values assigned to it when it is a variable."""
    if isinstance(node, ast.Name):
        return assigned(scope, node.id) or [node]
    return [node]


def _codes(node: ast.expr | None, scope: ast.AST, known: frozenset[str]) -> set[str]:
    """The event kinds or audit actions an expression can be (literal, member, variable,
    ``f"offer_{…}"``)."""
    if node is None:
        return set()
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value} & known
    if isinstance(node, ast.Attribute) and call_name(node.value) in (
        "CaseEventKind",
        "AuditAction",
    ):
        enum = CaseEventKind if call_name(node.value) == "CaseEventKind" else AuditAction
        member = enum.__members__.get(node.attr)
        return {member.value} if member is not None else set()
    if isinstance(node, ast.JoinedStr):
        first = node.values[0] if node.values else None
        prefix = first.value if isinstance(first, ast.Constant) else None
        return {k for k in known if isinstance(prefix, str) and prefix and k.startswith(prefix)}
    if isinstance(node, ast.Name):
        return {c for value in assigned(scope, node.id) for c in _codes(value, scope, known)}
    return set()


def _action_returns(tree: ast.AST) -> Iterator[tuple[int, ast.expr, ast.expr, ast.Dict]]:
    """(line, action, target, detail) of each routing action's ``return action, target,
    detail`` (a three-tuple whose detail is a dict literal)."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple)):
            continue
        if len(node.value.elts) == 3 and isinstance(node.value.elts[2], ast.Dict):
            action, target, _ = node.value.elts
            yield node.lineno, action, target, node.value.elts[2]


Written = tuple[str, set[str], ast.Dict]  # where, the events it details, the detail


def written_details() -> list[Written]:
    """Every detail dict written with a case event or an audit entry, with its event(s).

    A dict literal is a detail when it is an argument of a call that also names an event
    kind or audit action (``add_event``, ``record``, ``audited``, ``_settle``…), a tuple
    of ``add_events``, or the third item of a routing action's ``(action, target, detail)``.
    ``add_event`` with a kind unknown here (``audit.record``'s) still has its keys checked.
    """
    found: list[Written] = []
    known = EVENTS | ACTIONS
    for rel, tree in python_modules(GATEWAY):
        for scope, call in scoped_calls(tree):
            name = call_name(call.func)
            if name == "add_events":
                for node in ast.walk(call):
                    if isinstance(node, ast.Tuple) and len(node.elts) == 3:
                        detail = node.elts[2]
                        if isinstance(detail, ast.Dict):
                            events = _codes(node.elts[1], scope, known)
                            found.append((f"{rel}:{detail.lineno}", events, detail))
                continue
            arguments = [*call.args, *(k.value for k in call.keywords)]
            events = set().union(
                *(_codes(a, scope, known) for a in arguments if not isinstance(a, ast.Dict))
            )
            if not events and name != "add_event":
                continue
            for passed in arguments:
                for value in _resolved(passed, scope):
                    for node in ast.walk(value):
                        if isinstance(node, ast.Dict):
                            found.append((f"{rel}:{node.lineno}", events, node))
        for line, action, _, detail in _action_returns(tree):
            events = _codes(action, tree, ACTIONS)
            if events:
                found.append((f"{rel}:{line}", events, detail))
    return found


def test_every_detail_key_written_has_a_label() -> None:
    found = written_details()
    keys = {
        (where, key.value)
        for where, _, detail in found
        for key in detail.keys
        if isinstance(key, ast.Constant) and isinstance(key.value, str)
    }
    assert {(w, k) for w, k in keys if k not in DETAIL_KEYS} == set()
    # The scan sees the writers: intake, offers, the outbox, the web UI's actions.
    seen = {k for _, k in keys}
    assert {"programme", "taken_as", "message_id", "previous_error", "target", "rpps"} <= seen
    events = set().union(*(e for _, e, _ in found))
    assert {"rules_evaluated", "reply_sent", "message_released", "case_assigned"} <= events


def test_every_coded_detail_value_written_has_a_label() -> None:
    problems = []
    checked = 0
    for where, events, detail in written_details():
        for key, value in zip(detail.keys, detail.values, strict=True):
            if not (isinstance(key, ast.Constant) and isinstance(value, ast.Constant)):
                continue
            if not isinstance(value.value, str):
                continue
            name = str(key.value)
            for event in events:
                table = value_enumeration(event, name)
                if table is None:
                    problems.append(f"{where}: {event}.{name} = {value.value!r}: no table")
                elif value.value not in ENUMERATIONS[table].codes:
                    problems.append(f"{where}: {value.value!r} is not a code of {table}")
                checked += 1
    assert problems == []
    assert checked >= 2  # sender_unverified's policy, reply_suppressed's reason


def _action_parameters(tree: ast.Module) -> dict[str, int]:
    """Functions of a module that take an ``action`` they pass on: name → its position."""
    return {
        node.name: [a.arg for a in node.args.args].index("action")
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and "action" in [a.arg for a in node.args.args]
    }


def written_actions() -> list[tuple[str, ast.expr, ast.AST]]:
    """(where, expression, scope) of every audit action written: ``record``'s, ``audited``'s,
    a routing action's returned tuple, and a module's own helper taking an ``action``."""
    found: list[tuple[str, ast.expr, ast.AST]] = []
    for rel, tree in python_modules(GATEWAY):
        text = ast.unparse(tree)
        if "record" not in text and "audited" not in text:
            continue
        own = _action_parameters(tree) if "gateway.web.audit" in text else {}
        for scope, call in scoped_calls(tree):
            name = call_name(call.func)
            position = {"record": 2, "audited": 0}.get(name, own.get(name))
            if (
                name == "record"
                and "gateway.web.audit" not in text
                and rel != "gateway/web/audit.py"
            ):
                continue
            if position is None:
                continue
            action = argument(call, position, "action")
            if action is not None:
                found.append((f"{rel}:{call.lineno}", action, scope))
        for line, action, _, _ in _action_returns(tree):
            found.append((f"{rel}:{line}", action, tree))
    return found


def test_every_audit_action_written_is_an_audit_action() -> None:
    problems = []
    literals = set()
    for where, node, _ in written_actions():
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            literals.add(node.value)
            if node.value not in ACTIONS:
                problems.append(f"{where}: {node.value!r} is not an AuditAction")
        elif isinstance(node, ast.Attribute):
            owner = call_name(node.value)
            enum = {"AuditAction": AuditAction, "CaseEventKind": CaseEventKind}.get(owner)
            member = enum.__members__.get(node.attr) if enum is not None else None
            if member is None or member.value not in ACTIONS:
                problems.append(f"{where}: {owner}.{node.attr} is not an AuditAction")
    assert problems == []
    # The scan sees the routing actions' and the user commands' literals.
    assert {"case_assigned", "case_closed", "user_added", "user_disabled"} <= literals


def _prefixes(node: ast.expr | None) -> set[str]:
    """``kind`` of ``"kind:…"`` or ``f"kind:{…}"``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and ":" in node.value:
        return {node.value.partition(":")[0]}
    if isinstance(node, ast.JoinedStr) and node.values:
        first = node.values[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return {first.value.partition(":")[0]}
    return set()


def test_every_audit_target_written_has_a_label() -> None:
    kinds: set[str] = set()
    for _, tree in python_modules(GATEWAY):
        for scope, call in scoped_calls(tree):
            target = argument(call, 99, "target")
            if call_name(call.func) in ("record", "audited") and target is not None:
                for value in _resolved(target, scope):
                    kinds |= _prefixes(value)
        for _, _, target, _ in _action_returns(tree):
            kinds |= _prefixes(target)
    assert {"inbound", "outbound", "offer", "user", "rpps"} <= kinds
    assert kinds - set(TARGET_KINDS) == set()


def test_every_health_check_has_a_label() -> None:
    ((_, tree),) = list(python_modules(GATEWAY / "health.py"))
    names = {
        prefix
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and call_name(node.func) == "Check"
        for prefix in _prefixes(node.args[0])
        | ({node.args[0].value} if isinstance(node.args[0], ast.Constant) else set())
        if isinstance(prefix, str) and ":" not in prefix
    }
    assert {"database", "mailbox"} <= names
    assert names - set(HEALTH_CHECKS) == set()


def test_what_a_doctor_message_is_taken_as_has_a_label() -> None:
    tree = ast.parse(inspect.getsource(answers.doctor_message))
    returned = {
        node.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Return)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }
    assert {"accept", "refuse", "ambiguous"} <= returned
    assert returned - set(ENUMERATIONS["doctor_answer"].codes) == set()


# --- How details, targets and checks read ----------------------------------------------------


def test_details_read_in_french() -> None:
    offer = detail_text("offer_sent", {"offer_id": 3, "kind": "signalement", "rank": 1})
    assert offer == "n° de la proposition : 3 · type : Nouveau patient · rang : 1"
    mail = detail_text("reply_sent", '{"kind": "offer", "message_id": "<m@x>", "error": null}')
    assert mail == "type : Proposition de nouveau patient · identifiant du message : <m@x>"
    rules = detail_text("rules_evaluated", {"outcome": "eligible", "plan": "offer_sequence"})
    plan = "propositions successives aux médecins généralistes"
    assert rules == f"issue : Éligible · orientation : {plan}"
    assert detail_text("closed", {"outcome": "annule"}) == "issue : La demande a été annulée"
    opened = detail_text("case_opened", {"programme": "tele_expertise"}, {"tele_expertise": "TE"})
    assert opened == "programme : TE"
    roster = detail_text("roster_edited", {"accepts_new_patients": [None, True], "absences": 0})
    assert roster == "accepte de nouveaux patients (avant, après) : —, oui · absences : 0"
    assert detail_text("x", "not json") == "not json"


def test_targets_and_checks_read_in_french() -> None:
    assert target_text("inbound:42") == "message reçu n° 42"
    assert target_text("outcome:sans_solution") == (
        "issue : Aucune solution n'a pu être trouvée à ce jour"
    )
    assert target_text("field:patient.city") == "champ : Commune du patient"
    assert target_text("odd") == "odd" and target_text(None) == ""
    assert check_text("mailbox:sig") == "boîte aux lettres sig"
    assert check_text("database") == "base de données"


# --- Every page, rendered, shows no code -----------------------------------------------------


def test_the_excluded_codes_are_few_and_explained() -> None:
    assert len(EXCLUDED) <= 20 and all(EXCLUDED.values())
    codes = english_codes()
    assert {"sender_unverified", "reply_sent", "eligible", "pending", "offer"} <= set(codes)
    assert raw_codes("kind : offer · Statut : Reçu", codes) != []
    assert raw_codes("Proposition de nouveau patient", codes) == []
    assert raw_codes("patient_in_territory", codes) == []  # a whole word only


@pytest.fixture
def site(db_url: str, tmp_path: Path) -> Iterator[tuple[Config, Engine]]:
    config = web_config(db_url, tmp_path)
    engine = make_engine(db_url)
    with Session(engine) as db:
        add_user(db, "claire", PASSWORD, Role.COORDINATOR, "Claire Lemoine")
        add_user(db, "gaspard", PASSWORD, Role.ADMIN, "Gaspard Roche")
        add_user(db, "lea", PASSWORD, Role.VIEWER, "Léa Simon")
        db.commit()
    try:
        yield config, engine
    finally:
        engine.dispose()


def test_no_page_shows_a_code(site: tuple[Config, Engine]) -> None:
    """The browser test's walk, without a browser: every page's visible text."""
    config, engine = site
    seeded = seed_every_state(engine)
    client = TestClient(create_app(WebContext.build(config, engine)), base_url="http://testserver")
    login(client, "gaspard")
    pages = ["/", "/cases", "/quarantine", "/directory?q=martin", "/roster", "/audit", "/users"]
    pages += [f"/cases/{reference}" for reference in seeded.references]
    codes = english_codes()
    found = {}
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        hits = raw_codes(visible(response.text), codes)
        if hits:
            found[path] = hits
    assert found == {}
