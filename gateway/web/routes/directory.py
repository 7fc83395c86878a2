"""Directory search (Annuaire Santé tables) and roster editing (admin)."""

from __future__ import annotations

import re
from datetime import date

from sqlmodel import col, func, or_, select
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from gateway.directory.roster import RosterError, load_roster
from gateway.routing.roster import RosterDoctor
from gateway.storage.directory_models import MssanteAddress, Professional
from gateway.web.audit import AuditAction, record
from gateway.web.auth import Call, guarded, render
from gateway.web.context import WebContext
from gateway.web.roster_file import AbsenceEdit, RosterEdit, apply_edit
from gateway.wording import say

__all__ = ["routes"]

_RPPS = re.compile(r"[0-9]{11}")


def _absences(text: str) -> tuple[AbsenceEdit, ...]:
    """One absence a line: "AAAA-MM-JJ AAAA-MM-JJ" (start and end, both included)."""
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        parts = line.replace(",", " ").replace(";", " ").split()
        if not parts:
            continue
        try:
            start, end = date.fromisoformat(parts[0]), date.fromisoformat(parts[-1])
        except ValueError:
            raise RosterError(say("web.error.absences_line", line=n)) from None
        out.append(AbsenceEdit(start, end))
    return tuple(out)


def routes(ctx: WebContext) -> list[Route]:
    roster_path = ctx.config.routing.roster_path

    def directory(call: Call) -> Response:
        q = call.request.query_params.get("q", "").strip()
        rows: list[tuple[Professional, list[str]]] = []
        if len(q) >= 2:
            stmt = select(Professional).where(col(Professional.active).is_(True))
            if q.isdigit():
                stmt = stmt.where(
                    or_(col(Professional.pp_id) == q, col(Professional.national_id) == q)
                )
            else:
                stmt = stmt.where(
                    or_(
                        func.upper(col(Professional.family_name)).startswith(q.upper()),
                        func.upper(col(Professional.commune_label)).startswith(q.upper()),
                    )
                )
            found = call.db.exec(stmt.order_by(col(Professional.family_name)).limit(50)).all()
            ids = [p.national_id for p in found]
            addresses: dict[str, list[str]] = {}
            if ids:
                for a in call.db.exec(
                    select(MssanteAddress).where(col(MssanteAddress.national_id).in_(ids))
                ).all():
                    addresses.setdefault(a.national_id or "", []).append(a.address)
            rows = [(p, addresses.get(p.national_id, [])) for p in found]
        return render(ctx, call.request, "directory.html", call.visitor, q=q, rows=rows)

    def roster(call: Call) -> Response:
        doctors: tuple[RosterDoctor, ...] = ()
        error = ""
        if roster_path is None:
            error = say("web.error.no_roster_configured")
        else:
            try:
                doctors = load_roster(roster_path)
            except RosterError as exc:
                error = str(exc)
        return render(
            ctx,
            call.request,
            "roster.html",
            call.visitor,
            doctors=doctors,
            error=error,
            path=roster_path,
        )

    def roster_edit(call: Call) -> Response:
        if roster_path is None:
            return call.error(409, say("web.error.no_roster"))
        rpps = call.param("rpps")
        if not _RPPS.fullmatch(rpps):
            return call.error(404, say("web.error.not_found"))
        before = next((d for d in load_roster(roster_path) if d.rpps == rpps), None)
        try:
            edit = RosterEdit(
                accepts_new_patients=call.form.get("accepts_new_patients") == "on",
                filieres=tuple(
                    f.strip() for f in call.form.get("filieres", "").split(",") if f.strip()
                ),
                absences=_absences(call.form.get("absences", "")),
            )
            apply_edit(roster_path, rpps, edit)
        except RosterError as exc:
            return render(
                ctx,
                call.request,
                "roster.html",
                call.visitor,
                status=400,
                doctors=load_roster(roster_path),
                error=str(exc),
                path=roster_path,
            )
        record(
            call.db,
            call.visitor.username,
            AuditAction.ROSTER_EDITED,
            target=f"rpps:{rpps}",
            client=call.client,
            detail={
                "accepts_new_patients": [
                    before.accepts_new_patients if before else None,
                    edit.accepts_new_patients,
                ],
                "filieres": [sorted(before.filieres) if before else None, list(edit.filieres)],
                "absences": len(edit.absences),
            },
        )
        call.db.commit()
        return RedirectResponse(f"/roster#rpps-{rpps}", status_code=303)

    return [
        guarded(ctx, "/directory", directory, name="directory"),
        guarded(ctx, "/roster", roster, name="roster"),
        guarded(ctx, "/roster/{rpps}", roster_edit, name="roster_edit", method="POST"),
    ]
