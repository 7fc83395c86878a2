"""Programmes as data: which rules run, in which order, with which parameters.

The defaults live in ``programmes.toml`` beside this module. A CPTS may give
its own TOML of the same shape; its keys override the defaults (see the file's
header). Every problem raises :class:`ProgrammeConfigError` naming the key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
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
    "load_programmes",
    "programmes_from_mapping",
]

DEFAULT_PROGRAMMES_PATH = Path(__file__).with_name("programmes.toml")
PROGRAMME_NAMES = ("signalement", "tele_expertise", "appui_dac", "medecin_referent")
_PROGRAMME_KEYS = frozenset({"label_fr", "rules", "params"})


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
class ProgrammeSpec:
    name: str
    label_fr: str
    steps: tuple[RuleStep, ...]

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(step.rule_id for step in self.steps)

    def step(self, rule_id: str) -> RuleStep | None:
        return next((s for s in self.steps if s.rule_id == rule_id), None)


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


def _check_shape(data: Mapping[str, Any], origin: str) -> None:
    for name, body in data.items():
        if name not in PROGRAMME_NAMES:
            raise ProgrammeConfigError(
                f"{origin}: unknown programme '{name}' (known: {', '.join(PROGRAMME_NAMES)})"
            )
        table = _table(body, origin, name)
        for key in table:
            if key not in _PROGRAMME_KEYS:
                raise ProgrammeConfigError(f"{origin}: {name}.{key}: unknown key")
        if "rules" in table:
            ids = table["rules"]
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise ProgrammeConfigError(f"{origin}: {name}.rules: expected a list of rule ids")
            for rule_id in ids:
                if rule_id not in RULES:
                    raise ProgrammeConfigError(f"{origin}: {name}.rules: unknown rule '{rule_id}'")
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ProgrammeConfigError(
                    f"{origin}: {name}.rules: rule listed twice: {', '.join(dupes)}"
                )
        if "label_fr" in table and not isinstance(table["label_fr"], str):
            raise ProgrammeConfigError(f"{origin}: {name}.label_fr: expected a string")
        for rule_id, params in _table(table.get("params", {}), origin, f"{name}.params").items():
            _table(params, origin, f"{name}.params.{rule_id}")


def _build(
    name: str, base: Mapping[str, Any], override: Mapping[str, Any], origin: str
) -> ProgrammeSpec:
    order: list[str] = list(override.get("rules", base.get("rules", [])))
    if not order:
        raise ProgrammeConfigError(f"{origin}: {name}.rules: a programme needs at least one rule")
    base_params = _table(base.get("params", {}), origin, f"{name}.params")
    over_params = _table(override.get("params", {}), origin, f"{name}.params")
    for rule_id in over_params:
        if rule_id not in order:
            raise ProgrammeConfigError(
                f"{origin}: {name}.params.{rule_id}: rule not in {name}.rules"
            )
    steps: list[RuleStep] = []
    for rule_id in order:
        rule = RULES[rule_id]
        raw = {**base_params.get(rule_id, {}), **over_params.get(rule_id, {})}
        try:
            params = rule.params_model.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            where = f"{name}.params.{rule_id}" + (f".{loc}" if loc else "")
            raise ProgrammeConfigError(f"{origin}: {where}: {first['msg']}") from None
        steps.append(RuleStep(rule=rule, params=params))
    label = override.get("label_fr", base.get("label_fr", name))
    return ProgrammeSpec(name=name, label_fr=str(label), steps=tuple(steps))


def programmes_from_mapping(
    overrides: Mapping[str, Any] | None = None, *, origin: str = "<programmes>"
) -> dict[str, ProgrammeSpec]:
    """The default programmes, with ``overrides`` (already parsed TOML) applied."""
    defaults = _read_toml(DEFAULT_PROGRAMMES_PATH)
    _check_shape(defaults, str(DEFAULT_PROGRAMMES_PATH))
    over = overrides or {}
    _check_shape(over, origin)
    return {
        name: _build(name, defaults.get(name, {}), over.get(name, {}), origin)
        for name in PROGRAMME_NAMES
    }


def load_programmes(path: Path | None = None) -> dict[str, ProgrammeSpec]:
    """The programmes by name: the packaged defaults, overridden by a CPTS file if given."""
    if path is None:
        return programmes_from_mapping()
    return programmes_from_mapping(_read_toml(path), origin=str(path))
