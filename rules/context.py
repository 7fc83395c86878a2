"""Facts a rule needs beyond the request, computed by the caller.

Rules never read a clock, a database or the network: the request date, the
sender's directory facts and the counters from storage all arrive here.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["RequisFacts", "RuleContext", "SenderIdentity"]


class SenderIdentity(BaseModel):
    """What the directory or the CPTS roster says about the sending mailbox."""

    model_config = ConfigDict(frozen=True)

    verified: bool = False  # found in the Annuaire extract or the roster
    is_patient_mailbox: bool = False  # ...@patient.mssante.fr
    profession_code: str | None = None  # TRE_G15
    speciality_code: str | None = None  # TRE_R38
    rpps: str | None = None
    is_member: bool | None = None  # CPTS member; None: no roster to tell
    source: Literal["directory", "roster"] | None = None


class RequisFacts(BaseModel):
    """Roster facts about the requis named in a télé-expertise request."""

    model_config = ConfigDict(frozen=True)

    found: bool  # the named doctor was matched in the roster
    rpps: str | None = None
    filieres: frozenset[str] = Field(default_factory=frozenset)


class RuleContext(BaseModel):
    model_config = ConfigDict(frozen=True)

    request_date: date  # ages and yearly counters are computed on this date
    sender: SenderIdentity = Field(default_factory=SenderIdentity)
    # Télé-expertise, set by the caller when relevant; None means "not computed".
    requis: RequisFacts | None = None  # None when no requis is named or none matched
    te_acts_last_year_for_patient_and_requis: int | None = Field(default=None, ge=0)
    requerant_acts_this_year: int | None = Field(default=None, ge=0)
