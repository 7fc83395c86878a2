"""What a coordinator does to a case: assign, close, correct and re-run, add a note.

The work itself is ``gateway.cases.actions``, the same code the daemon's flow uses; each
handler parses the form, calls the action, adds the audit record and commits everything
in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import select
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from gateway.cases.actions import (
    ActionError,
    add_note,
    assign_case,
    close_case,
    correct_and_rerun,
)
from gateway.cases.flow import CaseFlow
from gateway.outbox.queue import Mailer
from gateway.storage import repo
from gateway.storage.events import CaseEventKind
from gateway.storage.models import Case, utcnow
from gateway.web.auth import Call, guarded
from gateway.web.context import WebContext
from gateway.wording import say

__all__ = ["routes"]

# What the handler did, for the audit record: (action name, target, detail).
Done = tuple[str, str, dict[str, str]]
# An action on a locked case, inside the handler's transaction.
Act = Callable[[Call, CaseFlow, Case], Done]


def _find(call: Call) -> Case | None:
    reference = call.param("reference")
    return call.db.exec(select(Case).where(Case.reference == reference)).first()


def _case_not_found(call: Call) -> Response:
    return call.error(404, say("web.error.case_not_found"))


def _run(call: Call, act: Act) -> Response:
    found = _find(call)
    if found is None:
        return _case_not_found(call)
    case = repo.lock_case(call.db, found)
    ctx = call.ctx
    mailer = Mailer(call.db, ctx.renderer, ctx.config, utcnow())
    flow = CaseFlow(call.db, ctx.services, mailer)
    try:
        action, target, detail = act(call, flow, case)
    except ActionError as exc:
        call.db.rollback()
        return call.error(409, str(exc))
    call.audited(
        action,
        case_id=case.id,
        target=target,
        detail=detail,
        timeline=False,  # gateway.cases.actions wrote the case event, with the actor
    )
    return RedirectResponse(f"/cases/{call.param('reference')}", status_code=303)


def _acting(act: Act) -> Callable[[Call], Response]:
    def handle(call: Call) -> Response:
        return _run(call, act)

    return handle


def _assign(call: Call, flow: CaseFlow, case: Case) -> Done:
    rpps = call.form.get("rpps", "").strip()
    offer = assign_case(flow, case, rpps, call.visitor.username)
    return "case_assigned", f"offer:{offer.id}", {"rpps": rpps}


def _close(call: Call, flow: CaseFlow, case: Case) -> Done:
    outcome = call.form.get("outcome", "").strip()
    close_case(flow, case, outcome, call.form.get("message", "")[:5000], call.visitor.username)
    return "case_closed", f"outcome:{outcome}", {"outcome": outcome}


def _correct(call: Call, flow: CaseFlow, case: Case) -> Done:
    field = call.form.get("field", "").strip()
    value = call.form.get("value", "")[:2000]
    reply = correct_and_rerun(flow, case, field, value, call.visitor.username)
    # The value itself may be patient data: the audit says which field, not what.
    return "field_corrected", f"field:{field}", {"reply": reply or ""}


def note(call: Call) -> Response:
    case = _find(call)
    if case is None or case.id is None:
        return _case_not_found(call)
    try:
        added = add_note(call.db, case, call.form.get("text", ""), author=call.visitor.username)
    except ActionError as exc:
        return call.error(400, str(exc))
    # The text stays in case_note; the audit row says a note was added, not what it says.
    call.audited(
        CaseEventKind.NOTE_ADDED,
        case_id=case.id,
        target=f"note:{added.id}",
    )
    return RedirectResponse(f"/cases/{call.param('reference')}#notes", status_code=303)


def routes(ctx: WebContext) -> list[Route]:
    table = (
        ("/cases/{reference}/notes", note, "add_note"),
        ("/cases/{reference}/assign", _acting(_assign), "case_assign"),
        ("/cases/{reference}/close", _acting(_close), "case_close"),
        ("/cases/{reference}/correct", _acting(_correct), "case_correct"),
    )
    return [guarded(ctx, p, h, name=n, method="POST") for p, h, n in table]
