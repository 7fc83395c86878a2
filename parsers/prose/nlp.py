"""The EDS-NLP pipeline: sentences, normalisation, the vocabulary's matcher and qualifiers.

Built once per process (each parse worker loads it when it starts) and rule-based: it
needs no model download. ``eds.dates`` is left out on purpose: it imports pandas and
pyarrow (about 100 MB per worker) for what ``parsers.normalise.dates`` already reads; the
qualifiers conjugate their verbs without pandas (:mod:`parsers.prose.qualifiers`).
"""

from __future__ import annotations

import logging
import multiprocessing.util
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from parsers.prose.vocabulary import Vocabulary, vocabulary
from parsers.text import fold

__all__ = ["Mention", "mentions"]

_MAX_CHARS = 20_000  # prose read per source; forms and mails are far shorter
_FUZZY_MIN_CHARS = 12  # shorter terms ("ALD", "RSA") match exactly or not at all


@dataclass(frozen=True)
class Mention:
    """One concept found in a sentence, with EDS-NLP's qualifiers."""

    concept: str
    span: str  # the words matched, as written
    start: int  # character offsets in the text given
    end: int
    sentence: str
    sentence_start: int
    negated: bool
    hypothetical: bool
    family: bool
    reported: bool


_FUZZY_SPANS = "fuzzy_context"


_SIMSTRING_PREFIX = "aiguilleur-simstring-"


def _sweep_simstring_folders() -> None:
    """Remove the index folders of processes that no longer exist."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_SIMSTRING_PREFIX}*-*"):
        pid = folder.name.removeprefix(_SIMSTRING_PREFIX).split("-", 1)[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class _FuzzyContext:
    """Marks the sentences worth a fuzzy look: those holding a word one typo away from a word
    of a fuzzy term ("traitent" for "traitant"), found with delete neighbourhoods. Simstring
    tries every window of up to four tokens, about 40 µs each: most sentences need none."""

    def __init__(self, terms: dict[str, list[str]]) -> None:
        base = {
            word
            for values in terms.values()
            for term in values
            for word in fold(term).split()
            if len(word) >= 6
        }
        # "accidents", "arretes": an inflection is known, never a typo.
        self._known = {
            inflected
            for word in base
            for inflected in (word, word + "s", word + "e", word + "es", word.rstrip("s"))
        }
        self._base = base
        self._near = {d for word in base for d in _deletes(word)}

    def _typo(self, token: str) -> bool:
        if len(token) < 6 or token in self._known:
            return False
        return token in self._near or any(
            d in self._base or d in self._near for d in _deletes(token)
        )

    def __call__(self, doc: Any) -> Any:
        doc.spans[_FUZZY_SPANS] = [
            sentence
            for sentence in doc.sents
            if any(self._typo(token) for token in fold(sentence.text).split())
        ]
        return doc


def _drop_french_token_match(nlp: Any) -> bool:
    """Let go of spaCy's French ``TOKEN_MATCH``: one regex of every hyphenated French word
    (a 1.4 MB pattern), compiled when ``spacy.lang.fr`` is imported, that the EDS tokenizer
    never reads. No French pipeline of spaCy's own is built in this process after ours.
    True when it was dropped."""
    if getattr(nlp.tokenizer, "token_match", None) is not None:
        return False  # a tokenizer that does read it: keep it
    import spacy.lang.fr
    import spacy.lang.fr.tokenizer_exceptions

    holders = (
        (spacy.lang.fr.FrenchDefaults, "token_match"),
        (spacy.lang.fr, "TOKEN_MATCH"),
        (spacy.lang.fr.tokenizer_exceptions, "TOKEN_MATCH"),
    )
    for holder, name in holders:
        setattr(holder, name, None)
    re.purge()  # re's cache of compiled patterns holds it too
    return True


def _quiet() -> None:
    # EDS-NLP logs through loguru and warns about optional pipes; neither is ours to show.
    try:
        from loguru import logger

        logger.disable("edsnlp")
    except ImportError:  # pragma: no cover - loguru comes with edsnlp
        pass
    logging.getLogger("edsnlp").setLevel(logging.ERROR)


@cache
def _pipeline() -> Any:
    _quiet()
    import edsnlp
    import edsnlp.pipes as eds

    from parsers.prose import qualifiers

    words: Vocabulary = vocabulary()
    nlp = edsnlp.blank("eds")
    _drop_french_token_match(nlp)
    nlp.add_pipe(eds.sentences())
    nlp.add_pipe(eds.normalizer())
    nlp.add_pipe(
        eds.matcher(
            terms={key: list(c.terms) for key, c in words.concepts.items() if c.terms},
            regex={key: list(c.regex) for key, c in words.concepts.items() if c.regex},
            attr="NORM",
        )
    )
    # Typos in long terms ("médecin traitent", "hospitalisaton"): a fuzzy second pass.
    # Only concepts marked ``fuzzy``: "entourage présent" must not pass for "entourage absent".
    fuzzy = {
        key: [t for t in c.terms if len(t) >= _FUZZY_MIN_CHARS]
        for key, c in words.concepts.items()
        if c.fuzzy
    }
    fuzzy = {key: terms for key, terms in fuzzy.items() if terms}
    if fuzzy:
        # Simstring keeps its n-gram index on disk: one folder per process, removed at exit
        # (multiprocessing's finalizers run in pool workers too, atexit does not), and
        # those of processes killed before their exit are swept by the next one.
        _sweep_simstring_folders()
        folder = tempfile.TemporaryDirectory(prefix=f"{_SIMSTRING_PREFIX}{os.getpid()}-")
        multiprocessing.util.Finalize(None, folder.cleanup, exitpriority=0)
        nlp.add_pipe(
            eds.matcher(
                terms=fuzzy,
                attr="NORM",
                term_matcher="simstring",
                term_matcher_config={"threshold": 0.8, "measure": "dice", "path": folder.name},
                context_getter=_FUZZY_SPANS,
            ),
            name="fuzzy_matcher",
        )

    nlp.add_pipe(
        qualifiers.negation(
            preceding=[*qualifiers.NEGATION.preceding, *words.negation_preceding],
            following=[*qualifiers.NEGATION.following, *words.negation_following],
        )
    )
    nlp.add_pipe(
        qualifiers.hypothesis(
            preceding=[*qualifiers.HYPOTHESIS.preceding, *words.hypothesis_preceding],
            following=[*qualifiers.HYPOTHESIS.following, *words.hypothesis_following],
        )
    )
    nlp.add_pipe(eds.family())
    nlp.add_pipe(qualifiers.reported_speech())
    if fuzzy:
        # Added last, once every pipe has built its patterns (they read each pipe's meta, and
        # this plain callable has none), but run before the fuzzy matcher.
        nlp.add_pipe(_FuzzyContext(fuzzy), name=_FUZZY_SPANS, before="fuzzy_matcher")
    return nlp


def warm_up() -> None:
    """Load the pipeline now (the parse workers' fork server calls this once).

    The typo makes the fuzzy matcher open its index too, so that forked workers share it.
    """
    _pipeline()("Chargement du médecin traitent.")


def mentions(text: str) -> list[Mention]:
    """Every concept mention in ``text``, in order."""
    text = text[:_MAX_CHARS]
    if not text.strip():
        return []
    doc = _pipeline()(text)
    found: list[Mention] = []
    for ent in doc.ents:
        sentence = ent.sent
        found.append(
            Mention(
                concept=ent.label_,
                span=ent.text,
                start=ent.start_char,
                end=ent.end_char,
                sentence=sentence.text.strip(),
                sentence_start=sentence.start_char,
                negated=bool(ent._.negation),
                hypothetical=bool(ent._.hypothesis),
                family=bool(ent._.family),
                reported=bool(ent._.reported_speech),
            )
        )
    return found
