from __future__ import annotations

import pytest

from gateway.directory import rows as rows_module
from gateway.directory.extract import (
    MSSANTE_COLUMNS,
    PERSONNE_ACTIVITE_COLUMNS,
    PERSONNE_ACTIVITE_HEADER,
    ExtractError,
    FileKind,
    column_indexes,
    detect_encoding,
    detect_kind,
    norm_header,
    split_line,
)
from gateway.directory.rows import (
    REASON_ADDRESS,
    REASON_COLUMNS,
    REASON_ID_TYPE,
    REASON_NATIONAL_ID,
    REASON_NO_PROFESSION,
    REASON_RPPS,
    Reader,
    make_reader,
)
from gateway.wording import labels
from tests.gateway.directory.builders import (
    MSS_HEADER,
    PA_HEADER,
    PA_VARIANT_HEADER,
    line,
    mss_row,
    names,
    pa_row,
)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Libellé civilité d'exercice", "Libellé civilité exercice"),
        ("Code postal (coord. structure)", "Code postal (coord. Structure)"),
        ("Type d'identifiant PP", "Type Identifiant PP"),
        ("Téléphone (coord. structure)", "TELEPHONE  (COORD STRUCTURE)"),
        ("\ufeffType de BAL", "type de bal"),
        ("Libellé Voie (coord. structure)", "Libellé voie (coord. structure)"),
    ],
)
def test_header_names_compare_without_case_accents_spaces_or_small_words(a: str, b: str) -> None:
    assert norm_header(a) == norm_header(b)


def test_different_headers_stay_different() -> None:
    assert norm_header("Téléphone (coord. structure)") != norm_header(
        "Téléphone 2 (coord. structure)"
    )
    assert norm_header("Code civilité") != norm_header("Code civilité d'exercice")


def test_columns_are_found_by_name_in_both_spellings() -> None:
    reference = column_indexes(names(PA_HEADER), PERSONNE_ACTIVITE_COLUMNS)
    variant = column_indexes(names(PA_VARIANT_HEADER), PERSONNE_ACTIVITE_COLUMNS)
    assert reference == variant
    assert reference[2] == 2  # Identification nationale PP
    assert reference[3] == 4  # Libellé civilité d'exercice, not "Libellé civilité"


def test_columns_are_found_whatever_their_order() -> None:
    shuffled = list(reversed(names(PA_HEADER)))
    indexes = column_indexes(shuffled, PERSONNE_ACTIVITE_COLUMNS)
    assert shuffled[indexes[2]] == "Identification nationale PP"


def test_missing_columns_are_named() -> None:
    header = [n for n in names(PA_HEADER) if n != "Code profession"]
    with pytest.raises(ExtractError, match="« Code profession »"):
        column_indexes(header, PERSONNE_ACTIVITE_COLUMNS)


def test_kind_from_header_then_from_name() -> None:
    assert detect_kind(names(PA_HEADER)) is FileKind.PERSONNE_ACTIVITE
    assert detect_kind(names(PA_VARIANT_HEADER)) is FileKind.PERSONNE_ACTIVITE
    assert detect_kind(names(MSS_HEADER)) is FileKind.MSSANTE
    odd = ["a", "b"]
    assert detect_kind(odd, "Extraction_Correspondance_MSSante_2026.txt") is FileKind.MSSANTE
    assert (
        detect_kind(odd, "PS_LibreAcces_Personne_activite_202611230000.txt")
        is FileKind.PERSONNE_ACTIVITE
    )
    with pytest.raises(ExtractError):
        detect_kind(odd, "notes.txt")


def test_trailing_separator_is_not_a_field() -> None:
    assert split_line("a|b||c|\r\n") == ["a", "b", "", "c"]
    assert split_line("a|b||c\n") == ["a", "b", "", "c"]
    assert len(split_line(PA_HEADER)) == 52
    assert len(split_line(MSS_HEADER)) == 31


def test_encoding_is_sniffed() -> None:
    text = "Nom|Prénom|Hélène|"
    assert detect_encoding(text.encode("utf-8")) == "utf-8"
    assert detect_encoding(text.encode("latin-1")) == "latin-1"
    assert detect_encoding(b"plain ascii|") == "utf-8"
    # A chunk that ends inside a multi-byte character is still UTF-8.
    assert detect_encoding(text.encode("utf-8")[:-3]) == "utf-8"
    assert detect_encoding("é".encode()[:1]) == "utf-8"


def _pa_reader() -> Reader:
    header = names(PA_HEADER)
    return make_reader(
        FileKind.PERSONNE_ACTIVITE,
        len(header),
        column_indexes(header, PERSONNE_ACTIVITE_COLUMNS),
    )


def test_activity_rows_are_keyed_and_checked() -> None:
    reader = _pa_reader()
    result = reader.read(split_line(line(PA_HEADER, pa_row("10001045367"))))
    assert not isinstance(result, str)
    key, row = result
    assert key == ("810001045367", "R10000000001", "10", "SM54")
    assert row[3] == "Docteur" and row[4] == "MARTIN"

    def reason(**fields: str) -> object:
        return reader.read(split_line(line(PA_HEADER, pa_row(**fields))))

    assert reason(**{"Identifiant PP": "123"}) == REASON_RPPS
    assert reason(**{"Type d'identifiant PP": "3"}) == REASON_ID_TYPE
    assert reason(**{"Identification nationale PP": "899999999999"}) == REASON_NATIONAL_ID
    assert reason(**{"Code profession": ""}) == REASON_NO_PROFESSION
    assert reader.read(["only", "three", "fields"]) == REASON_COLUMNS


def test_adeli_rows_are_accepted() -> None:
    row = pa_row(
        profession="95",
        savoir_faire="",
        **{
            "Type d'identifiant PP": "0",
            "Identifiant PP": "2A0012345",
            "Identification nationale PP": "02A0012345",
        },
    )
    result = _pa_reader().read(split_line(line(PA_HEADER, row)))
    assert not isinstance(result, str)
    assert result[0][0] == "02A0012345"


def test_mssante_addresses_are_lower_cased_and_checked() -> None:
    header = names(MSS_HEADER)
    reader = make_reader(FileKind.MSSANTE, len(header), column_indexes(header, MSSANTE_COLUMNS))
    result = reader.read(split_line(line(MSS_HEADER, mss_row(" Dr.X@Medecin.MSSante.fr "))))
    assert not isinstance(result, str)
    assert result[0] == ("dr.x@medecin.mssante.fr",)
    assert result[1][:2] == ("PER", "dr.x@medecin.mssante.fr")
    bad = reader.read(split_line(line(MSS_HEADER, mss_row("pas-une-adresse"))))
    assert bad == REASON_ADDRESS


def test_one_stray_latin1_line_does_not_make_a_utf8_file_latin1() -> None:
    utf8 = ("Nom|Prénom|\n" + "MARTIN|Hélène|\n" * 5).encode()
    stray = "DURAND|Zoé|\n".encode("latin-1")
    assert detect_encoding(utf8 + stray) == "utf-8"
    assert detect_encoding(stray * 3 + utf8[:20]) == "latin-1"


def test_every_rejection_reason_has_french_words() -> None:
    reasons = {v for k, v in vars(rows_module).items() if k.startswith("REASON_")}
    assert len(reasons) == 8
    assert reasons == set(labels("directory.reason"))


def test_the_columns_read_are_in_the_reference_header() -> None:
    reference = {norm_header(h) for h in PERSONNE_ACTIVITE_HEADER.split("|") if h}
    assert {norm_header(s.header) for s in PERSONNE_ACTIVITE_COLUMNS} <= reference
    assert PERSONNE_ACTIVITE_HEADER.count("|") == 52 and PERSONNE_ACTIVITE_HEADER.endswith("|")
    assert [s.field for s in MSSANTE_COLUMNS][:2] == ["bal_type", "address"]
