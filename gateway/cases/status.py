"""A status query: the case's status to those who may know it, a neutral answer to others."""

from __future__ import annotations

from gateway.cases.flow import CaseFlow, Incoming
from gateway.replies.facts import ReplyFacts, ReplyKind
from gateway.routing.status import StatusView, status_view
from gateway.storage import repo
from gateway.storage.models import Case
from gateway.wording import label

__all__ = ["parties", "status_reply"]


def status_reply(
    flow: CaseFlow, case: Case | None, incoming: Incoming, *, authorised: bool
) -> str | None:
    cause = f"inbound:{incoming.row.id}"
    if case is None or not authorised:
        facts = ReplyFacts(
            kind=ReplyKind.STATUS_NEUTRAL,
            reference=None,
            programme=None,
            task_status="rejected",
            business_status="non_communique",
            business_status_fr=label("status", "non_communique"),
            received_at=incoming.row.received_at,
            structure_name=flow.config.replies.structure_name,
        )
        to = incoming.sender
        if to is None:
            return None
        queued = flow.mailer.send(
            facts,
            to=to,
            cause_key=f"{cause}:status_neutral",
            case=None,
            thread=incoming.thread,
            inbound_id=incoming.row.id,
        )
        return facts.kind.value if queued else None
    view: StatusView = status_view(case.status, flow.spec(case))
    assert case.id is not None
    repo.add_event(flow.session, case.id, "status_requested", {"inbound_id": incoming.row.id})
    facts = flow.facts(
        case, ReplyKind.STATUS, received_at=incoming.row.received_at, lines_fr=view.lines_fr
    )
    return flow.to_sender(case, facts, f"{cause}:status", incoming)


def parties(flow: CaseFlow, case: Case) -> set[str]:
    """Who may learn the case's status: its sender and the doctors it was offered to."""
    found = {o.doctor_email for o in flow.offers(case)}
    if case.sender:
        found.add(case.sender)
    return found
