"""Mail addresses as the gateway compares them: bare, lower-case; patient mailboxes."""

from __future__ import annotations

from email.utils import parseaddr

__all__ = ["PATIENT_DOMAIN", "is_patient_mailbox", "normalise_address"]

PATIENT_DOMAIN = "patient.mssante.fr"


def normalise_address(address: str) -> str:
    """``"Dr X <X@Medecin.MSSante.fr>"`` → ``"x@medecin.mssante.fr"``; ``""`` if none."""
    try:
        _name, addr = parseaddr(address)
    except (RecursionError, ValueError, IndexError):  # "((((…": one recursion per "("
        addr = ""
    addr = (addr or address).strip().strip("<>").strip().lower()
    return addr if "@" in addr else ""


def is_patient_mailbox(address: str) -> bool:
    domain = normalise_address(address).rpartition("@")[2]
    return domain == PATIENT_DOMAIN or domain.endswith("." + PATIENT_DOMAIN)
