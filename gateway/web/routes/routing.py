"""The routing actions a coordinator takes on a case: assign, close, correct and re-run.

The work itself is ``gateway.cases.actions``, the same code the daemon's flow uses; each
handler adds the audit record and commits everything in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import select
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from gateway.cases.actions import ActionError, assign_case, close_case, correct_and_rerun
from gateway.cases.flow import CaseFlow
from gateway.outbox.queue import Mailer
from gateway.storage import repo
from gateway.storage.models import Case, utcnow
from gateway.storage.web_models import Role
from gateway.web.audit import record
from gateway.web.auth import Call, protect
from gateway.web.context import WebContext

__all__ = ["routes"]

# What the handler did, for the audit record: (action name, target, detail).
Done = tuple[str, str, dict[str, str]]


def routes(ctx: WebContext) -> list[Route]:
    def run(call: Call, act: Callable[[CaseFlow, Case], Done]) -> Response:
        reference = call.param("reference")
        found = call.db.exec(select(Case).where(Case.reference == reference)).first()
        if found is None:
            return PlainTextResponse("Dossier introuvable.", status_code=404)
        case = repo.lock_case(call.db, found)
        mailer = Mailer(call.db, ctx.renderer, ctx.config, utcnow())
        flow = CaseFlow(call.db, ctx.services, mailer)
        try:
            action, target, detail = act(flow, case)
        except ActionError as exc:
            call.db.rollback()
            return PlainTextResponse(str(exc), status_code=409)
        record(
            call.db,
            call.visitor.username,
            action,
            case_id=case.id,
            target=target,
            client=call.client,
            detail=detail,
            timeline=False,  # gateway.cases.actions wrote the case event, with the actor
        )
        call.db.commit()
        return RedirectResponse(f"/cases/{reference}", status_code=303)

    def assign(call: Call) -> Response:
        rpps = call.form.get("rpps", "").strip()

        def act(flow: CaseFlow, case: Case) -> Done:
            offer = assign_case(flow, case, rpps, call.visitor.username)
            return "case_assigned", f"offer:{offer.id}", {"rpps": rpps}

        return run(call, act)

    def close(call: Call) -> Response:
        outcome = call.form.get("outcome", "").strip()
        message = call.form.get("message", "")[:5000]

        def act(flow: CaseFlow, case: Case) -> Done:
            close_case(flow, case, outcome, message, call.visitor.username)
            return "case_closed", f"outcome:{outcome}", {"outcome": outcome}

        return run(call, act)

    def correct(call: Call) -> Response:
        field = call.form.get("field", "").strip()
        value = call.form.get("value", "")[:2000]

        def act(flow: CaseFlow, case: Case) -> Done:
            reply = correct_and_rerun(flow, case, field, value, call.visitor.username)
            # The value itself may be patient data: the audit says which field, not what.
            return "field_corrected", f"field:{field}", {"reply": reply or ""}

        return run(call, act)

    coordinator = Role.COORDINATOR
    return [
        Route(
            "/cases/{reference}/assign",
            protect(ctx, coordinator, assign),
            methods=["POST"],
            name="case_assign",
        ),
        Route(
            "/cases/{reference}/close",
            protect(ctx, coordinator, close),
            methods=["POST"],
            name="case_close",
        ),
        Route(
            "/cases/{reference}/correct",
            protect(ctx, coordinator, correct),
            methods=["POST"],
            name="case_correct",
        ),
    ]
