"""Admin pages: the audit log and the list of accounts."""

from __future__ import annotations

from sqlmodel import col, select
from starlette.responses import Response
from starlette.routing import Route

from gateway.storage.web_models import AuditEntry, WebUser
from gateway.web.auth import Call, guarded, render
from gateway.web.context import WebContext
from gateway.web.params import BadParameterError, ident

__all__ = ["routes"]

PAGE = 100


def routes(ctx: WebContext) -> list[Route]:
    def audit(call: Call) -> Response:
        params = call.request.query_params
        stmt = select(AuditEntry)
        actor = params.get("actor", "").strip()
        if actor:
            stmt = stmt.where(AuditEntry.actor == actor)
        before = params.get("before", "")
        if before:
            below = ident(before)
            if below is None:
                raise BadParameterError("before")
            stmt = stmt.where(col(AuditEntry.id) < below)
        rows = list(call.db.exec(stmt.order_by(col(AuditEntry.id).desc()).limit(PAGE + 1)).all())
        more = len(rows) > PAGE
        rows = rows[:PAGE]
        return render(
            ctx,
            call.request,
            "audit.html",
            call.visitor,
            rows=rows,
            actor=actor,
            next_before=rows[-1].id if more and rows else None,
        )

    def users(call: Call) -> Response:
        rows = call.db.exec(select(WebUser).order_by(col(WebUser.username))).all()
        return render(ctx, call.request, "users.html", call.visitor, rows=rows)

    return [
        guarded(ctx, "/audit", audit, name="audit"),
        guarded(ctx, "/users", users, name="users"),
    ]
