"""Queue a composed mail in the outbox, inside the caller's transaction, exactly once.

The cause key names what caused the mail (an inbound message, an offer, a timer);
it is unique in the outbox, so replaying a transaction after a crash queues nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlmodel import Session

from gateway.config import Config
from gateway.errors import GatewayError
from gateway.replies.compose import ComposedReply, OutboundAttachment, ReplyRenderer
from gateway.replies.facts import ReplyFacts
from gateway.storage import repo
from gateway.storage.models import Case, NewOutbound, OutboundMessage, OutboundStatus, utcnow

__all__ = ["NO_THREAD", "Mailer", "NotFailedError", "Thread", "resend"]

log = structlog.get_logger("aiguilleur.mailer")


@dataclass(frozen=True)
class Thread:
    """Where a mail sits in a conversation."""

    subject: str = ""  # the subject being answered, if any
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()


NO_THREAD = Thread()


class Mailer:
    def __init__(
        self, session: Session, renderer: ReplyRenderer, config: Config, now: datetime
    ) -> None:
        self.session = session
        self._renderer = renderer
        self._config = config
        self.now = now

    @property
    def config(self) -> Config:
        return self._config

    @property
    def renderer(self) -> ReplyRenderer:
        return self._renderer

    def reply_to_for(self, mailbox: str | None) -> str | None:
        """The watched address of a case's mailbox: answers must come back there."""
        found = next((m for m in self._config.mailboxes if m.name == mailbox), None)
        return found.address if found else None

    def send(
        self,
        facts: ReplyFacts,
        *,
        to: str,
        cause_key: str,
        case: Case | None,
        thread: Thread = NO_THREAD,
        inbound_id: int | None = None,
        attachments: Sequence[OutboundAttachment] = (),
        rate_limited: bool = True,
    ) -> bool:
        """Queue the mail; False when it was already queued or the sender's rate limit hit."""
        limit = self._config.replies.rate_limit_per_hour
        if (
            rate_limited
            and limit
            and repo.count_recent_replies(self.session, to, self.now - timedelta(hours=1)) >= limit
        ):
            if case is not None and case.id is not None:
                repo.add_event(self.session, case.id, "reply_suppressed", {"reason": "rate limit"})
            log.warning("reply_rate_limited", kind=facts.kind.value, inbound_id=inbound_id)
            return False
        composed = self._renderer.compose(
            facts,
            to_addr=to,
            cause_key=cause_key,
            original_subject=thread.subject,
            in_reply_to=thread.in_reply_to,
            references=list(thread.references),
            date=self.now,
            reply_to=self.reply_to_for(case.mailbox) if case is not None else None,
            attachments=attachments,
        )
        return self.queue(
            composed,
            facts.kind.value,
            to=to,
            cause_key=cause_key,
            case_id=case.id if case is not None else None,
            inbound_id=inbound_id,
        )

    def queue(
        self,
        composed: ComposedReply,
        kind: str,
        *,
        to: str,
        cause_key: str,
        case_id: int | None,
        inbound_id: int | None,
    ) -> bool:
        """Queue a composed mail once per cause, on the case's timeline when it has one."""
        queued = repo.queue_outbound(
            self.session,
            NewOutbound(
                case_id=case_id,
                inbound_id=inbound_id,
                cause_key=cause_key,
                kind=kind,
                recipient=to,
                message_id=composed.message_id,
                subject=composed.subject,
                raw=composed.raw,
                created_at=self.now,
                # Due at once, even when the caller's clock runs ahead (``timers --at``).
                next_attempt_at=min(self.now, utcnow()),
            ),
        )
        if queued and case_id is not None:
            repo.add_event(
                self.session,
                case_id,
                "reply_queued",
                {"kind": kind, "to": to, "message_id": composed.message_id},
            )
        return queued

    def message_id_for(self, cause_key: str) -> str:
        return self._renderer.message_id_for(cause_key)


class NotFailedError(GatewayError):
    """No outbound mail with this id has failed: nothing to send again."""

    def __init__(self, outbound_id: int) -> None:
        super().__init__(f"outbound message {outbound_id} has not failed")
        self.outbound_id = outbound_id


def resend(session: Session, outbound_id: int, *, now: datetime) -> OutboundMessage:
    """Queue a failed mail again, due at once with fresh attempts (caller's transaction).
    Its ``last_error`` still says why it failed, until the next attempt."""
    out = session.get(OutboundMessage, outbound_id)
    if out is None or out.status != OutboundStatus.FAILED:
        raise NotFailedError(outbound_id)
    out.status = OutboundStatus.PENDING
    out.attempts = 0
    out.next_attempt_at = now
    out.lease_until = None
    out.lease_owner = None
    session.add(out)
    return out
