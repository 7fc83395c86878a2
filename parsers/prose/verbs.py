"""EDS-NLP's table of conjugated French verbs, read without pandas.

EDS-NLP's negation, hypothesis and reported-speech qualifiers conjugate their verbs ("nier",
"éliminer", "supposer", "déclarer"...) by filtering ``edsnlp/resources/verbs.csv.gz`` (36,000
rows, five columns) with pandas, through ``edsnlp.utils.resources.get_verbs``. In the parse
workers' fork server pandas is 47 MB resident that nothing else uses, so
:mod:`parsers.prose.qualifiers` gives those qualifiers the same lists from the same file read
with :mod:`csv`, and :func:`defer_resources` keeps ``get_verbs``'s module, which imports
pandas, from loading until something calls into it.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import sys
import types
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import Any

__all__ = ["Conjugation", "conjugations", "defer_resources", "terms"]

_RESOURCES = "edsnlp.utils.resources"


@dataclass(frozen=True, slots=True)
class Conjugation:
    """One row of the table: ``term`` is ``verb`` conjugated in ``mode``, ``tense``, ``person``."""

    verb: str
    mode: str
    tense: str
    person: str  # "" for the infinitive and the participles
    term: str


def _table_path() -> Path:
    spec = importlib.util.find_spec("edsnlp")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("edsnlp")
    return Path(spec.origin).parent / "resources" / "verbs.csv.gz"


def _rows(verbs: frozenset[str]) -> Iterator[Conjugation]:
    """The table's rows for ``verbs`` (every row when empty), streamed: kept, 36,000 rows of
    Python strings would be 10 MB, for a few hundred used. The verb is the first column, so a
    line for another verb is skipped unparsed (a quoted one is parsed, to be sure)."""
    with gzip.open(_table_path(), "rt", encoding="utf-8", newline="") as stream:
        header = next(csv.reader([stream.readline()]))
        lines = (
            line
            for line in stream
            if not verbs or line.startswith('"') or line.partition(",")[0] in verbs
        )
        for fields in csv.reader(lines):
            row = Conjugation(**dict(zip(header, fields, strict=True)))
            if not verbs or row.verb in verbs:
                yield row


def conjugations(verbs: Iterable[str]) -> list[Conjugation]:
    """The table's rows for ``verbs``, in the table's order; every row when ``verbs`` is empty,
    as ``get_verbs`` does. A verb the table lacks is an error there too (an assertion)."""
    wanted = frozenset(verbs)
    rows = list(_rows(wanted))
    missing = wanted - {row.verb for row in rows}
    if missing:
        raise ValueError(f"verbs missing from EDS-NLP's table: {sorted(missing)}")
    return rows


def terms(rows: Iterable[Conjugation], keep: Callable[[Conjugation], bool]) -> list[str]:
    """The distinct conjugated forms of the rows kept, in order of first appearance (pandas'
    ``Series.unique``)."""
    return list(dict.fromkeys(row.term for row in rows if keep(row)))


class _DeferredResources(types.ModuleType):
    """Stands in ``sys.modules`` for ``edsnlp.utils.resources`` until one of its functions is
    called: importing a name from it costs nothing, calling one loads the real module (and
    pandas) and hands over to it, for good."""

    def __init__(self, spec: ModuleSpec) -> None:
        super().__init__(spec.name)
        self.__spec__ = spec
        self.__file__ = spec.origin
        self._real: types.ModuleType | None = None

    def _module(self) -> types.ModuleType:
        if self._real is None:
            spec = self.__spec__
            assert spec is not None and spec.loader is not None
            real = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(real)
            self._real = real
            sys.modules[spec.name] = real
        return self._real

    def get_verbs(self, verbs: list[str] | None = None, check_contains: bool = True) -> Any:
        return self._module().get_verbs(verbs, check_contains)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._module(), name)


def defer_resources() -> bool:
    """Put the stand-in for ``edsnlp.utils.resources`` in place, unless that module is already
    imported. True when it was put in place."""
    if _RESOURCES in sys.modules:
        return False
    spec = importlib.util.find_spec(_RESOURCES)
    if spec is None or spec.loader is None:
        return False
    stand_in = _DeferredResources(spec)
    sys.modules[_RESOURCES] = stand_in
    parent, _, child = _RESOURCES.rpartition(".")
    setattr(sys.modules[parent], child, stand_in)
    return True
