"""Every rule, by id. Listed explicitly: nothing registers itself on import."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from rules import (
    ald_in_list,
    consent_given,
    dac_complexity,
    dac_requester,
    dsp_active,
    filiere_open,
    no_medecin_traitant,
    patient_in_territory,
    reporter_is_professional,
    requerant_profession_allowed,
    requerant_yearly_limit,
    requis_in_filiere,
    sender_verified,
    situation_eligible,
    te_quota_per_patient,
)
from rules.base import Rule

__all__ = ["RULES"]

_ALL: tuple[Rule[Any], ...] = (
    sender_verified.RULE,
    reporter_is_professional.RULE,
    patient_in_territory.RULE,
    no_medecin_traitant.RULE,
    situation_eligible.RULE,
    requerant_profession_allowed.RULE,
    filiere_open.RULE,
    consent_given.RULE,
    requis_in_filiere.RULE,
    te_quota_per_patient.RULE,
    requerant_yearly_limit.RULE,
    dac_requester.RULE,
    dac_complexity.RULE,
    ald_in_list.RULE,
    dsp_active.RULE,
)

RULES: Mapping[str, Rule[Any]] = MappingProxyType({rule.id: rule for rule in _ALL})
