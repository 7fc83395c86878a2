"""A realistic corpus of French secure-health mails with their ground truth.

The expected verdicts and fields come from the seed pages (003 signalement, 002
télé-expertise, 004 DAC, 000 médecin référent) and DOMAIN.md, never from the code
under test: nothing here imports ``parsers``, ``rules`` or ``gateway``.
"""

from __future__ import annotations

from .corpus import generate
from .directory import KNOWN_PROFESSIONALS, MAILBOXES, ROSTER
from .model import PROGRAMMES, Professional, RealisticRequest, RosterEntry, Verdict
from .styles import STYLES
from .territory import TERRITORY_COMMUNES, TERRITORY_POSTAL_CODES

__all__ = [
    "KNOWN_PROFESSIONALS",
    "MAILBOXES",
    "PROGRAMMES",
    "ROSTER",
    "STYLES",
    "TERRITORY_COMMUNES",
    "TERRITORY_POSTAL_CODES",
    "Professional",
    "RealisticRequest",
    "RosterEntry",
    "Verdict",
    "generate",
]
