"""What the NLP pipeline leaves in memory once built."""

from __future__ import annotations

import gc
import re

from parsers.prose import warm_up


def test_spacys_french_token_match_is_not_kept() -> None:
    # spaCy's French defaults compile one regex of every hyphenated French word; the EDS
    # tokenizer never reads it, and every parse worker would hold it.
    warm_up()
    largest = max(
        (len(obj.pattern) for obj in gc.get_objects() if isinstance(obj, re.Pattern)),
        default=0,
    )
    assert largest < 200_000
