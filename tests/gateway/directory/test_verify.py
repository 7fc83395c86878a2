from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from gateway.directory.importer import import_file
from gateway.directory.verify import (
    DirectoryEntry,
    identify,
    verify_sender,
)
from gateway.routing.roster import RosterDoctor
from gateway.storage.db import make_engine
from rules.context import SenderIdentity
from tests.gateway.directory.builders import (
    MSS_HEADER,
    PA_HEADER,
    mss_row,
    pa_row,
    write_extract,
)

ROSTER = (
    RosterDoctor(
        rpps="10001045367",
        name="Dr Hélène Martin",
        email="helene.martin@medecin.mssante.fr",
        speciality_code="SM54",
        cpts_member=True,
    ),
    RosterDoctor(
        rpps="10007777777",
        name="Dr Paul Roux",
        email="paul.roux@ch-exemple.mssante.fr",
        speciality_code="SM39",
        cpts_member=False,
    ),
)


@pytest.fixture
def engine(db_url: str, tmp_path: Path) -> Iterator[Engine]:
    """A directory with a dermatologist (two activities), a nurse, an ORG box, a gone BAL."""
    engine = make_engine(db_url)
    activities = [
        pa_row("10009999999", savoir_faire="SM15", structure="R1"),
        pa_row("10009999999", savoir_faire="", structure="R2"),
        pa_row("10008888888", profession="60", savoir_faire=""),
        pa_row("10001045367"),
    ]
    bals = [
        mss_row("derm@medecin.mssante.fr", "810009999999", **{"Code savoir-faire": ""}),
        mss_row(
            "infirmiere@infirmier.mssante.fr",
            "810008888888",
            **{"Code Profession": "60", "Code savoir-faire": ""},
        ),
        mss_row(
            "secretariat@cabinet.mssante.fr",
            "",
            **{"Type de BAL": "ORG", "Code Profession": "", "Code savoir-faire": ""},
        ),
        mss_row("retraite@medecin.mssante.fr", "810006666666"),
        mss_row("helene.martin@medecin.mssante.fr", "810001045367"),
    ]
    import_file(engine, write_extract(tmp_path / "PS_LibreAcces_Personne_activite_1.txt",
                                      PA_HEADER, activities))  # fmt: skip
    bal_file = tmp_path / "Extraction_Correspondance_MSSante_1.txt"
    import_file(engine, write_extract(bal_file, MSS_HEADER, bals))
    # The retired doctor's BAL disappears from the next extract: inactive.
    import_file(engine, write_extract(bal_file, MSS_HEADER, bals[:3] + bals[4:]))
    yield engine
    engine.dispose()


def _verify(
    engine: Engine, address: str, roster: tuple[RosterDoctor, ...] = ROSTER
) -> SenderIdentity:
    with Session(engine) as session:
        return verify_sender(session, address, roster)


def test_roster_doctor_is_verified_from_the_roster(engine: Engine) -> None:
    identity = _verify(engine, "Dr Hélène Martin <Helene.Martin@Medecin.MSSante.fr>")
    assert identity == SenderIdentity(
        verified=True,
        profession_code="10",
        speciality_code="SM54",
        rpps="10001045367",
        is_member=True,
        source="roster",
    )
    assert _verify(engine, "paul.roux@ch-exemple.mssante.fr").is_member is False


def test_directory_sender_gets_profession_and_speciality_from_activities(engine: Engine) -> None:
    identity = _verify(engine, "derm@medecin.mssante.fr")
    assert identity == SenderIdentity(
        verified=True,
        profession_code="10",
        speciality_code="SM15",  # from the activity, the BAL row had none
        rpps="10009999999",
        is_member=False,  # a roster exists and does not list them
        source="directory",
    )
    nurse = _verify(engine, "infirmiere@infirmier.mssante.fr", ())
    assert (nurse.verified, nurse.profession_code, nurse.speciality_code) == (True, "60", None)
    assert nurse.is_member is None  # no roster: nobody can tell


def test_organisation_mailbox_is_verified_without_profession(engine: Engine) -> None:
    identity = _verify(engine, "secretariat@cabinet.mssante.fr")
    assert identity.verified and identity.source == "directory"
    assert identity.rpps is None and identity.profession_code is None


def test_patient_mailbox_is_flagged_and_not_verified(engine: Engine) -> None:
    identity = _verify(engine, "Jean Dupont <jean.dupont@patient.mssante.fr>")
    assert identity == SenderIdentity(is_patient_mailbox=True)


def test_unknown_and_inactive_addresses_are_unverified(engine: Engine) -> None:
    assert _verify(engine, "someone@gmail.com") == SenderIdentity(is_member=False)
    assert _verify(engine, "retraite@medecin.mssante.fr").verified is False
    assert _verify(engine, "") == SenderIdentity()


def test_pure_matching() -> None:
    adeli = DirectoryEntry("PER", "0751234567", "95", None)
    identity = identify("d@diet.mssante.fr", (), adeli)
    assert identity.verified and identity.rpps is None and identity.profession_code == "95"
