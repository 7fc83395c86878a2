"""Coordinator work on messages: the quarantine (release, discard), a failed reply sent
again, an attachment downloaded. Each one is audited with who, when and what.

The state changes are plain functions of the message's own module
(``gateway.pipeline.quarantine``, ``gateway.outbox.queue``); a handler parses the request,
calls one, records the audit entry (and the case event) and commits.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlmodel import Session, col, select
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from gateway.outbox.queue import NotFailedError, resend
from gateway.pipeline.quarantine import NotQuarantinedError, discard, release
from gateway.storage import repo
from gateway.storage.events import CaseEventKind
from gateway.storage.models import Case, InboundMessage, InboundStatus, utcnow
from gateway.web.auth import Call, guarded, render
from gateway.web.casepage import attachment
from gateway.web.context import WebContext
from gateway.web.params import BadParameterError, ident, local_path
from gateway.wording import say

__all__ = ["routes"]

_UNSAFE_FILENAME = re.compile(r"[^\w.\- ]+")


def _back(call: Call, fallback: str) -> Response:
    return RedirectResponse(local_path(call.form.get("back")) or fallback, status_code=303)


def _case_ref(call: Call, case_id: int | None) -> str | None:
    if case_id is None:
        return None
    case = call.db.get(Case, case_id)
    return case.reference if case else None


def _ident(call: Call, name: str) -> int:
    """The numeric path parameter ``name``; a malformed or oversized one is a 400."""
    found = ident(call.param(name))
    if found is None:
        raise BadParameterError(name)
    return found


def _not_quarantined(call: Call) -> Response:
    return call.error(409, say("web.error.not_quarantined"))


def quarantine_page(call: Call) -> Response:
    rows = call.db.exec(
        select(InboundMessage, Case.reference)
        .outerjoin(Case, col(Case.id) == col(InboundMessage.case_id))
        .where(InboundMessage.status == InboundStatus.QUARANTINED)
        .order_by(col(InboundMessage.received_at).desc())
        .limit(200)
    ).all()
    return render(call.ctx, call.request, "quarantine.html", call.visitor, rows=rows)


def _quarantined(
    call: Call, change: Callable[[Session, int], InboundMessage]
) -> InboundMessage | None:
    """Release or discard the quarantined message of the path; None if it is not one."""
    try:
        return change(call.db, _ident(call, "message_id"))
    except NotQuarantinedError:
        return None


def release_message(call: Call) -> Response:
    message = _quarantined(call, lambda db, ident: release(db, ident, now=utcnow()))
    if message is None:
        return _not_quarantined(call)
    detail = {"previous_error": (message.error or "")[:200]}
    target = f"inbound:{message.id}"
    call.audited(
        CaseEventKind.MESSAGE_RELEASED, case_id=message.case_id, target=target, detail=detail
    )
    return _back(call, "/quarantine")


def discard_message(call: Call) -> Response:
    reason = call.form.get("reason", "").strip()[:200]
    by = call.visitor.username
    message = _quarantined(
        call, lambda db, ident: discard(db, ident, by=by, reason=reason, now=utcnow())
    )
    if message is None:
        return _not_quarantined(call)
    target = f"inbound:{message.id}"
    detail = {"reason": reason}
    call.audited(
        CaseEventKind.MESSAGE_DISCARDED, case_id=message.case_id, target=target, detail=detail
    )
    return _back(call, "/quarantine")


def resend_reply(call: Call) -> Response:
    try:
        out = resend(call.db, _ident(call, "outbound_id"), now=utcnow())
    except NotFailedError:
        return call.error(409, say("web.error.not_failed"))
    call.audited(
        CaseEventKind.REPLY_RESENT,
        case_id=out.case_id,
        target=f"outbound:{out.id}",
        detail={"previous_error": (out.last_error or "")[:200]},
    )
    ref = _case_ref(call, out.case_id)
    return _back(call, f"/cases/{ref}" if ref else "/")


def download(call: Call) -> Response:
    not_found = call.error(404, say("web.error.attachment_not_found"))
    message_id, index = ident(call.param("message_id")), ident(call.param("index"))
    if message_id is None or index is None:
        return not_found
    message = call.db.get(InboundMessage, message_id)
    raw = repo.inbound_raw(call.db, message_id) if message is not None else None
    found = attachment(raw, index) if raw is not None else None
    if message is None or found is None:
        return not_found
    ref, data = found
    call.audited(
        CaseEventKind.ATTACHMENT_DOWNLOADED,
        case_id=message.case_id,
        target=f"inbound:{message.id}/{index}",
    )
    name = _UNSAFE_FILENAME.sub("_", ref.filename)[:120] or say(
        "web.value.attachment_name", index=index
    )
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def routes(ctx: WebContext) -> list[Route]:
    table = (
        ("/quarantine", quarantine_page, "quarantine", "GET"),
        ("/messages/{message_id}/release", release_message, "release", "POST"),
        ("/messages/{message_id}/discard", discard_message, "discard", "POST"),
        ("/outbound/{outbound_id}/resend", resend_reply, "resend", "POST"),
        ("/messages/{message_id}/attachments/{index}", download, "attachment", "GET"),
    )
    return [guarded(ctx, p, h, name=n, method=m) for p, h, n, m in table]
