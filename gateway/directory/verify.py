"""Who sent this mail? The sender's address against the roster, then the MSSanté directory.

Order: a patient mailbox (``…@patient.mssante.fr``) is flagged as such and never
matched further; then the CPTS roster (by email); then the active MSSanté
address, completed by the professional's active activities. Anything else is
unverified. The matching is pure (``identify``); only ``lookup_directory`` reads
the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam
from sqlalchemy import select as core_select  # sqlmodel's takes at most four columns
from sqlmodel import Session, col, select

from gateway.routing.roster import RosterDoctor
from gateway.storage import repo
from gateway.storage.directory_models import MssanteAddress, Professional
from parsers.normalise.addresses import is_patient_mailbox, normalise_address
from rules.context import SenderIdentity

__all__ = ["DirectoryEntry", "identify", "lookup_directory", "verify_sender"]

MEDECIN = "10"  # TRE_G15: roster entries are doctors


@dataclass(frozen=True)
class DirectoryEntry:
    """What the directory holds about one active MSSanté address."""

    bal_type: str  # PER, ORG…
    national_id: str | None  # "8" + RPPS or "0" + ADELI
    profession_code: str | None
    speciality_code: str | None


def _rpps(national_id: str | None) -> str | None:
    """The RPPS in a national PP id ("8" + RPPS); ADELI ids have none."""
    if national_id and national_id.startswith("8") and len(national_id) == 12:
        return national_id[1:]
    return None


def identify(
    address: str, roster: Sequence[RosterDoctor], entry: DirectoryEntry | None
) -> SenderIdentity:
    """The sender's identity from the roster and what the directory said (pure)."""
    addr = normalise_address(address)
    if not addr:
        return SenderIdentity()
    if is_patient_mailbox(addr):
        return SenderIdentity(is_patient_mailbox=True)
    doctor = next((d for d in roster if d.email.strip().lower() == addr), None)
    if doctor is not None:
        return SenderIdentity(
            verified=True,
            profession_code=MEDECIN,
            speciality_code=doctor.speciality_code,
            rpps=doctor.rpps,
            is_member=doctor.cpts_member,
            source="roster",
        )
    if entry is None:
        return SenderIdentity(is_member=False if roster else None)
    rpps = _rpps(entry.national_id)
    member = next((d.cpts_member for d in roster if rpps and d.rpps == rpps), None)
    return SenderIdentity(
        verified=True,
        profession_code=entry.profession_code,
        speciality_code=entry.speciality_code,
        rpps=rpps,
        # Without a roster nobody can tell; with one, absence means "not a member".
        is_member=(member if member is not None else False) if roster else None,
        source="directory",
    )


def lookup_directory(session: Session, address: str) -> DirectoryEntry | None:
    """The active MSSanté entry for ``address``, its profession and speciality taken from
    the professional's active activities when there are any, else from the BAL row."""
    addr = normalise_address(address)
    if not addr:
        return None
    bal = repo.read(session, _ACTIVE_BAL, {"address": addr}).first()
    if bal is None:
        return None
    bal_type, national_id, profession, speciality = bal
    if national_id:
        activity = repo.read(session, _ACTIVITY, {"national_id": national_id}).first()
        if activity is not None:
            profession = activity[0] or profession
            speciality = activity[1] or speciality
    return DirectoryEntry(bal_type, national_id, profession, speciality)


# Built once: every sender outside the roster is looked up.
_ACTIVE_BAL = core_select(
    col(MssanteAddress.bal_type),
    col(MssanteAddress.national_id),
    col(MssanteAddress.profession_code),
    col(MssanteAddress.savoir_faire_code),
).where(col(MssanteAddress.address) == bindparam("address"), col(MssanteAddress.active).is_(True))
_ACTIVITY = (
    select(Professional.profession_code, Professional.savoir_faire_code)
    .where(
        col(Professional.national_id) == bindparam("national_id"),
        col(Professional.active).is_(True),
    )
    # Deterministic: activities with a savoir-faire first, then by codes.
    .order_by(
        (col(Professional.savoir_faire_code) == "").asc(),
        col(Professional.profession_code),
        col(Professional.savoir_faire_code),
    )
)


def verify_sender(session: Session, address: str, roster: Sequence[RosterDoctor]) -> SenderIdentity:
    """Patient mailbox, roster, then directory; ``verified=False`` when nobody knows it."""
    addr = normalise_address(address)
    if not addr or is_patient_mailbox(addr):
        return identify(addr, roster, None)
    if any(d.email.strip().lower() == addr for d in roster):
        return identify(addr, roster, None)
    return identify(addr, roster, lookup_directory(session, addr))
