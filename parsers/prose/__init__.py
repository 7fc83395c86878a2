"""Reading what professionals write in prose: French clinical text, identities, who writes.

``prose_extraction`` turns the free text of one source (mail body, free-text form values,
CDA narrative, PDF text layer) into typed candidates, each with the sentence it came
from, the words matched and their qualifiers (negated, hypothetical, about a relative).
Labelled values of the same source win over prose: prose fills what labels left empty.
"""

from parsers.prose.extract import SUBJECT, WRITER_HINT, prose_candidates, warm_up

__all__ = ["SUBJECT", "WRITER_HINT", "prose_candidates", "warm_up"]
