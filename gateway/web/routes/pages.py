"""Read-only pages: the dashboard, the routing log (and its CSV), the case page."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlmodel import Session
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from gateway.cases.actions import CLOSE_OUTCOMES, CORRECTABLE_FIELDS
from gateway.health import readiness_in
from gateway.storage.models import CaseStatus, utcnow
from gateway.web.auth import Call, guarded, render
from gateway.web.caselog import Cursor, LogFilter, log_page, walk_log
from gateway.web.casepage import load_case_page
from gateway.web.context import PARIS, WebContext
from gateway.web.csvsafe import safe_row
from gateway.web.dashboard import load_dashboard
from gateway.wording import say

__all__ = ["routes"]

CSV_COLUMNS = (
    "reference",
    "opened_at",
    "programme",
    "status",
    "decision",
    "doctor_rpps",
    "doctor_name",
    "sender",
    "mailbox",
)


def routes(ctx: WebContext) -> list[Route]:
    def dashboard(call: Call) -> Response:
        return render(
            ctx,
            call.request,
            "dashboard.html",
            call.visitor,
            board=load_dashboard(call.db, utcnow()),
            health=readiness_in(call.db, ctx.config, loops=ctx.metrics.loops),
        )

    def _log(call: Call, template: str) -> Response:
        params = dict(call.request.query_params)
        flt = LogFilter.from_params(params)
        cursor = Cursor.decode(params.get("after"))
        page = log_page(call.db, flt, cursor)
        return render(
            ctx,
            call.request,
            template,
            call.visitor,
            flt=flt,
            page=page,
            first_page=cursor is None,
            programmes=list(ctx.services.programmes),
            statuses=[s.value for s in CaseStatus],
        )

    def case_log(call: Call) -> Response:
        return _log(call, "cases.html")

    def case_rows(call: Call) -> Response:
        return _log(call, "_case_rows.html")

    def case_csv(call: Call) -> Response:
        """The routing log as CSV for a French spreadsheet, like `aiguilleur export billing`:
        UTF-8 with a BOM (Excel then reads the accents right), ``;`` separator, CRLF."""
        flt = LogFilter.from_params(dict(call.request.query_params))

        def lines() -> Iterator[str]:
            # Its own session: the handler's closes when the response starts streaming.
            with Session(ctx.engine) as db:
                buffer = io.StringIO()
                buffer.write("\ufeff")  # the BOM
                writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
                writer.writerow(CSV_COLUMNS)
                for case in walk_log(db, flt):
                    writer.writerow(
                        safe_row(
                            [
                                case.reference,
                                case.opened_at.astimezone(PARIS).isoformat(timespec="seconds"),
                                case.programme,
                                case.status,
                                case.decision or "",
                                case.doctor_rpps or "",
                                case.doctor_name or "",
                                case.sender or "",
                                case.mailbox,
                            ]
                        )
                    )
                    if buffer.tell() > 64_000:
                        yield buffer.getvalue()
                        buffer.seek(0)
                        buffer.truncate()
                yield buffer.getvalue()

        filename = say("web.value.log_file")
        return StreamingResponse(
            lines(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    def case_page(call: Call) -> Response:
        roster = ctx.services.roster
        page = load_case_page(
            call.db,
            call.param("reference"),
            programmes=ctx.services.programmes,
            roster=roster,
        )
        if page is None:
            return call.error(404, say("web.error.case_not_found"))
        return render(
            ctx,
            call.request,
            "case.html",
            call.visitor,
            page=page,
            doctors=sorted(roster, key=lambda d: d.name),
            close_outcomes=CLOSE_OUTCOMES,
            correctable=CORRECTABLE_FIELDS,
        )

    return [
        guarded(ctx, "/", dashboard, name="dashboard"),
        guarded(ctx, "/cases", case_log, name="case_log"),
        guarded(ctx, "/cases/rows", case_rows, name="case_rows"),
        guarded(ctx, "/cases.csv", case_csv, name="case_csv"),
        guarded(ctx, "/cases/{reference}", case_page, name="case"),
    ]
