"""Coordinator actions on cases and messages. Each one is audited with who, when and what.

The routing actions (assign, close, correct a field) are not here: they come from
``gateway.cases.actions`` and will get their own routes.
"""

from __future__ import annotations

import re

from sqlmodel import col, select
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from gateway.storage.models import (
    Case,
    InboundMessage,
    InboundStatus,
    OutboundMessage,
    OutboundStatus,
    utcnow,
)
from gateway.storage.web_models import CaseNote, Role
from gateway.web.audit import record
from gateway.web.auth import Call, protect, render
from gateway.web.casepage import attachment
from gateway.web.context import WebContext

__all__ = ["MAX_NOTE_LENGTH", "routes"]

MAX_NOTE_LENGTH = 5000
_UNSAFE_FILENAME = re.compile(r"[^\w.\- ]+")


def _back(call: Call, fallback: str) -> Response:
    target = call.form.get("back", "")
    if not target.startswith("/") or target.startswith("//"):
        target = fallback
    return RedirectResponse(target, status_code=303)


def _case_ref(call: Call, case_id: int | None) -> str | None:
    if case_id is None:
        return None
    case = call.db.get(Case, case_id)
    return case.reference if case else None


def routes(ctx: WebContext) -> list[Route]:
    def add_note(call: Call) -> Response:
        reference = call.param("reference")
        case = call.db.exec(select(Case).where(Case.reference == reference)).first()
        if case is None or case.id is None:
            return PlainTextResponse("Dossier introuvable.", status_code=404)
        text = call.form.get("text", "").strip()
        if not text or len(text) > MAX_NOTE_LENGTH:
            return PlainTextResponse(
                f"La note doit contenir entre 1 et {MAX_NOTE_LENGTH} caractères.", status_code=400
            )
        note = CaseNote(case_id=case.id, author=call.visitor.username, text=text)
        call.db.add(note)
        call.db.flush()
        # The text stays in case_note; the audit row says a note was added, not what it says.
        record(
            call.db,
            call.visitor.username,
            "note_added",
            case_id=case.id,
            target=f"note:{note.id}",
            client=call.client,
        )
        call.db.commit()
        return RedirectResponse(f"/cases/{reference}#notes", status_code=303)

    def _quarantined(call: Call) -> InboundMessage | None:
        try:
            ident = int(call.param("message_id"))
        except ValueError:
            return None
        message = call.db.get(InboundMessage, ident)
        if message is None or message.status != InboundStatus.QUARANTINED:
            return None
        return message

    def release(call: Call) -> Response:
        message = _quarantined(call)
        if message is None:
            return PlainTextResponse(
                "Aucun message en quarantaine avec ce numéro.", status_code=409
            )
        previous = message.error
        message.status = InboundStatus.RECEIVED
        message.attempts = 0
        message.next_attempt_at = utcnow()
        message.lease_until = None
        message.lease_owner = None
        message.updated_at = utcnow()
        call.db.add(message)
        record(
            call.db,
            call.visitor.username,
            "message_released",
            case_id=message.case_id,
            target=f"inbound:{message.id}",
            client=call.client,
            detail={"previous_error": (previous or "")[:200]},
        )
        call.db.commit()
        return _back(call, "/quarantine")

    def discard(call: Call) -> Response:
        message = _quarantined(call)
        if message is None:
            return PlainTextResponse(
                "Aucun message en quarantaine avec ce numéro.", status_code=409
            )
        reason = call.form.get("reason", "").strip()[:200]
        # Kept with its raw bytes, out of every queue: "ignored" with who discarded it.
        message.status = InboundStatus.IGNORED
        message.error = f"discarded by {call.visitor.username}" + (f": {reason}" if reason else "")
        message.updated_at = utcnow()
        call.db.add(message)
        record(
            call.db,
            call.visitor.username,
            "message_discarded",
            case_id=message.case_id,
            target=f"inbound:{message.id}",
            client=call.client,
            detail={"reason": reason},
        )
        call.db.commit()
        return _back(call, "/quarantine")

    def resend(call: Call) -> Response:
        try:
            ident = int(call.param("outbound_id"))
        except ValueError:
            ident = -1
        out = call.db.get(OutboundMessage, ident)
        if out is None or out.status != OutboundStatus.FAILED:
            return PlainTextResponse("Aucune réponse en échec avec ce numéro.", status_code=409)
        previous = out.last_error
        out.status = OutboundStatus.PENDING
        out.attempts = 0
        out.next_attempt_at = utcnow()
        out.lease_until = None
        out.lease_owner = None
        call.db.add(out)
        record(
            call.db,
            call.visitor.username,
            "reply_resent",
            case_id=out.case_id,
            target=f"outbound:{out.id}",
            client=call.client,
            detail={"previous_error": (previous or "")[:200]},
        )
        call.db.commit()
        ref = _case_ref(call, out.case_id)
        return _back(call, f"/cases/{ref}" if ref else "/")

    def download(call: Call) -> Response:
        try:
            ident, index = int(call.param("message_id")), int(call.param("index"))
        except ValueError:
            return PlainTextResponse("Pièce introuvable.", status_code=404)
        message = call.db.get(InboundMessage, ident)
        found = attachment(message.raw, index) if message is not None else None
        if message is None or found is None:
            return PlainTextResponse("Pièce introuvable.", status_code=404)
        ref, data = found
        record(
            call.db,
            call.visitor.username,
            "attachment_downloaded",
            case_id=message.case_id,
            target=f"inbound:{message.id}/{index}",
            client=call.client,
        )
        call.db.commit()
        name = _UNSAFE_FILENAME.sub("_", ref.filename)[:120] or "piece"
        return Response(
            data,
            media_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    def quarantine(call: Call) -> Response:
        rows = call.db.exec(
            select(InboundMessage, Case.reference)
            .outerjoin(Case, col(Case.id) == col(InboundMessage.case_id))
            .where(InboundMessage.status == InboundStatus.QUARANTINED)
            .order_by(col(InboundMessage.received_at).desc())
            .limit(200)
        ).all()
        return render(ctx, call.request, "quarantine.html", call.visitor, rows=rows)

    coord = Role.COORDINATOR
    return [
        Route(
            "/quarantine", protect(ctx, Role.VIEWER, quarantine), methods=["GET"], name="quarantine"
        ),
        Route(
            "/cases/{reference}/notes",
            protect(ctx, coord, add_note),
            methods=["POST"],
            name="add_note",
        ),
        Route(
            "/messages/{message_id}/release",
            protect(ctx, coord, release),
            methods=["POST"],
            name="release",
        ),
        Route(
            "/messages/{message_id}/discard",
            protect(ctx, coord, discard),
            methods=["POST"],
            name="discard",
        ),
        Route(
            "/outbound/{outbound_id}/resend",
            protect(ctx, coord, resend),
            methods=["POST"],
            name="resend",
        ),
        Route(
            "/messages/{message_id}/attachments/{index}",
            protect(ctx, coord, download),
            methods=["GET"],
            name="attachment",
        ),
    ]
