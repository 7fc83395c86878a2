"""The routing log's query: filters, search, keyset pagination newest first."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import Session, col, select

from gateway.storage.models import Case
from gateway.web.context import PARIS
from gateway.web.params import BadParameterError, date_param, ident

__all__ = ["Cursor", "LogFilter", "LogPage", "log_page", "walk_log"]

_REFERENCE = re.compile(r"^AIG-\d{4}-\d{6}$", re.IGNORECASE)
_INS = re.compile(r"^[0-9ABab]{13,15}$")
_RPPS = re.compile(r"^\d{11}$")


@dataclass(frozen=True)
class Cursor:
    """The last row shown: the next page starts strictly after it."""

    opened_at: datetime
    id: int

    def encode(self) -> str:
        return f"{self.opened_at.isoformat()}~{self.id}"

    @classmethod
    def decode(cls, value: str | None) -> Cursor | None:
        """None for the first page; a malformed cursor is a bad parameter, not page one."""
        if not value:
            return None
        at, _, number = value.rpartition("~")
        row = ident(number)
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            raise BadParameterError("after") from None
        # Naive or out-of-range times would fail in the database, not here.
        if row is None or when.tzinfo is None or not 1900 <= when.year <= 2999:
            raise BadParameterError("after")
        return cls(when, row)


@dataclass(frozen=True)
class LogFilter:
    programme: str = ""
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    doctor: str = ""
    q: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> LogFilter:
        return cls(
            programme=params.get("programme", "").strip(),
            status=params.get("status", "").strip(),
            date_from=date_param("from", params.get("from")),
            date_to=date_param("to", params.get("to")),
            doctor=params.get("doctor", "").strip(),
            q=params.get("q", "").strip(),
        )

    def params(self) -> dict[str, str]:
        out = {
            "programme": self.programme,
            "status": self.status,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "doctor": self.doctor,
            "q": self.q,
        }
        return {k: v for k, v in out.items() if v}

    def query(self, **extra: str) -> str:
        return urlencode({**self.params(), **extra})

    def conditions(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if self.programme:
            where.append(col(Case.programme) == self.programme)
        if self.status:
            where.append(col(Case.status) == self.status)
        if self.date_from:
            where.append(col(Case.opened_at) >= _day_start(self.date_from))
        if self.date_to:
            where.append(col(Case.opened_at) < _day_start(self.date_to + timedelta(days=1)))
        if self.doctor:
            if _RPPS.match(self.doctor):
                where.append(col(Case.doctor_rpps) == self.doctor)
            else:
                where.append(func.lower(col(Case.doctor_name)).contains(self.doctor.lower()))
        if self.q:
            where.append(_search(self.q))
        return where


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), PARIS)


def _search(q: str) -> ColumnElement[bool]:
    """Reference, INS and sender match exactly; a name matches by prefix (indexed)."""
    compact = q.replace(" ", "")
    if _REFERENCE.match(q):
        return col(Case.reference) == q.upper()
    if _INS.match(compact) and any(c.isdigit() for c in compact[:3]):
        return col(Case.patient_ins) == compact.upper()
    if "@" in q:
        return col(Case.sender) == q.lower()
    prefix = q.upper()
    # The pipeline stores family names upper-cased, so a binary range uses the index.
    return and_(
        col(Case.patient_family_name) >= prefix, col(Case.patient_family_name) < prefix + "\uffff"
    )


@dataclass(frozen=True)
class LogPage:
    rows: list[Case]
    next_cursor: Cursor | None


def _after(cursor: Cursor) -> ColumnElement[bool]:
    return or_(
        col(Case.opened_at) < cursor.opened_at,
        and_(col(Case.opened_at) == cursor.opened_at, col(Case.id) < cursor.id),
    )


def log_page(session: Session, flt: LogFilter, cursor: Cursor | None, limit: int = 50) -> LogPage:
    stmt = select(Case).where(*flt.conditions())
    if cursor is not None:
        stmt = stmt.where(_after(cursor))
    stmt = stmt.order_by(col(Case.opened_at).desc(), col(Case.id).desc()).limit(limit + 1)
    rows = list(session.exec(stmt).all())
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    nxt = Cursor(last.opened_at, last.id) if last is not None and last.id is not None else None
    return LogPage(rows, nxt)


def walk_log(session: Session, flt: LogFilter, batch: int = 1000) -> Iterator[Case]:
    """Every matching case, newest first, a page at a time (CSV export)."""
    cursor: Cursor | None = None
    while True:
        page = log_page(session, flt, cursor, batch)
        yield from page.rows
        if page.next_cursor is None:
            return
        cursor = page.next_cursor
