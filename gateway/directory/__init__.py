"""The directory: Annuaire Santé extracts, the CPTS roster, and who a sender is."""
