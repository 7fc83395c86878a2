"""Repository functions: the queries several stages share, one function each.

The case side's own queries live with it (``gateway.cases``); these are the stage
queues (store, claim, lease), references, events and the outbound queue.

All functions take a ``Session`` and leave the commit to the caller, so that a state change
and the reply it causes land in one transaction (the transactional outbox).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Engine,
    Executable,
    Integer,
    LargeBinary,
    Result,
    Table,
    bindparam,
    func,
    insert,
    or_,
    update,
)
from sqlalchemy import case as when
from sqlalchemy import inspect as inspect_row
from sqlalchemy import select as core_select  # sqlmodel's takes at most four columns
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import ColumnProperty, Mapper, make_transient, make_transient_to_detached
from sqlalchemy.sql.dml import ReturningInsert, Update
from sqlmodel import Session, SQLModel, col, select

from gateway.storage.db import READ_ONLY, is_postgres
from gateway.storage.events import CaseEventKind
from gateway.storage.models import (
    Case,
    CaseEvent,
    InboundMessage,
    InboundRaw,
    InboundStatus,
    MailboxCursor,
    NewOutbound,
    OutboundMessage,
    OutboundRaw,
    OutboundStatus,
    ReferenceCounter,
    utcnow,
)
from parsers.envelope import message_id_from_raw

__all__ = [
    "ClaimedInbound",
    "ClaimedOutbound",
    "IncomingRaw",
    "QueuedMail",
    "add_event",
    "add_events",
    "buffered_events",
    "claim_inbound",
    "claim_outbound",
    "claimed_inbound",
    "count_recent_replies",
    "find_case_by_reference",
    "find_case_for_thread",
    "inbound_raw",
    "increment",
    "insert_now",
    "next_reference",
    "outbound_raw",
    "queue_outbound",
    "queued_mails",
    "read",
    "reader",
    "release_own_leases",
    "store_inbound_batch",
    "write_changes",
]

PENDING_INBOUND = (InboundStatus.RECEIVED, InboundStatus.PARSED)


@dataclass(frozen=True)
class IncomingRaw:
    """One message as read from a source, before it is stored."""

    mailbox: str
    raw: bytes
    uidvalidity: int | None = None
    uid: int | None = None
    source_key: str | None = None


def _message_id(raw: bytes) -> str | None:
    # As written, not the parsed "<...>": the key the rows already stored carry.
    return message_id_from_raw(raw)


def _source_key(item: IncomingRaw) -> tuple[str, int | None, int | str] | None:
    if item.uid is not None:
        return (item.mailbox, item.uidvalidity, item.uid)
    if item.source_key is not None:
        return (item.mailbox, None, item.source_key)
    return None


def _stored_sources(
    session: Session, items: Sequence[IncomingRaw]
) -> set[tuple[str, int | None, int | str]]:
    """Which of these sources are already stored: one query per mailbox, not one per item."""
    found: set[tuple[str, int | None, int | str]] = set()
    by_box: dict[tuple[str, int | None], list[IncomingRaw]] = {}
    for item in items:
        by_box.setdefault((item.mailbox, item.uidvalidity), []).append(item)
    connection = session.connection()
    for (mailbox, uidvalidity), group in by_box.items():
        uids = [i.uid for i in group if i.uid is not None]
        keys = [i.source_key for i in group if i.uid is None and i.source_key is not None]
        if uids:
            # "= NULL" is never true: UIDs without a UIDVALIDITY are compared with IS NULL.
            statement = _STORED_UIDS if uidvalidity is not None else _STORED_UIDS_NO_VALIDITY
            params = {"mailbox": mailbox, "uidvalidity": uidvalidity, "uids": uids}
            found.update(
                (mailbox, uidvalidity, uid)
                for uid in connection.execute(statement, params).scalars()
                if uid is not None
            )
        if keys:
            params_k = {"mailbox": mailbox, "keys": keys}
            found.update(
                (mailbox, None, key)
                for key in connection.execute(_STORED_KEYS, params_k).scalars()
                if key is not None
            )
    return found


_M = InboundMessage


def _stored_uids(validity: ColumnElement[bool]) -> Any:
    return core_select(col(_M.uid)).where(
        col(_M.mailbox) == bindparam("mailbox"),
        validity,
        col(_M.uid).in_(bindparam("uids", expanding=True)),
    )


_STORED_UIDS = _stored_uids(col(_M.uidvalidity) == bindparam("uidvalidity"))
_STORED_UIDS_NO_VALIDITY = _stored_uids(col(_M.uidvalidity).is_(None))
_STORED_KEYS = core_select(col(_M.source_key)).where(
    col(_M.mailbox) == bindparam("mailbox"),
    col(_M.source_key).in_(bindparam("keys", expanding=True)),
)
_EARLIER_COPIES = (
    core_select(col(_M.id), col(_M.message_id), col(_M.content_sha256))
    .where(col(_M.message_id).in_(bindparam("ids", expanding=True)))
    .order_by(col(_M.id))
)


def store_inbound_batch(session: Session, items: Sequence[IncomingRaw]) -> list[int]:
    """Store raw messages; returns ids of rows created. Already-stored sources are skipped,
    and a copy of a message already stored (same Message-ID and content) is kept as a
    duplicate that is never processed."""
    stored = _stored_sources(session, items)
    fresh: list[tuple[IncomingRaw, str, str | None]] = []
    for item in items:
        key = _source_key(item)
        if key is not None:
            if key in stored:
                continue
            stored.add(key)
        fresh.append((item, hashlib.sha256(item.raw).hexdigest(), _message_id(item.raw)))
    ids = [m for _, _, m in fresh if m is not None]
    earlier: dict[tuple[str, str], int] = {}
    if ids:
        stored_copies = session.connection().execute(_EARLIER_COPIES, {"ids": ids})
        for row_id, message_id, digest in stored_copies:
            if row_id is not None and message_id is not None:
                earlier.setdefault((message_id, digest), row_id)
    rows: list[_NewInbound] = []
    copies: list[tuple[_NewInbound, _NewInbound]] = []  # (copy, first) within the batch
    first_in_batch: dict[tuple[str, str], _NewInbound] = {}
    now = utcnow()
    for item, digest, message_id in fresh:
        status, error = InboundStatus.RECEIVED, None
        first: _NewInbound | None = None
        if message_id is not None:
            if (message_id, digest) in earlier:
                found = earlier[(message_id, digest)]
                status, error = InboundStatus.DUPLICATE, f"duplicate of inbound {found}"
            elif (first := first_in_batch.get((message_id, digest))) is not None:
                status = InboundStatus.DUPLICATE
        row = _NewInbound(item, message_id, digest, status, error, now)
        rows.append(row)
        if first is not None:
            copies.append((row, first))
        elif message_id is not None and status == InboundStatus.RECEIVED:
            first_in_batch[(message_id, digest)] = row
    _insert_new(session, rows)
    for copy, first in copies:
        if copy.id is not None and first.id is not None:
            session.execute(
                update(InboundMessage)
                .where(col(InboundMessage.id) == copy.id)
                .values(error=f"duplicate of inbound {first.id}")
            )
    return [r.id for r in rows if r.id is not None and r.status == InboundStatus.RECEIVED]


@dataclass(slots=True)
class _NewInbound:
    """A message about to be stored, and its id once inserted. Plain data, not a table
    model: building an ``InboundMessage`` and dumping it back cost 73 µs a message."""

    item: IncomingRaw
    message_id: str | None
    digest: str
    status: InboundStatus
    error: str | None
    at: datetime
    id: int | None = None

    @property
    def key(self) -> tuple[str, int | None, int | None, str | None]:
        return (self.item.mailbox, self.item.uidvalidity, self.item.uid, self.item.source_key)

    def params(self) -> dict[str, Any]:
        """Every column but ``id``: one INSERT shape, so one compiled statement."""
        return {
            "mailbox": self.item.mailbox,
            "uidvalidity": self.item.uidvalidity,
            "uid": self.item.uid,
            "source_key": self.item.source_key,
            "message_id": self.message_id,
            "content_sha256": self.digest,
            "size": len(self.item.raw),
            "status": self.status.value,
            "attempts": 0,
            "error": self.error,
            "next_attempt_at": self.at,
            "lease_until": None,
            "lease_owner": None,
            "parsed_json": None,
            "case_id": None,
            "received_at": self.at,
            "updated_at": self.at,
        }


_Built = TypeVar("_Built")


def _per_database(build: Callable[[Any], _Built]) -> dict[bool, _Built]:
    """A statement built once with each database's INSERT (for its ON CONFLICT), keyed as
    ``_postgres`` answers."""
    return {True: build(pg_insert), False: build(sqlite_insert)}


_INBOUND_KEY = (
    col(InboundMessage.id),
    col(InboundMessage.mailbox),
    col(InboundMessage.uidvalidity),
    col(InboundMessage.uid),
    col(InboundMessage.source_key),
)
# Keyed rows: two readers of one mailbox (a lease changing hands) may commit the same UID
# at once, and the second one's row is skipped instead of failing its whole batch.
_INSERT_INBOUND_KEYED = _per_database(
    lambda insert_into: (
        insert_into(InboundMessage).on_conflict_do_nothing().returning(*_INBOUND_KEY)
    )
)
_INSERT_INBOUND = insert(InboundMessage).returning(col(InboundMessage.id))
_INSERT_INBOUND_RAW = insert(InboundRaw)
_INSERT_OUTBOUND_RAW = insert(OutboundRaw)


def _insert_new(session: Session, rows: Sequence[_NewInbound]) -> None:
    """INSERT the rows, keyed ones with ON CONFLICT DO NOTHING; sets ``id`` on those
    really inserted."""
    # On the connection: through the session, the ORM's bulk insert worked out each row's
    # primary key again from what RETURNING already gives.
    connection = session.connection()
    keyed = [r for r in rows if r.item.uid is not None or r.item.source_key is not None]
    if keyed:
        by_key = {r.key: r for r in keyed}
        statement = _INSERT_INBOUND_KEYED[_postgres(session)]
        batch = [r.params() for r in keyed]
        for row_id, mailbox, uidvalidity, uid, source_key in connection.execute(statement, batch):
            by_key[(mailbox, uidvalidity, uid, source_key)].id = row_id
    for row in rows:  # no source key, so no conflict: one by one, to learn each id
        if row.item.uid is None and row.item.source_key is None:
            row.id = connection.execute(_INSERT_INBOUND, row.params()).scalar_one()
    raws = [{"inbound_id": r.id, "raw": r.item.raw} for r in rows if r.id is not None]
    if raws:
        connection.execute(_INSERT_INBOUND_RAW, raws)


def update_cursor(
    session: Session,
    mailbox: str,
    *,
    uidvalidity: int | None = None,
    last_uid: int | None = None,
    connected: bool | None = None,
    synced: bool = False,
    error: str | None = None,
    reconnected: bool = False,
) -> None:
    if (
        synced
        and connected is None
        and error is None
        and not reconnected
        and session.identity_map.get(session.identity_key(MailboxCursor, mailbox)) is None
    ):
        # A sync, after each stored batch: one UPDATE, not a read and a flush of the row.
        params = {"box": mailbox, "validity": uidvalidity, "uid": last_uid, "at": utcnow()}
        if session.connection().execute(_CURSOR_SYNCED, params).rowcount == 1:
            return
    cursor = session.get(MailboxCursor, mailbox)
    if cursor is None:
        cursor = MailboxCursor(mailbox=mailbox)
        session.add(cursor)
    if uidvalidity is not None:
        cursor.uidvalidity = uidvalidity
    if last_uid is not None:
        cursor.last_uid = max(cursor.last_uid, last_uid)
    if connected is not None:
        cursor.connected = connected
    if synced:
        cursor.last_sync_at = utcnow()
        cursor.last_error = None
    if error is not None:
        cursor.last_error = error[:2000]
    if reconnected:
        cursor.reconnects += 1


_C = MailboxCursor.__table__.c  # type: ignore[attr-defined]
_CURSOR_SYNCED = (
    update(MailboxCursor)
    .where(col(MailboxCursor.mailbox) == bindparam("box"))
    .values(
        uidvalidity=func.coalesce(bindparam("validity", type_=BigInteger()), _C.uidvalidity),
        last_uid=when(
            (bindparam("uid", type_=BigInteger()) > _C.last_uid, bindparam("uid")),
            else_=_C.last_uid,
        ),
        last_sync_at=bindparam("at"),
        last_error=None,
    )
)


def _postgres(session: Session) -> bool:
    return is_postgres(session.get_bind())


def _due_ids(model: type[InboundMessage] | type[OutboundMessage], statuses: Sequence[str]) -> Any:
    """The ids of rows in one of ``statuses``, due at ``:now``, whose lease is free (or has
    run out), oldest first, at most ``:limit``: built once per database (a claim runs at
    every wake-up, and building it cost more than running it)."""
    now: BindParameter[Any] = bindparam("now")  # typed by the columns it is compared with
    ids = (
        core_select(col(model.id))
        .where(
            col(model.status).in_(statuses),
            col(model.next_attempt_at) <= now,
            or_(col(model.lease_until).is_(None), col(model.lease_until) < now),
        )
        .order_by(col(model.id))
        .limit(bindparam("limit", type_=Integer()))
    )
    # PostgreSQL: concurrent instances skip each other's rows.
    return {False: ids, True: ids.with_for_update(skip_locked=True)}


def _lease(model: type[InboundMessage] | type[OutboundMessage]) -> Update:
    return (
        update(model)
        .where(col(model.id).in_(bindparam("ids", expanding=True)))
        .values(lease_until=bindparam("until"), lease_owner=bindparam("owner"))
    )


_DUE_INBOUND = _due_ids(InboundMessage, PENDING_INBOUND)
_DUE_OUTBOUND = _due_ids(OutboundMessage, (OutboundStatus.PENDING,))
_LEASE_INBOUND = _lease(InboundMessage)
_LEASE_OUTBOUND = _lease(OutboundMessage)


def _due_now(session: Session, due: dict[bool, Any], *, limit: int, now: datetime) -> list[int]:
    found = session.connection().execute(due[_postgres(session)], {"now": now, "limit": limit})
    return [i for i in found.scalars() if i is not None]


def _claim_ids(
    session: Session,
    due: dict[bool, Any],
    leased: Update,
    *,
    owner: str,
    limit: int,
    lease: timedelta,
    now: datetime,
) -> list[int]:
    ids = _due_now(session, due, limit=limit, now=now)
    if ids:
        params = {"ids": ids, "until": now + lease, "owner": owner}
        session.connection().execute(leased, params)
    return ids


def claim_inbound(
    session: Session, *, owner: str, limit: int, lease: timedelta, now: datetime | None = None
) -> list[int]:
    """Lease up to ``limit`` due messages. On PostgreSQL, concurrent instances skip each other."""
    return _claim_ids(
        session,
        _DUE_INBOUND,
        _LEASE_INBOUND,
        owner=owner,
        limit=limit,
        lease=lease,
        now=now or utcnow(),
    )


@dataclass(frozen=True, slots=True)
class ClaimedInbound:
    """What the pipeline's first stage reads of a claimed message, read with the claim."""

    id: int
    mailbox: str
    status: str
    size: int
    parsed_json: str | None
    raw: bytes | None  # None: larger than the claim reads at once (load it on its own)


def claimed_inbound(
    session: Session, ids: Sequence[int], *, raw_up_to: int
) -> list[ClaimedInbound]:
    """The claimed messages, in ``ids`` order, each with its bytes when they are at most
    ``raw_up_to`` long: one query for a claim instead of one per message, while a claim of
    large messages still holds one at a time in memory."""
    if not ids:
        return []
    params = {"ids": list(ids), "raw_up_to": raw_up_to}
    found = {row[0]: ClaimedInbound(*row) for row in session.connection().execute(_CLAIMED, params)}
    return [found[i] for i in ids if i in found]


def _claimed() -> Any:
    m = InboundMessage
    small = when(
        (col(m.size) <= bindparam("raw_up_to", type_=Integer()), col(InboundRaw.raw)), else_=None
    )
    return (
        core_select(
            col(m.id), col(m.mailbox), col(m.status), col(m.size), col(m.parsed_json), small
        )
        .join_from(m, InboundRaw, col(InboundRaw.inbound_id) == col(m.id))
        .where(col(m.id).in_(bindparam("ids", expanding=True)))
    )


_CLAIMED = _claimed()


def inbound_raw(session: Session, inbound_id: int) -> bytes | None:
    """A received mail's bytes (``b""`` once retention emptied them); None: no such mail."""
    return read(session, _INBOUND_RAW, {"key": inbound_id}).scalar_one_or_none()


def outbound_raw(session: Session, outbound_id: int) -> bytes | None:
    """A queued mail's bytes, as ``inbound_raw``."""
    return read(session, _OUTBOUND_RAW, {"key": outbound_id}).scalar_one_or_none()


_INBOUND_RAW = core_select(col(InboundRaw.raw)).where(
    col(InboundRaw.inbound_id) == bindparam("key")
)
_OUTBOUND_RAW = core_select(col(OutboundRaw.raw)).where(
    col(OutboundRaw.outbound_id) == bindparam("key")
)


@dataclass(frozen=True, slots=True)
class QueuedMail:
    """What the outbox reads of a queued mail to send it and record it. Plain data, read as
    columns: not a table model built per mail and handed between threads."""

    id: int
    case_id: int | None
    kind: str
    recipient: str
    message_id: str


@dataclass(frozen=True, slots=True)
class ClaimedOutbound(QueuedMail):
    """A claimed mail, with the bytes to send."""

    raw: bytes


_OUTBOUND_COLUMNS: Any = OutboundMessage.__table__.c  # type: ignore[attr-defined]
_QUEUED_MAIL = tuple(_OUTBOUND_COLUMNS[f.name] for f in fields(QueuedMail))
_CLAIMED_MAIL: tuple[Any, ...] = (*_QUEUED_MAIL, OutboundRaw.__table__.c.raw)  # type: ignore[attr-defined]


def queued_mails(session: Session, ids: Sequence[int], status: OutboundStatus) -> list[QueuedMail]:
    """The mails ``ids`` still in ``status``, by id."""
    return [
        QueuedMail(*row)
        for row in session.connection().execute(
            core_select(*_QUEUED_MAIL)
            .where(col(OutboundMessage.id).in_(ids), col(OutboundMessage.status) == status)
            .order_by(col(OutboundMessage.id))
        )
    ]


def claim_outbound(
    session: Session, *, owner: str, limit: int, lease: timedelta, now: datetime | None = None
) -> list[ClaimedOutbound]:
    """Lease up to ``limit`` due replies, as ``claim_inbound`` does."""
    now = now or utcnow()
    connection = session.connection()
    # The ids first, from the index alone (``ix_outbound_due``); then only the rows claimed.
    # Read in one query with the rows, the filter would read each skipped mail's bytes.
    ids = _due_now(session, _DUE_OUTBOUND, limit=limit, now=now)
    if not ids:
        return []
    claimed = [ClaimedOutbound(*row) for row in connection.execute(_CLAIMED_MAILS, {"ids": ids})]
    if claimed:  # one UPDATE for the claim
        params = {"ids": [c.id for c in claimed], "until": now + lease, "owner": owner}
        connection.execute(_LEASE_OUTBOUND, params)
    return claimed


_CLAIMED_MAILS = (
    core_select(*_CLAIMED_MAIL)
    .join_from(
        OutboundMessage, OutboundRaw, col(OutboundRaw.outbound_id) == col(OutboundMessage.id)
    )
    .where(col(OutboundMessage.id).in_(bindparam("ids", expanding=True)))
    .order_by(col(OutboundMessage.id))
)


def release_own_leases(session: Session, owner: str) -> None:
    """After a restart, take back at once what this instance held when it died."""
    for model in (InboundMessage, OutboundMessage):
        session.execute(
            update(model).where(col(model.lease_owner) == owner).values(lease_until=None)
        )


def insert_now(session: Session, row: SQLModel) -> int:
    """Write the new ``row`` at once on the session's connection, then keep it in the session
    as if it had been read: later changes to it are written at the next flush, as for any row.
    Its id. (A flush of the whole session, for an id, cost more than the row itself.)"""
    table: Table = type(row).__table__  # type: ignore[attr-defined]
    values = {c.key: getattr(row, c.key) for c in table.columns if c.key != "id"}
    new_id = session.connection().execute(_insert_returning_id(table), values).scalar_one()
    row.id = new_id
    make_transient_to_detached(row)
    # The database just handed out this id, so a row the session still holds under it is one
    # whose savepoint rolled back (SQLite gives such ids out again): forget it.
    stale = session.identity_map.get(session.identity_key(type(row), new_id))
    if stale is not None:
        session.expunge(stale)
    session.add(row)
    return int(new_id)


def read(
    session: Session, statement: Executable, params: Mapping[str, Any]
) -> Result[*tuple[Any, ...]]:
    """Run ``statement``, built once with bind parameters, on the session's connection.

    What the session holds is flushed first, as autoflush would before a query; the ORM's own
    work per query (building the statement, its cache key, the ORM context), about 70 to
    160 µs a statement on SQLite against 20 µs for the read itself, is skipped. For reads of
    columns, not of table models."""
    write_changes(session)  # nothing to do, and cheap, when nothing is pending
    return session.connection().execute(statement, params)


def write_changes(session: Session) -> None:
    """Write what the session holds, as a flush would: each changed row in one UPDATE of its
    changed columns on the session's connection, then anything else through the flush.

    The unit of work's flush of the two or three rows a message changes (its status, its
    case's) cost about 0.7 ms on SQLite, most of it the ORM's bookkeeping, not the UPDATEs.
    A row written here is clean afterwards; if the caller's savepoint then rolls back, the
    caller expires the session (the ORM does not know these rows changed)."""
    batches: dict[Update, list[dict[str, Any]]] = {}
    for row in list(session.dirty):
        state = inspect_row(row)
        dict_, was = state.dict, state.committed_state
        keys = tuple(sorted(was))
        if not keys or any(k not in dict_ for k in keys):
            continue  # left to the flush
        changed = tuple(k for k in keys if dict_[k] is not was[k] and dict_[k] != was[k])
        if changed:
            statement = _update_of(state.mapper, changed)
            if statement is None:
                continue  # a key, or something not a plain column: left to the flush
            params = {f"v_{k}": dict_[k] for k in changed}
            params["k_id"] = dict_.get("id")
            batches.setdefault(statement, []).append(params)
        # Held as if just read: no history left, so the flush has nothing to compare.
        session.expunge(row)
        make_transient(row)
        make_transient_to_detached(row)
        session.add(row)
    if batches:
        connection = session.connection()
        for statement, rows in batches.items():  # rows alike share one statement (executemany)
            result = connection.execute(statement, rows)
            sane = len(rows) == 1 or connection.dialect.supports_sane_multi_rowcount
            if sane and result.rowcount != len(rows):  # stale, as the flush would say
                ids = [r["k_id"] for r in rows]
                raise LookupError(f"{statement.table} rows {ids} were not updated")
    session.flush()  # rows added or deleted: nothing to do, and cheap, when none are


@cache
def _update_of(mapper: Mapper[Any], keys: tuple[str, ...]) -> Update | None:
    """The UPDATE of these attributes of one row by its id, or None when one of them is not a
    plain column of the row's table (left to the flush)."""
    table = mapper.local_table
    if not isinstance(table, Table) or "id" in keys or "id" not in table.c:
        return None
    values: dict[str, Any] = {}
    for key in keys:
        prop = mapper.attrs.get(key)
        if not isinstance(prop, ColumnProperty) or len(prop.columns) != 1:
            return None
        column = prop.columns[0]
        if column.table is not table:
            return None
        values[column.key] = bindparam(f"v_{key}", type_=column.type)
    return update(table).where(table.c.id == bindparam("k_id")).values(values)


@cache
def _insert_returning_id(table: Table) -> ReturningInsert[Any]:
    return insert(table).returning(table.c.id)


@cache
def _increment(postgres: bool, table: Table, key: str, value: str) -> ReturningInsert[Any]:
    insert_into = pg_insert if postgres else sqlite_insert
    return (
        insert_into(table)
        .values({key: bindparam("key"), value: 1})
        .on_conflict_do_update(index_elements=[key], set_={value: table.c[value] + 1})
        .returning(table.c[value])
    )


def increment(session: Session, model: type[SQLModel], key: str, at: object, value: str) -> int:
    """Add one to the counter row ``key = at`` (created at 1) in one statement: no increment
    is lost whoever else writes, and the row stays locked until commit. The new value."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    statement = _increment(_postgres(session), table, key, value)
    # On the session's connection, not through the session: a counter depends on no pending
    # object, and an autoflush here would write a case's changes twice (now and at the end).
    return int(session.connection().execute(statement, {"key": at}).scalar_one())


def next_reference(session: Session, year: int) -> str:
    """The year's next case reference (replicas never hand out the same number; a
    rolled-back case gives its number back)."""
    last = increment(session, ReferenceCounter, "year", year, "last")
    return f"AIG-{year:04d}-{last:06d}"


def add_event(
    session: Session,
    case_id: int,
    kind: CaseEventKind | str,
    detail: dict[str, Any] | None = None,
    *,
    actor: str = "aiguilleur",
) -> None:
    """Append one event; ``kind`` is a ``CaseEventKind`` (or its value)."""
    add_events(session, [(case_id, kind, detail)], actor=actor)


def add_events(
    session: Session,
    events: Sequence[tuple[int, CaseEventKind | str, dict[str, Any] | None]],
    *,
    actor: str = "aiguilleur",
) -> None:
    """Append to case timelines, written at once, or at the end of a ``buffered_events``
    block: an event is never read back as an object, so it skips the ORM's unit of work
    (a case's request writes about ten of them)."""
    if not events:
        return
    at = utcnow()
    rows = [
        {
            "case_id": case_id,
            "at": at,
            "kind": str(kind),
            "actor": actor,
            "detail_json": json.dumps(detail or {}, ensure_ascii=False, default=str),
        }
        for case_id, kind, detail in events
    ]
    buffer: list[dict[str, Any]] | None = session.info.get(_EVENT_BUFFER)
    if buffer is not None:
        buffer.extend(rows)
        return
    # The case rows already exist: an id is only known once its row was flushed.
    session.connection().execute(_INSERT_EVENT, rows)


@contextmanager
def buffered_events(session: Session) -> Iterator[None]:
    """Hold the events appended inside the block and write them in one statement when it
    ends without an exception; with one, they are dropped along with the caller's savepoint.

    The pipeline wraps each message in it: ~9 events, one INSERT instead of nine. Nothing
    may read events back inside the block (nothing on the decide path does)."""
    outer = session.info.get(_EVENT_BUFFER)
    pending: list[dict[str, Any]] = []
    session.info[_EVENT_BUFFER] = pending
    try:
        yield
    finally:
        if outer is None:
            del session.info[_EVENT_BUFFER]
        else:
            session.info[_EVENT_BUFFER] = outer
    if not pending:
        return
    if outer is not None:
        outer.extend(pending)  # the enclosing block writes them
    else:
        session.connection().execute(_INSERT_EVENT, pending)


def queue_outbound(session: Session, message: NewOutbound) -> bool:
    """Queue a reply unless one with the same cause is already queued. Returns True if queued.

    One INSERT that the unique cause key turns into nothing when the mail is already queued:
    no look-up first, and the row never enters the session's unit of work."""
    values = dict(_OUTBOUND_DEFAULTS)
    for name in _NEW_OUTBOUND_FIELDS:
        values[name] = getattr(message, name)
    connection = session.connection()
    # rowcount is not reliable here on every driver: RETURNING says whether it was queued.
    if _postgres(session):
        values["raw"] = message.raw
        return connection.execute(_QUEUE_OUTBOUND_WITH_BYTES, values).first() is not None
    queued = connection.execute(_QUEUE_OUTBOUND, values).scalar()
    if queued is None:
        return False
    connection.execute(_INSERT_OUTBOUND_RAW, {"outbound_id": queued, "raw": message.raw})
    return True


def count_recent_replies(session: Session, recipient: str, since: datetime) -> int:
    params = {"recipient": recipient, "since": since}
    return int(read(session, _RECENT_REPLIES, params).scalar_one())


_RECENT_REPLIES = select(func.count()).where(
    col(OutboundMessage.recipient) == bindparam("recipient"),
    col(OutboundMessage.created_at) >= bindparam("since"),
    # Offers and MDNs are not replies to a request (MDNs have a limit of their own).
    col(OutboundMessage.kind).not_in(("offer", "mdn")),
)


def find_case_by_reference(session: Session, reference: str) -> Case | None:
    return session.exec(select(Case).where(Case.reference == reference)).first()


def find_case_for_thread(session: Session, message_ids: Sequence[str]) -> Case | None:
    """The case a reply belongs to, found from its In-Reply-To/References ids."""
    if not message_ids:
        return None
    out = session.exec(
        select(OutboundMessage.case_id).where(col(OutboundMessage.message_id).in_(message_ids))
    ).first()
    if out is not None:
        return session.get(Case, out)
    return session.exec(select(Case).where(col(Case.root_message_id).in_(message_ids))).first()


def lock_case(session: Session, case: Case) -> Case:
    """Take the case's row lock (PostgreSQL) so two answers to one case apply one at a time.

    SQLite needs nothing more: its transactions begin IMMEDIATE, so they are serialised.
    """
    locked = session.exec(
        select(Case)
        .where(col(Case.id) == case.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return locked


# Built once: building a statement costs more than running it from the compiled cache.
_INSERT_EVENT = insert(CaseEvent)
_EVENT_BUFFER = "aiguilleur.event_buffer"  # key in Session.info
_NEW_OUTBOUND_FIELDS = tuple(f.name for f in fields(NewOutbound) if f.name != "raw")
# Every other column at its default, named: one INSERT shape, so one compiled statement.
_OUTBOUND_DEFAULTS: dict[str, Any] = {
    "status": OutboundStatus.PENDING.value,
    "attempts": 0,
    "lease_until": None,
    "lease_owner": None,
    "last_error": None,
    "sent_at": None,
    "bounced_at": None,
    "dsn_status": None,
    "dsn_diagnostic": None,
}
_QUEUE_OUTBOUND = (
    sqlite_insert(OutboundMessage)
    .on_conflict_do_nothing(index_elements=["cause_key"])
    .returning(col(OutboundMessage.id))
)


def _queue_outbound_with_bytes() -> ReturningInsert[tuple[int]]:
    """PostgreSQL: the row and its bytes in one statement (a data-modifying WITH), so one
    round trip a mail as before the bytes had a table of their own."""
    columns = [c for c in OutboundMessage.__table__.c if c.name != "id"]  # type: ignore[attr-defined]
    queued = (
        pg_insert(OutboundMessage)
        .values({c.name: bindparam(c.name, type_=c.type) for c in columns})
        .on_conflict_do_nothing(index_elements=["cause_key"])
        .returning(col(OutboundMessage.id))
        .cte("queued")
    )
    raw = bindparam("raw", type_=LargeBinary())
    return (
        insert(OutboundRaw)
        .from_select(["outbound_id", "raw"], core_select(queued.c.id, raw))
        .add_cte(queued)
        .returning(col(OutboundRaw.outbound_id))
    )


_QUEUE_OUTBOUND_WITH_BYTES = _queue_outbound_with_bytes()


def session_for(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)


def reader(engine: Engine) -> Engine:
    """The same engine for sessions that only read: on SQLite they take no write lock, so they
    run beside a writer (WAL) instead of queueing behind it."""
    return engine.execution_options(**{READ_ONLY: True})
