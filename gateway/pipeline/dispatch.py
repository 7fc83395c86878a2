"""Where a parsed message goes, as a table read top to bottom: the first route that
takes the message handles it, inside the caller's transaction.

To add an inbound kind, add a function taking an ``Inbound`` and returning
``Handled`` or ``None``, and put it in ``ROUTES`` where it belongs. Reports (DSN,
MDN) never reach the table, which answers people: ``delivery_report`` takes a DSN
for one of our mails, and the worker ignores every other report. A message the
table handles gets the MDN it asks for (``cases.receipts``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property

from gateway.cases.answers import doctor_message
from gateway.cases.bounces import take_delivery_report
from gateway.cases.flow import CaseFlow, Incoming
from gateway.cases.intake import FOLLOW_UP_STATUSES, decide, follow_up, open_case
from gateway.cases.receipts import send_receipt
from gateway.cases.status import parties, status_reply
from gateway.config import MailboxConfig
from gateway.storage import repo
from gateway.storage.models import Case
from parsers.envelope import find_case_reference
from parsers.request import RequestKind

__all__ = ["ROUTES", "Handled", "Inbound", "delivery_report", "dispatch"]


@dataclass(frozen=True)
class Handled:
    case: Case | None
    reply: str | None = None  # the kind of the reply queued to the writer, if any
    answer: str | None = None  # what a doctor's message was taken as


@dataclass
class Inbound:
    """One parsed message in its transaction, with the case its thread belongs to."""

    flow: CaseFlow
    incoming: Incoming
    mailbox: MailboxConfig

    @property
    def writer(self) -> str | None:
        """The From address: who wrote, as opposed to where replies go."""
        return self.incoming.parsed.envelope.from_addr

    @cached_property
    def case(self) -> Case | None:
        """The case named in the request or subject, else the one the thread belongs to;
        locked for this transaction."""
        session = self.flow.session
        envelope = self.incoming.parsed.envelope
        found: Case | None = None
        reference = self.incoming.parsed.request.reference or find_case_reference(envelope.subject)
        if reference:
            found = repo.find_case_by_reference(session, reference)
        if found is None:
            thread = [i for i in [envelope.in_reply_to, *envelope.references] if i]
            found = repo.find_case_for_thread(session, thread)
        return repo.lock_case(session, found) if found is not None else None


def status_query(msg: Inbound) -> Handled | None:
    """ "Où en est le dossier …?": answered to the case's parties only."""
    request = msg.incoming.parsed.request
    if request.kind != RequestKind.STATUS_QUERY or request.reference is None:
        return None
    flow = msg.flow
    case = repo.find_case_by_reference(flow.session, request.reference)
    if case is not None:
        case = repo.lock_case(flow.session, case)
    allowed = parties(flow, case) if case is not None else set()
    return Handled(case, status_reply(flow, case, msg.incoming, authorised=msg.writer in allowed))


def new_request(msg: Inbound) -> Handled | None:
    if msg.case is not None:
        return None
    case = open_case(msg.flow, msg.incoming, msg.mailbox.name, msg.mailbox.programme)
    return Handled(case, decide(msg.flow, case, msg.incoming))


def doctor_answer(msg: Inbound) -> Handled | None:
    case = msg.case
    offer = msg.flow.offer_for(case, msg.writer) if case is not None else None
    if case is None or offer is None:
        return None
    assert case.id is not None
    taken_as = doctor_message(msg.flow, case, offer, msg.incoming)
    repo.add_event(
        msg.flow.session,
        case.id,
        "doctor_message",
        {"inbound_id": msg.incoming.row.id, "taken_as": taken_as},
    )
    return Handled(case, answer=taken_as)


def sender_complement(msg: Inbound) -> Handled | None:
    """The sender again while the request is incomplete or refused: it completes it."""
    case = msg.case
    if case is None or msg.writer is None or msg.writer != case.sender:
        return None
    if case.status not in FOLLOW_UP_STATUSES:
        return None
    return Handled(case, follow_up(msg.flow, case, msg.incoming))


def sender_news(msg: Inbound) -> Handled | None:
    """The sender again once the case is under way: they are told where it stands."""
    case = msg.case
    if case is None or msg.writer is None or msg.writer != case.sender:
        return None
    return Handled(case, status_reply(msg.flow, case, msg.incoming, authorised=True))


def third_party(msg: Inbound) -> Handled | None:
    """Anyone else in the thread: the status to a party, a neutral answer to others."""
    case = msg.case
    allowed = parties(msg.flow, case) if case is not None else set()
    return Handled(
        case, status_reply(msg.flow, case, msg.incoming, authorised=msg.writer in allowed)
    )


ROUTES: tuple[Callable[[Inbound], Handled | None], ...] = (
    status_query,
    new_request,
    doctor_answer,
    sender_complement,
    sender_news,
    third_party,
)


def dispatch(msg: Inbound) -> Handled:
    for route in ROUTES:
        handled = route(msg)
        if handled is not None:
            if send_receipt(msg.flow, msg.incoming, handled.case, msg.mailbox.address):
                handled = replace(handled, reply=handled.reply or "mdn")  # wakes the outbox
            return handled
    raise AssertionError("third_party takes every message")  # pragma: no cover


def delivery_report(msg: Inbound) -> Handled | None:
    """A DSN for one of our mails: the mail is marked bounced and its case moves on.
    None for any other report (the caller ignores it)."""
    taken = take_delivery_report(msg.flow, msg.incoming)
    return Handled(taken.case) if taken is not None else None
