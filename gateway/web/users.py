"""Web accounts: create, change password, disable, authenticate. Shared by the UI and the CLI."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from sqlalchemy import delete
from sqlmodel import Session, col, func, select

from gateway.storage.models import utcnow
from gateway.storage.web_models import LoginAttempt, Role, WebSession, WebUser
from gateway.web.passwords import check_password, hash_password, needs_rehash

__all__ = [
    "LoginOutcome",
    "UserError",
    "add_user",
    "authenticate",
    "disable_user",
    "set_password",
]


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


def recent_failures(session: Session, column: str, value: str, window_seconds: int) -> int:
    since = utcnow() - timedelta(seconds=window_seconds)
    field = LoginAttempt.username if column == "username" else LoginAttempt.client
    stmt = select(func.count()).where(
        field == value, col(LoginAttempt.success).is_(False), LoginAttempt.at >= since
    )
    return int(session.exec(stmt).one())


def authenticate(
    session: Session,
    username: str,
    password: str,
    client: str,
    *,
    max_failures: int,
    window_seconds: int,
) -> tuple[LoginOutcome, WebUser | None]:
    """Check a login and record the attempt.

    Throttling counts failures per account (``max_failures``) and per client address (four
    times as many, so one person mistyping a colleague's name does not lock out an office).
    A throttled login is refused even with the right password, and still recorded.
    """
    username = username[:64]
    throttled = (
        recent_failures(session, "username", username, window_seconds) >= max_failures
        or recent_failures(session, "client", client, window_seconds) >= 4 * max_failures
    )
    user = session.exec(select(WebUser).where(WebUser.username == username)).first()
    valid = check_password(user.password_hash if user else None, password)
    ok = bool(valid and user is not None and user.active and not throttled)
    session.add(LoginAttempt(username=username, client=client[:64], success=ok))
    if throttled:
        return LoginOutcome.THROTTLED, None
    if not ok or user is None:
        return LoginOutcome.BAD, None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    session.add(user)
    return LoginOutcome.OK, user
