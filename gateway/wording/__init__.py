"""Every French word a professional or coordinator reads, outside the templates.

The sentences live in the ``*.toml`` files beside this module (one per topic),
keyed by stable dotted codes (``section.name``) that are unique across files,
as ``parsers/problems.py`` does for problems. Python code names a code and passes
the values to insert; changing a wording never means touching Python.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from types import MappingProxyType

__all__ = ["WordingError", "codes", "label", "labels", "placeholders", "say"]


class WordingError(KeyError):
    """A code or a placeholder the catalogue does not have."""


def _folder() -> Traversable:
    return resources.files(__package__)


@cache
def _catalogue() -> Mapping[str, str]:
    flat: dict[str, str] = {}

    def walk(prefix: str, table: Mapping[str, object]) -> None:
        for key, value in table.items():
            code = f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict):
                walk(code, value)
            elif isinstance(value, str):
                if code in flat:
                    raise ValueError(f"wording {code!r} is defined twice")
                flat[code] = value
            else:
                raise TypeError(f"wording {code!r} is not a string")

    for entry in sorted(_folder().iterdir(), key=lambda item: item.name):
        if entry.name.endswith(".toml"):
            walk("", tomllib.loads(entry.read_text("utf-8")))
    return MappingProxyType(flat)


def codes() -> frozenset[str]:
    return frozenset(_catalogue())


@cache
def placeholders(code: str) -> frozenset[str]:
    """The names a sentence expects, for the tests that check every call site."""
    return frozenset(
        name for _, name, _, _ in string.Formatter().parse(_text(code)) if name is not None
    )


def _text(code: str) -> str:
    try:
        return _catalogue()[code]
    except KeyError:
        raise WordingError(code) from None


def say(code: str, /, **values: object) -> str:
    """The sentence for ``code`` with ``values`` inserted (``str.format`` fields)."""
    text = _text(code)
    if not values and not placeholders(code):
        return text
    try:
        return text.format(**values)
    except KeyError as exc:
        raise WordingError(f"{code}: no value for {exc.args[0]!r}") from None


def label(section: str, key: str, default: str | None = None) -> str:
    """A label from a section (``programme``, ``event``…); ``default`` when it has none."""
    found = _catalogue().get(f"{section}.{key}")
    if found is not None:
        return found
    if default is not None:
        return default
    raise WordingError(f"{section}.{key}")


@cache
def labels(section: str) -> Mapping[str, str]:
    """All labels of one section, keyed by what follows ``section.``."""
    prefix = f"{section}."
    return MappingProxyType(
        {
            code[len(prefix) :]: text
            for code, text in _catalogue().items()
            if code.startswith(prefix) and "." not in code[len(prefix) :]
        }
    )
