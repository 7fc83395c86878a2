from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from gateway.directory.importer import ImportSummary, import_file
from gateway.directory.rows import REASON_COLUMNS, REASON_RPPS
from gateway.storage.db import make_engine
from gateway.storage.directory_models import DirectoryImport, MssanteAddress, Professional
from tests.gateway.directory.builders import (
    MSS_HEADER,
    PA_HEADER,
    PA_VARIANT_HEADER,
    mss_row,
    pa_row,
    write_extract,
)

PA_NAME = "PS_LibreAcces_Personne_activite_202611230000.txt"
MSS_NAME = "Extraction_Correspondance_MSSante_202611230000.txt"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def _professionals(engine: Engine) -> list[Professional]:
    with Session(engine) as s:
        return list(
            s.exec(
                select(Professional).order_by(
                    col(Professional.national_id), col(Professional.structure_id)
                )
            ).all()
        )


def _counts(summary: ImportSummary) -> tuple[int, int, int, int, int, int]:
    return (
        summary.inserted,
        summary.updated,
        summary.unchanged,
        summary.duplicates,
        summary.deactivated,
        summary.rejected,
    )


def _three_doctors() -> list[dict[str, str]]:
    return [
        pa_row("10001045367"),
        pa_row("10001045367", structure="R10000000002", **{"Raison sociale site": ""}),
        pa_row("10009999999", savoir_faire="SM15", **{"Libellé savoir-faire": "Dermatologie"}),
    ]


def test_import_then_identical_reimport_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    path = write_extract(tmp_path / PA_NAME, PA_HEADER, _three_doctors())
    first = import_file(engine, path)
    assert first.kind == "personne_activite" and first.encoding == "utf-8"
    assert first.lines == 3
    assert _counts(first) == (3, 0, 0, 0, 0, 0)
    before = [(p.national_id, p.structure_id, p.updated_at, p.changed_batch_id) for p in
              _professionals(engine)]  # fmt: skip

    again = import_file(engine, path)
    assert _counts(again) == (0, 0, 3, 0, 0, 0)
    rows = _professionals(engine)
    after = [(p.national_id, p.structure_id, p.updated_at, p.changed_batch_id) for p in rows]
    assert after == before  # unchanged rows keep their change stamp
    assert all(p.batch_id == again.batch_id and p.active for p in rows)

    martin = rows[0]
    assert (martin.pp_id, martin.id_type, martin.civility) == ("10001045367", "8", "Docteur")
    assert martin.family_name == "MARTIN" and martin.given_name == "Hélène"
    assert (martin.profession_code, martin.savoir_faire_code) == ("10", "SM54")
    assert (martin.commune_code, martin.postal_code) == ("35238", "35000")
    assert martin.email is None  # empty fields are NULL
    assert rows[1].structure_name is None


def test_changes_vanished_rows_and_reactivation(engine: Engine, tmp_path: Path) -> None:
    rows = _three_doctors()
    import_file(engine, write_extract(tmp_path / PA_NAME, PA_HEADER, rows))

    changed = [
        {**rows[0], "Téléphone (coord. structure)": "0299111111"},
        rows[2],
        pa_row("10005555555", structure="R10000000009"),
    ]
    second = import_file(engine, write_extract(tmp_path / PA_NAME, PA_HEADER, changed))
    assert _counts(second) == (1, 1, 1, 0, 1, 0)
    by_key = {(p.national_id, p.structure_id): p for p in _professionals(engine)}
    gone = by_key[("810001045367", "R10000000002")]
    assert not gone.active and gone.changed_batch_id == second.batch_id
    assert by_key[("810001045367", "R10000000001")].phone == "0299111111"

    third = import_file(engine, write_extract(tmp_path / PA_NAME, PA_HEADER, rows))
    # The vanished activity comes back (updated), the new one goes, the phone reverts.
    assert _counts(third) == (0, 2, 1, 0, 1, 0)
    assert all(p.active == (p.national_id != "810005555555") for p in _professionals(engine))


def test_rejected_lines_are_counted_by_reason_with_line_numbers(
    engine: Engine, tmp_path: Path
) -> None:
    rows = [pa_row("10001045367"), pa_row("123"), pa_row("10002222222")]
    path = write_extract(
        tmp_path / PA_NAME, PA_HEADER, rows, extra_lines=["8|trop|court|", "", "   "]
    )
    summary = import_file(engine, path)
    assert summary.inserted == 2 and summary.rejected == 2
    assert summary.reasons == {REASON_RPPS: 1, REASON_COLUMNS: 1}
    assert summary.rejected_lines == {REASON_RPPS: [3], REASON_COLUMNS: [5]}
    text = "\n".join(summary.lines_fr())
    assert "rejetées 2" in text and "MARTIN" not in text  # no personal data
    # Reasons are codes; the summary says them in French (directory.reason.<code>).
    assert "  rejet « RPPS invalide (11 chiffres attendus) » : 1 (lignes 3…)" in text
    assert "  rejet « nombre de colonnes inattendu » : 1 (lignes 5…)" in text


def test_latin1_file_with_variant_header_crlf_and_no_trailing_separator(
    engine: Engine, tmp_path: Path
) -> None:
    rows = _three_doctors()
    path = write_extract(
        tmp_path / PA_NAME, PA_VARIANT_HEADER, rows, encoding="latin-1", newline="\r\n"
    )
    # One line without its trailing "|": tolerated.
    data = path.read_bytes().replace(b"|\r\n", b"\r\n", 2)
    path.write_bytes(data)
    summary = import_file(engine, path)
    assert summary.encoding == "latin-1"
    assert _counts(summary) == (3, 0, 0, 0, 0, 0)
    names = {p.given_name for p in _professionals(engine)}
    assert names == {"Hélène"}
    assert {p.civility for p in _professionals(engine)} == {"Docteur"}


def test_a_stray_latin1_line_in_a_utf8_file_is_read(engine: Engine, tmp_path: Path) -> None:
    path = write_extract(tmp_path / PA_NAME, PA_HEADER, [pa_row("10001045367")])
    from tests.gateway.directory.builders import line

    stray = line(PA_HEADER, pa_row("10002222222", **{"Prénom d'exercice": "Zoé"}))
    path.write_bytes(path.read_bytes() + stray.encode("latin-1") + b"\n")
    summary = import_file(engine, path)
    assert summary.encoding == "utf-8" and summary.reencoded_lines == 1
    assert {p.given_name for p in _professionals(engine)} == {"Hélène", "Zoé"}


def test_repeated_keys_first_line_wins(engine: Engine, tmp_path: Path) -> None:
    rows = [
        pa_row("10001045367"),
        pa_row("10001045367", **{"Nom d'exercice": "AUTRE"}),
    ]
    path = write_extract(tmp_path / PA_NAME, PA_HEADER, rows)
    first = import_file(engine, path, batch_rows=1)  # the duplicate lands in another batch
    assert _counts(first) == (1, 0, 0, 1, 0, 0)
    again = import_file(engine, path)
    assert _counts(again) == (0, 0, 1, 1, 0, 0)
    assert [p.family_name for p in _professionals(engine)] == ["MARTIN"]


def test_mssante_repeated_addresses_are_deduplicated(engine: Engine, tmp_path: Path) -> None:
    rows = [
        mss_row("Helene.Martin@medecin.mssante.fr"),
        mss_row("helene.martin@medecin.mssante.fr", **{"Raison Sociale structure BAL": "AUTRE"}),
        mss_row("secretariat@cabinet.mssante.fr", "", **{"Type de BAL": "ORG"}),
        mss_row("pas une adresse"),
    ]
    path = write_extract(tmp_path / MSS_NAME, MSS_HEADER, rows)
    summary = import_file(engine, path)
    assert summary.kind == "mssante"
    assert _counts(summary) == (2, 0, 0, 1, 0, 1)
    assert import_file(engine, path).unchanged == 2
    with Session(engine) as s:
        bals = s.exec(select(MssanteAddress).order_by(col(MssanteAddress.address))).all()
    assert [(b.address, b.bal_type, b.national_id, b.structure_name) for b in bals] == [
        ("helene.martin@medecin.mssante.fr", "PER", "810001045367", "CABINET MARTIN"),
        ("secretariat@cabinet.mssante.fr", "ORG", None, "CABINET MARTIN"),
    ]


def test_a_truncated_file_deactivates_nothing(engine: Engine, tmp_path: Path) -> None:
    rows = [pa_row(f"1000100{i:04d}") for i in range(10)]
    import_file(engine, write_extract(tmp_path / PA_NAME, PA_HEADER, rows))
    summary = import_file(engine, write_extract(tmp_path / PA_NAME, PA_HEADER, rows[:2]))
    assert summary.deactivation_skipped and summary.deactivated == 0
    assert all(p.active for p in _professionals(engine))
    assert "aucune désactivation" in "\n".join(summary.lines_fr())


def test_each_import_is_recorded(engine: Engine, tmp_path: Path) -> None:
    summary = import_file(engine, write_extract(tmp_path / PA_NAME, PA_HEADER, _three_doctors()))
    with Session(engine) as s:
        record = s.get(DirectoryImport, summary.batch_id)
    assert record is not None and record.finished_at is not None
    assert (record.kind, record.file_name, record.inserted, record.lines) == (
        "personne_activite",
        PA_NAME,
        3,
        3,
    )


def test_staged_import_matches_streamed_import(tmp_path: Path) -> None:
    """The parallel path (SQLite, worker processes, small ranges) gives the same rows."""
    from gateway.storage.db import upgrade

    rows = [pa_row(f"1000{i:07d}", structure=f"R{i % 7}") for i in range(300)]
    rows.insert(150, pa_row("123"))  # a rejected line in the middle
    rows.append(rows[10])  # a duplicate far from its first
    path = write_extract(tmp_path / PA_NAME, PA_HEADER, rows)
    results = []
    for workers in (0, 2):
        url = f"sqlite:///{tmp_path / f'w{workers}.db'}"
        upgrade(url)
        engine = make_engine(url)
        try:
            summary = import_file(engine, path, workers=workers, part_bytes=4096, batch_rows=50)
            again = import_file(engine, path, workers=workers, part_bytes=4096)
            dump = [p.model_dump(exclude={"updated_at"}) for p in _professionals(engine)]
        finally:
            engine.dispose()
        results.append((_counts(summary), _counts(again), summary.rejected_lines, dump))
    streamed, staged = results
    assert streamed[0] == (300, 0, 0, 1, 0, 1)
    assert streamed[1] == (0, 0, 300, 1, 0, 1)
    assert streamed[2] == staged[2] == {REASON_RPPS: [152]}
    assert staged == streamed
