"""Programmes as data: which rules run, in which order, with which parameters, and
how the gateway treats the programme (its labels, routing strategy, statuses).

The defaults live in ``programmes.toml`` beside this module. A CPTS may give
its own TOML of the same shape; its keys override the defaults (see the file's
header), and a table with a new name declares a new programme. Every problem
raises :class:`ProgrammeConfigError` naming the key.
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rules.base import Params, Rule
from rules.registry import RULES

__all__ = [
    "DEFAULT_PROGRAMMES_PATH",
    "PROGRAMME_NAMES",
    "ProgrammeConfigError",
    "ProgrammeSpec",
    "RuleStep",
    "StatusText",
    "load_programmes",
    "programmes_from_mapping",
]

DEFAULT_PROGRAMMES_PATH = Path(__file__).with_name("programmes.toml")
# The packaged programmes, in the file's order (a CPTS file may declare more).
PROGRAMME_NAMES = tuple(tomllib.loads(DEFAULT_PROGRAMMES_PATH.read_text(encoding="utf-8")))
_PROGRAMME_KEYS = frozenset(
    {
        "label_fr",
        "mail_label_fr",
        "short_label_fr",
        "kind",
        "routing",
        "close_on_ineligible",
        "summary_sections",
        "status",
        "rules",
        "params",
    }
)
# What a new programme must declare; the packaged ones get these from the defaults.
_REQUIRED_FOR_NEW = ("label_fr", "routing", "rules")
_STATUS_KEYS = frozenset({"code", "label_fr", "line_fr"})
SUMMARY_SECTIONS = frozenset({"patient", "situation", "tele_expertise", "sender"})


class ProgrammeConfigError(ValueError):
    """A programme file is invalid; the message names the key.

    ``rules`` knows nothing of the daemon: the gateway wraps this in its ``ConfigError``.
    """


@dataclass(frozen=True)
class RuleStep:
    """One rule of a programme with its validated parameters."""

    rule: Rule[Any]
    params: Params

    @property
    def rule_id(self) -> str:
        return self.rule.id


@dataclass(frozen=True)
class StatusText:
    """How a programme names one case status to the sender (overrides the generic one)."""

    code: str | None = None
    label_fr: str | None = None
    line_fr: str | None = None  # a sentence added to a status reply


@dataclass(frozen=True)
class ProgrammeSpec:
    name: str
    label_fr: str
    steps: tuple[RuleStep, ...]
    # The request kind the parsers read the programme's mail as.
    kind: str = ""
    # The routing strategy's name (``gateway.routing.strategies``).
    routing: str = ""
    # "votre {mail_label_fr}" in replies.
    mail_label_fr: str = ""
    # In the web UI's lists and filters.
    short_label_fr: str = ""
    # An ineligible case is closed at once (nothing can complete it).
    close_on_ineligible: bool = False
    summary_sections: tuple[str, ...] = ("patient", "situation", "sender")
    status: Mapping[str, StatusText] = field(default_factory=dict)  # keyed by case status

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(step.rule_id for step in self.steps)

    def step(self, rule_id: str) -> RuleStep | None:
        return next((s for s in self.steps if s.rule_id == rule_id), None)

    def unconfigured(self) -> list[tuple[str, tuple[str, ...]]]:
        """(rule id, parameters) of each rule that cannot decide until they are filled in."""
        return [(s.rule_id, s.params.unconfigured()) for s in self.steps if s.params.unconfigured()]


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProgrammeConfigError(f"cannot read programmes file {path}: {exc.strerror}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProgrammeConfigError(f"{path}: TOML syntax error: {exc}") from None


def _table(value: object, origin: str, key: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ProgrammeConfigError(f"{origin}: {key}: expected a table")
    return value


def resolve_rule(ref: str, origin: str, where: str) -> Rule[Any]:
    """A rule by registry id, or by import path (``package.module`` holding ``RULE``, or
    ``package.module:NAME``) for a CPTS's own rule module."""
    if ref in RULES:
        return RULES[ref]
    if "." not in ref and ":" not in ref:
        raise ProgrammeConfigError(f"{origin}: {where}: unknown rule '{ref}'")
    module_name, _, attr = ref.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ProgrammeConfigError(f"{origin}: {where}: cannot import '{ref}': {exc}") from None
    rule = getattr(module, attr or "RULE", None)
    if not isinstance(rule, Rule):
        raise ProgrammeConfigError(f"{origin}: {where}: '{ref}' is not a rule")
    return rule


def _check_status(value: object, origin: str, where: str) -> dict[str, StatusText]:
    out: dict[str, StatusText] = {}
    for status, text in _table(value, origin, where).items():
        table = _table(text, origin, f"{where}.{status}")
        for key, item in table.items():
            if key not in _STATUS_KEYS:
                raise ProgrammeConfigError(f"{origin}: {where}.{status}.{key}: unknown key")
            if not isinstance(item, str):
                raise ProgrammeConfigError(f"{origin}: {where}.{status}.{key}: expected a string")
        out[status] = StatusText(**table)
    return out


def _check_shape(data: Mapping[str, Any], origin: str, known: frozenset[str]) -> None:
    for name, body in data.items():
        table = _table(body, origin, name)
        for key in table:
            if key not in _PROGRAMME_KEYS:
                raise ProgrammeConfigError(f"{origin}: {name}.{key}: unknown key")
        if name not in known:
            absent = [k for k in _REQUIRED_FOR_NEW if k not in table]
            if absent:
                raise ProgrammeConfigError(
                    f"{origin}: {name}: a new programme must declare {', '.join(absent)} "
                    f"(known programmes: {', '.join(sorted(known))})"
                )
        if "rules" in table:
            ids = table["rules"]
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise ProgrammeConfigError(f"{origin}: {name}.rules: expected a list of rule ids")
            resolved = [resolve_rule(i, origin, f"{name}.rules").id for i in ids]
            dupes = sorted({i for i in resolved if resolved.count(i) > 1})
            if dupes:
                raise ProgrammeConfigError(
                    f"{origin}: {name}.rules: rule listed twice: {', '.join(dupes)}"
                )
        for key in ("label_fr", "mail_label_fr", "short_label_fr", "kind", "routing"):
            if key in table and not isinstance(table[key], str):
                raise ProgrammeConfigError(f"{origin}: {name}.{key}: expected a string")
        if "close_on_ineligible" in table and not isinstance(table["close_on_ineligible"], bool):
            raise ProgrammeConfigError(f"{origin}: {name}.close_on_ineligible: expected a boolean")
        if "summary_sections" in table:
            sections = table["summary_sections"]
            if not isinstance(sections, list) or not all(s in SUMMARY_SECTIONS for s in sections):
                raise ProgrammeConfigError(
                    f"{origin}: {name}.summary_sections: expected a list among "
                    f"{', '.join(sorted(SUMMARY_SECTIONS))}"
                )
        if "status" in table:
            _check_status(table["status"], origin, f"{name}.status")
        for rule_id, params in _table(table.get("params", {}), origin, f"{name}.params").items():
            _table(params, origin, f"{name}.params.{rule_id}")


def _build(
    name: str, base: Mapping[str, Any], override: Mapping[str, Any], origin: str
) -> ProgrammeSpec:
    order = [
        resolve_rule(ref, origin, f"{name}.rules")
        for ref in override.get("rules", base.get("rules", []))
    ]
    if not order:
        raise ProgrammeConfigError(f"{origin}: {name}.rules: a programme needs at least one rule")
    ids = [rule.id for rule in order]
    base_params = _table(base.get("params", {}), origin, f"{name}.params")
    over_params = _table(override.get("params", {}), origin, f"{name}.params")
    for rule_id in over_params:
        if rule_id not in ids:
            raise ProgrammeConfigError(
                f"{origin}: {name}.params.{rule_id}: rule not in {name}.rules"
            )
    steps: list[RuleStep] = []
    for rule in order:
        raw = {**base_params.get(rule.id, {}), **over_params.get(rule.id, {})}
        try:
            params = rule.params_model.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            where = f"{name}.params.{rule.id}" + (f".{loc}" if loc else "")
            raise ProgrammeConfigError(f"{origin}: {where}: {first['msg']}") from None
        steps.append(RuleStep(rule=rule, params=params))

    def pick(key: str, default: Any) -> Any:
        return override.get(key, base.get(key, default))

    label = str(pick("label_fr", name))
    status = {
        **_check_status(base.get("status", {}), origin, f"{name}.status"),
        **_check_status(override.get("status", {}), origin, f"{name}.status"),
    }
    return ProgrammeSpec(
        name=name,
        label_fr=label,
        steps=tuple(steps),
        kind=str(pick("kind", name)),
        routing=str(pick("routing", "")),
        mail_label_fr=str(pick("mail_label_fr", label[:1].lower() + label[1:])),
        short_label_fr=str(pick("short_label_fr", label)),
        close_on_ineligible=bool(pick("close_on_ineligible", False)),
        summary_sections=tuple(pick("summary_sections", ("patient", "situation", "sender"))),
        status=status,
    )


def programmes_from_mapping(
    overrides: Mapping[str, Any] | None = None, *, origin: str = "<programmes>"
) -> dict[str, ProgrammeSpec]:
    """The default programmes, with ``overrides`` (already parsed TOML) applied; a table
    with a new name declares a new programme."""
    defaults = _read_toml(DEFAULT_PROGRAMMES_PATH)
    _check_shape(defaults, str(DEFAULT_PROGRAMMES_PATH), frozenset(defaults))
    over = overrides or {}
    _check_shape(over, origin, frozenset(defaults))
    names = [*defaults, *(n for n in over if n not in defaults)]
    return {
        name: _build(name, defaults.get(name, {}), over.get(name, {}), origin) for name in names
    }


def load_programmes(path: Path | None = None) -> dict[str, ProgrammeSpec]:
    """The programmes by name: the packaged defaults, overridden by a CPTS file if given."""
    if path is None:
        return programmes_from_mapping()
    return programmes_from_mapping(_read_toml(path), origin=str(path))
