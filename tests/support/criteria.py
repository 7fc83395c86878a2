"""The DAC's situation criteria, written out once for the tests, not read from the code
under test."""

from __future__ import annotations

__all__ = ["DAC_CRITERIA"]

DAC_CRITERIA = (
    "polypathologie",
    "pathologie_desequilibree",
    "hospitalisations_repetees",
    "isolement_social",
    "vulnerabilite_sociale",
    "pratiques_inadaptees",
    "dependance_multi_acteurs",
)
