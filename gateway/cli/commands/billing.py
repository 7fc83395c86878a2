"""`aiguilleur export billing --month YYYY-MM`: the month's télé-expertise acts, as CSV.

Format (kept stable for the accountants' spreadsheets), the same as the routing log's
CSV in the web UI:
- UTF-8 with a BOM (so Excel reads the accents right), ``;`` as separator (what
  French spreadsheets expect), CRLF line ends, one header row, fields quoted only
  when they need it; the same bytes on stdout as in the ``-o`` file;
- one row per act recorded by the daemon: TE2 for the requis, RQD for the
  requérant, both on the day the avis was relayed;
- columns: ``date_acte`` (AAAA-MM-JJ), ``code_acte``, ``rpps``, ``nom``,
  ``messagerie``, ``filiere``, ``reference_dossier``, ``tarif_eur`` (decimal
  comma: TE2 20,00 and RQD 10,00, as in FORMATS.md §5);
- ordered by date, then case reference, then code.

The database is opened read-only and never created.
"""

from __future__ import annotations

import calendar
import csv
import io
import re
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from gateway.cli.audience import Audience, print_error
from gateway.cli.commands.check import CheckError, read_database
from gateway.storage.models import Case, TeleExpertiseAct
from gateway.web.csvsafe import safe_row
from gateway.wording import say

__all__ = [
    "BOM",
    "CSV_HEADER",
    "TARIFS_EUR",
    "BillingRow",
    "billing_command",
    "billing_rows",
    "month_bounds",
    "render_csv",
]

BOM = "\ufeff"  # U+FEFF, written as EF BB BF in UTF-8

CSV_HEADER = (
    "date_acte",
    "code_acte",
    "rpps",
    "nom",
    "messagerie",
    "filiere",
    "reference_dossier",
    "tarif_eur",
)
# FORMATS.md §5: the requis bills TE2, the requérant RQD.
TARIFS_EUR = {"TE2": "20,00", "RQD": "10,00"}
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class BillingRow:
    performed_on: date
    code: str
    rpps: str | None
    name: str | None
    email: str
    filiere: str | None
    case_reference: str

    def cells(self) -> list[str]:
        return [
            self.performed_on.isoformat(),
            self.code,
            self.rpps or "",
            self.name or "",
            self.email,
            self.filiere or "",
            self.case_reference,
            TARIFS_EUR.get(self.code, ""),
        ]


def month_bounds(month: str) -> tuple[date, date]:
    """First and last day of ``YYYY-MM``; CheckError (in French) otherwise."""
    found = _MONTH.match(month.strip())
    if not found or int(found.group(1)) < 1:
        raise CheckError(say("cli.error.bad_month", value=month))
    year, number = int(found.group(1)), int(found.group(2))
    return date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])


def billing_rows(session: Session, first: date, last: date) -> list[BillingRow]:
    act = TeleExpertiseAct
    rows = session.execute(
        # In BillingRow's field order (sqlmodel's select types at most four columns).
        sa_select(
            col(act.performed_on),
            col(act.code),
            col(act.professional_rpps),
            col(act.professional_name),
            col(act.professional_email),
            col(act.filiere),
            col(Case.reference),
        )
        .join(Case, col(Case.id) == col(act.case_id))
        .where(col(act.performed_on) >= first, col(act.performed_on) <= last)
        .order_by(col(act.performed_on), col(Case.reference), col(act.code))
    ).all()
    return [BillingRow(*row) for row in rows]


def render_csv(rows: list[BillingRow]) -> str:
    """The whole file, BOM included."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(safe_row(row.cells()) for row in rows)  # names come from mail
    return buffer.getvalue()


def billing_command(config_path: Path, month: str, output: Path | None) -> int:
    """Write the CSV to ``output`` (or stdout); 0 on success, 2 on a usage or database error."""
    try:
        first, last = month_bounds(month)
    except CheckError as exc:
        print_error(Audience.COORDINATOR, exc)
        return 2
    rows = read_database(
        config_path,
        lambda session: billing_rows(session, first, last),
        "cli.error.nothing_to_export",
    )
    if rows is None:
        return 2
    content = render_csv(rows).encode("utf-8")
    if output is None:
        # Bytes, not text: the BOM and CRLF must come out whatever the locale's encoding.
        sys.stdout.flush()
        binary = getattr(sys.stdout, "buffer", None)
        if binary is None:  # a text-only stream (an embedding caller's)
            sys.stdout.write(content.decode("utf-8"))
        else:
            binary.write(content)
            binary.flush()
    else:
        try:
            output.write_bytes(content)
        except OSError as exc:
            failed = say("cli.error.cannot_write", path=output, reason=exc.strerror or exc)
            print_error(Audience.COORDINATOR, failed)
            return 2
        print(say("cli.billing.exported", count=len(rows), path=output), file=sys.stderr)
    return 0
