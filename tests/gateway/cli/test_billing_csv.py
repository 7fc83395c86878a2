"""`aiguilleur export billing`: a CSV a French spreadsheet opens as it is.

UTF-8 with a BOM (Excel then reads "Gérardmer", not "GÃ©rardmer"), ``;`` between
fields, CRLF line ends; the same bytes on stdout as in the ``-o`` file. The routing
log's CSV in the web UI has the same format (tests/gateway/web/test_caselog.py).
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from gateway.cli import app
from gateway.cli.commands.billing import BOM, CSV_HEADER, render_csv
from tests.gateway.cli.commands.site import Site, add_act, add_case, make_site, session_for

runner = CliRunner()
UTF8_BOM = b"\xef\xbb\xbf"


def _site_with_one_act(tmp_path: Path, doctor: str) -> Site:
    """A site whose database holds one TE2 act of March 2025, performed by ``doctor``."""
    site = make_site(tmp_path, with_database=True)
    with session_for(site) as session:
        case_id = add_case(session, "AIG-2025-000001")
        add_act(session, case_id, "TE2", date(2025, 3, 14), patient_key="p", name=doctor)
        session.commit()
    return site


def test_stdout_and_file_hold_the_same_spreadsheet_bytes(tmp_path: Path) -> None:
    site = _site_with_one_act(tmp_path, "Dr Hélène Géraud; Épinal")
    output = tmp_path / "facturation.csv"
    to_file = runner.invoke(
        app, ["export", "billing", "--month", "2025-03", "-c", str(site.config), "-o", str(output)]
    )
    assert to_file.exit_code == 0, to_file.output
    to_stdout = runner.invoke(
        app, ["export", "billing", "--month", "2025-03", "-c", str(site.config)]
    )
    assert to_stdout.exit_code == 0, to_stdout.output
    raw = output.read_bytes()
    assert to_stdout.stdout_bytes == raw

    assert raw.startswith(UTF8_BOM + ";".join(CSV_HEADER).encode() + b"\r\n")
    assert raw.endswith(b"\r\n") and raw.count(b"\n") == raw.count(b"\r\n") == 2
    assert "Hélène Géraud".encode() in raw  # UTF-8, not latin-1
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[0] == list(CSV_HEADER)
    assert rows[1][3] == "Dr Hélène Géraud; Épinal"  # quoted because it holds the separator
    assert rows[1][-1] == "20,00"  # decimal comma


def test_an_empty_month_is_the_bom_and_the_header() -> None:
    assert render_csv([]) == BOM + ";".join(CSV_HEADER) + "\r\n"


def test_a_cell_a_spreadsheet_would_run_is_kept_as_text(tmp_path: Path) -> None:
    site = _site_with_one_act(tmp_path, "=cmd|'/c calc'!A0")
    done = runner.invoke(app, ["export", "billing", "--month", "2025-03", "-c", str(site.config)])
    assert done.exit_code == 0, done.output
    rows = list(csv.reader(io.StringIO(done.stdout_bytes.decode("utf-8-sig")), delimiter=";"))
    assert rows[1][3] == "'=cmd|'/c calc'!A0"
