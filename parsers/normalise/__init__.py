"""Value normalisers: from text as written to typed values. Pure, no I/O."""
