"""Web accounts: create, change password, disable, authenticate. Shared by the UI and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import structlog
from sqlalchemy import delete
from sqlmodel import Session, col, func, select

from gateway.storage.models import utcnow
from gateway.storage.web_models import LoginAttempt, Role, WebSession, WebUser
from gateway.web.passwords import check_password, hash_password, needs_rehash

__all__ = [
    "LoginOutcome",
    "Throttle",
    "UserError",
    "account_delay",
    "add_user",
    "authenticate",
    "disable_user",
    "login_wait",
    "set_password",
]

log = structlog.get_logger("aiguilleur.web")


class UserError(ValueError):
    """A user command cannot be done; the message says why, in English."""


class LoginOutcome(StrEnum):
    OK = "ok"
    BAD = "bad"  # unknown user, wrong password or disabled: one answer for all three
    THROTTLED = "throttled"


def _get(session: Session, username: str) -> WebUser:
    user = session.exec(select(WebUser).where(WebUser.username == username)).first()
    if user is None:
        raise UserError(f"no such user: {username}")
    return user


def add_user(
    session: Session, username: str, password: str, role: Role, display_name: str = ""
) -> WebUser:
    if not username or len(username) > 64 or not username.isprintable() or " " in username:
        raise UserError("user names are 1 to 64 printable characters without spaces")
    if session.exec(select(WebUser.id).where(WebUser.username == username)).first() is not None:
        raise UserError(f"user already exists: {username}")
    try:
        digest = hash_password(password)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    user = WebUser(username=username, display_name=display_name, password_hash=digest, role=role)
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, username: str, password: str) -> WebUser:
    user = _get(session, username)
    try:
        user.password_hash = hash_password(password)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    user.password_changed_at = utcnow()
    end_sessions(session, user)
    session.add(user)
    return user


def disable_user(session: Session, username: str) -> WebUser:
    user = _get(session, username)
    user.active = False
    end_sessions(session, user)
    session.add(user)
    return user


def end_sessions(session: Session, user: WebUser) -> None:
    session.execute(delete(WebSession).where(col(WebSession.user_id) == user.id))


@dataclass(frozen=True)
class Throttle:
    """Login throttling that a stranger cannot turn into a lock-out.

    Refusals are by (account, address) pair and by address, never by account alone: failures
    from an attacker's address never stop the right password from another address. Past
    ``max_failures`` failures of a pair (or four times as many from one address, for any
    account), each further try must wait twice as long as the one before (4 s, 8 s, 16 s…,
    at most the window) after the last failure. A refused try is not a failure: it is not
    recorded, and its password is not even checked. The account itself gets a delay only:
    ``account_delay`` seconds, doubling with its failures from every address, capped at
    ``MAX_ACCOUNT_DELAY``, slow down a guesser without ever refusing the right password.
    """

    max_failures: int
    window_seconds: int

    @property
    def address_max_failures(self) -> int:
        return 4 * self.max_failures

    def backoff(self, failures: int, limit: int) -> float:
        return float(min(self.window_seconds, 2 ** (failures - limit + 2)))


MAX_ACCOUNT_DELAY = 4.0


def _failures(session: Session, since: datetime, *where: Any) -> tuple[int, datetime | None]:
    stmt = select(func.count(), func.max(LoginAttempt.at)).where(
        col(LoginAttempt.success).is_(False), col(LoginAttempt.at) >= since, *where
    )
    count, last = session.exec(stmt).one()
    return int(count), _aware(last)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite gives back naive UTC.
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def login_wait(session: Session, username: str, client: str, throttle: Throttle) -> float:
    """Seconds before this address may try this account again; 0 when it may now."""
    now = utcnow()
    since = now - timedelta(seconds=throttle.window_seconds)
    # A success from the pair clears its failures: a user's old typos do not pile up.
    last_ok = _aware(
        session.exec(
            select(func.max(LoginAttempt.at)).where(
                LoginAttempt.username == username,
                LoginAttempt.client == client,
                col(LoginAttempt.success).is_(True),
            )
        ).one()
    )
    pair_since = max(since, last_ok) if last_ok is not None else since
    wait = 0.0
    for (count, last), limit in (
        (
            _failures(
                session,
                pair_since,
                LoginAttempt.username == username,
                LoginAttempt.client == client,
            ),
            throttle.max_failures,
        ),
        (_failures(session, since, LoginAttempt.client == client), throttle.address_max_failures),
    ):
        if count >= limit and last is not None:
            until = last + timedelta(seconds=throttle.backoff(count, limit))
            wait = max(wait, (until - now).total_seconds())
    return wait


def account_delay(session: Session, username: str, throttle: Throttle) -> float:
    """How long to hold a try on this account before answering (from any address)."""
    since = utcnow() - timedelta(seconds=throttle.window_seconds)
    count, _ = _failures(session, since, LoginAttempt.username == username)
    if count < throttle.max_failures:
        return 0.0
    return min(MAX_ACCOUNT_DELAY, 0.25 * 2.0 ** (count - throttle.max_failures))


def authenticate(
    session: Session, username: str, password: str, client: str, throttle: Throttle
) -> tuple[LoginOutcome, WebUser | None]:
    """Check a login and record the attempt (see ``Throttle``; refused tries are not recorded)."""
    username, client = username[:64], client[:64]
    wait = login_wait(session, username, client, throttle)
    if wait > 0:
        log.warning("login_throttled", username=username, client=client, wait_seconds=wait)
        return LoginOutcome.THROTTLED, None
    user = session.exec(select(WebUser).where(WebUser.username == username)).first()
    valid = check_password(user.password_hash if user else None, password)
    ok = bool(valid and user is not None and user.active)
    session.add(LoginAttempt(username=username, client=client, success=ok))
    if not ok or user is None:
        log.info("login_failed", username=username, client=client)
        return LoginOutcome.BAD, None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    session.add(user)
    return LoginOutcome.OK, user
