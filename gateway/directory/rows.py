"""Turning extract lines into table rows: validation and keys. Pure.

A reader takes the fields of one line and returns either ``(key, row)`` (the row
holds the selected fields in spec order, ready to bind) or a rejection reason
code (``REASON_*``; its French words are ``directory.reason.<code>``). A rejection
never carries the line's content, only why, so no personal data reaches the
summary or the logs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter

from gateway.directory.extract import MSSANTE_COLUMNS, PERSONNE_ACTIVITE_COLUMNS, FileKind

__all__ = [
    "REASON_ADDRESS",
    "REASON_BAL_TYPE",
    "REASON_COLUMNS",
    "REASON_ID_TYPE",
    "REASON_NATIONAL_ID",
    "REASON_NO_NATIONAL_ID",
    "REASON_NO_PROFESSION",
    "REASON_RPPS",
    "Reader",
    "Row",
    "make_reader",
]

Row = tuple[str, ...]
Result = tuple[tuple[str, ...], Row] | str

REASON_COLUMNS = "columns"
REASON_NO_NATIONAL_ID = "no_national_id"
REASON_ID_TYPE = "id_type"
REASON_NATIONAL_ID = "national_id"
REASON_RPPS = "rpps"
REASON_NO_PROFESSION = "no_profession"
REASON_ADDRESS = "address"
REASON_BAL_TYPE = "bal_type"


@dataclass(frozen=True)
class Reader:
    """Reads the lines of one kind of extract, with the column positions its header gave."""

    kind: FileKind
    width: int  # fields per line, as in the header
    pick: Callable[[Sequence[str]], Row]
    check: Callable[[Row], Result]

    def read(self, fields: Sequence[str]) -> Result:
        """``fields`` without the empty one after the trailing ``|``."""
        if len(fields) != self.width:
            return REASON_COLUMNS
        return self.check(self.pick(fields))


def make_reader(kind: FileKind, width: int, indexes: tuple[int, ...]) -> Reader:
    specs = PERSONNE_ACTIVITE_COLUMNS if kind is FileKind.PERSONNE_ACTIVITE else MSSANTE_COLUMNS
    if len(indexes) != len(specs):
        raise ValueError("one index per column spec")
    check = _read_professional if kind is FileKind.PERSONNE_ACTIVITE else _read_mssante
    return Reader(kind, width, itemgetter(*indexes), check)


# Positions in PERSONNE_ACTIVITE_COLUMNS.
_ID_TYPE, _PP_ID, _NATIONAL, _PROFESSION, _SAVOIR_FAIRE, _STRUCTURE = 0, 1, 2, 6, 8, 12


def _read_professional(values: Row) -> Result:
    id_type, pp_id, national = values[_ID_TYPE], values[_PP_ID], values[_NATIONAL]
    if not national:
        return REASON_NO_NATIONAL_ID
    if id_type == "8":
        if len(pp_id) != 11 or not pp_id.isdigit():
            return REASON_RPPS
    elif id_type != "0":
        return REASON_ID_TYPE
    if national != id_type + pp_id:
        return REASON_NATIONAL_ID
    if not values[_PROFESSION]:
        return REASON_NO_PROFESSION
    return (national, values[_STRUCTURE], values[_PROFESSION], values[_SAVOIR_FAIRE]), values


# Positions in MSSANTE_COLUMNS.
_BAL_TYPE, _ADDRESS = 0, 1


def _read_mssante(values: Row) -> Result:
    address = values[_ADDRESS].strip().lower()
    local, at, domain = address.partition("@")
    if not (local and at and "." in domain) or "@" in domain or " " in address:
        return REASON_ADDRESS
    bal_type = values[_BAL_TYPE].strip().upper()
    if not bal_type:
        return REASON_BAL_TYPE
    return (address,), (bal_type, address, *values[2:])
