"""EDS-NLP's negation, hypothesis and reported-speech qualifiers, conjugating their verbs with
:mod:`parsers.prose.verbs`: the lists their own ``load_verbs`` makes, without pandas.

Imported only where the pipeline is built: importing it imports EDS-NLP.
"""

from __future__ import annotations

from typing import Any

from parsers.prose.verbs import Conjugation, conjugations, defer_resources, terms

defer_resources()  # before the qualifiers' modules import get_verbs from it

from edsnlp.core import registry  # noqa: E402
from edsnlp.pipes.qualifiers.hypothesis import patterns as HYPOTHESIS  # noqa: E402, N812
from edsnlp.pipes.qualifiers.hypothesis.hypothesis import HypothesisQualifier  # noqa: E402
from edsnlp.pipes.qualifiers.negation import patterns as NEGATION  # noqa: E402, N812
from edsnlp.pipes.qualifiers.negation.negation import NegationQualifier  # noqa: E402
from edsnlp.pipes.qualifiers.reported_speech.reported_speech import (  # noqa: E402
    ReportedSpeechQualifier,
)

__all__ = ["HYPOTHESIS", "NEGATION", "hypothesis", "negation", "reported_speech"]

_PARTICIPLES = frozenset({"Participe Présent", "Participe Passé"})


def _present(row: Conjugation) -> bool:
    return row.mode == "Indicatif" and row.tense == "Présent"


def _past_participle(row: Conjugation) -> bool:
    return row.tense == "Participe Passé"


def _every(_row: Conjugation) -> bool:
    return True


class Negation(NegationQualifier):  # type: ignore[misc]
    def load_verbs(self, verbs: list[str]) -> tuple[list[str], list[str]]:
        rows = conjugations(verbs)
        preceding = terms(
            rows,
            lambda row: (
                _present(row) or row.tense in _PARTICIPLES or row.tense == "Infinitif Présent"
            ),
        )
        return preceding, terms(rows, _past_participle)


class Hypothesis(HypothesisQualifier):  # type: ignore[misc]
    def load_verbs(self, verbs_hyp: list[str], verbs_eds: list[str]) -> tuple[list[str], list[str]]:
        classic = terms(conjugations(verbs_eds), lambda row: row.mode == "Conditionnel")
        hypothesis = conjugations(verbs_hyp)
        return terms(hypothesis, _every) + classic, terms(hypothesis, _past_participle)


class ReportedSpeech(ReportedSpeechQualifier):  # type: ignore[misc]
    def load_verbs(self, verbs: list[str]) -> list[str]:
        return terms(
            conjugations(verbs),
            lambda row: (_present(row) and row.person in {"3s", "3p"}) or row.tense in _PARTICIPLES,
        )


# Registered as EDS-NLP factories, as its own qualifiers are: the pipeline then knows what each
# one assigns, which the pipes added after it read when they build their patterns.
negation: Any = registry.factory.register("aiguilleur.negation", assigns=["span._.negation"])(
    Negation
)
hypothesis: Any = registry.factory.register("aiguilleur.hypothesis", assigns=["span._.hypothesis"])(
    Hypothesis
)
reported_speech: Any = registry.factory.register(
    "aiguilleur.reported_speech", assigns=["span._.reported_speech"]
)(ReportedSpeech)
