"""Prose -> typed candidates with provenance (sentence, words matched, qualifiers)."""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from dataclasses import dataclass
from datetime import date

from parsers.field_catalog import find_field, find_section
from parsers.fields import Candidate, Extraction, FieldValue
from parsers.label_lines import match_label_value, normalise_ticks
from parsers.normalise.referentials import ald_numbers, match_filiere
from parsers.prose.identity import find_identity, is_forward_marker, is_sign_off
from parsers.prose.nlp import Mention, mentions, warm_up
from parsers.prose.vocabulary import Concept, vocabulary
from parsers.prose.writer import find_writer
from parsers.request import Provenance
from parsers.text import TICK_MARKS, fold

__all__ = ["SUBJECT", "WRITER_HINT", "prose_candidates", "warm_up"]

# A weak cue that a relative writes; the message decides with the sender's address.
WRITER_HINT = "reporter.writer_hint"
SUBJECT = "objet"  # the source name of a mail's subject, read as one line of prose

_FREE_TEXT = frozenset({"long_text"})
# A filière named right after the words that ask for one ("avis en dermatologie", "filière
# Urologie", "TE Bilio-pancréatique"): a speciality elsewhere in the text (a signature's
# "Médecin généraliste") is the writer's, not the filière asked for.
_FILIERE_ASKED = re.compile(
    r"\b(?:avis|expertise|teleexpertise|te|filiere|specialite|specialiste|discipline)"
    r"(?:\s+(?:en|de|d|du|des|la|le|medical|medicale|specialise|specialisee))*\s+(?P<rest>.{1,60})"
)
# A question asked of the requis: a question mark, or the words that ask one.
_QUESTION_CUE = re.compile(
    r"\?|\b(?:avis sur|votre avis concernant|conduite a tenir|que pensez|qu en pensez|faut il"
    r"|merci de me dire|savoir si|quelle prise en charge|quel traitement|quel bilan|quel examen"
    r"|quelle attitude|interpretation|interpreter|indication)\b"
)
_FILIERE_HEADINGS = frozenset(
    {"specialite", "specialite demandee", "specialite sollicitee", "filiere", "discipline"}
)
_REQUIS = re.compile(
    r"\b(?:attention (?:du|de)|avis (?:du|de)|adress[ée]e? (?:au|à)|destin[ée]e? (?:au|à)"
    r"|pour le|solliciter le|sollicite le)\s+(?P<name>(?:Dr\.?|Docteur|Pr\.?)\s+[A-ZÀ-Þ][\w'’\-]+"
    r"(?:\s+[A-ZÀ-Þ][\w'’\-]+)?)"
)


@dataclass(frozen=True)
class _Line:
    text: str
    locator: str


@functools.lru_cache(maxsize=4096)
def _structured(line: str) -> bool:
    """A labelled value the synonym table maps to a typed field: the mapper read it. A label
    alone on its line ("DSP activé", its box below) is a question, not a statement."""
    if any(c in TICK_MARKS for c in normalise_ticks(line)):
        return True
    bare = line.strip().rstrip(" :：")
    if (
        bare
        and len(bare.split()) <= 14
        and not re.search(r"[.!?:;]", bare)
        and find_field(bare) is not None
    ):
        return True
    match = match_label_value(line.strip())
    if match is None:
        return False
    label = match.group("label")
    if len(label.split()) > 6 or re.search(r"[.!?]\s", label):
        return False  # a sentence that happens to hold a colon: prose
    spec = find_field(match.group("label"))
    return spec is not None and spec.type not in _FREE_TEXT


def _source_lines(extraction: Extraction) -> list[_Line]:
    if extraction.text:
        return [
            _Line(line, f"ligne {number}")
            for number, line in enumerate(extraction.text.splitlines(), start=1)
        ]
    return [
        _Line(f"{raw.label} : {raw.value}", raw.locator)
        for raw in extraction.raw_fields
        if raw.value.strip()
    ]


def _qualifiers(mention: Mention, family_history: bool, voided: bool) -> list[str]:
    words = []
    if mention.negated:
        words.append("négation")
    if mention.hypothetical:
        words.append("hypothèse")
    if family_history:
        words.append("antécédent familial")
    if mention.reported:
        words.append("discours rapporté")
    if voided:
        words.append("contredit dans la phrase")
    return words


def _padded(text: str) -> str:
    return f" {fold(text, drop_parens=False)} "


def _bare(mention: Mention) -> bool:
    """The sentence says nothing but the term, after a label if any ("Situation : MT")."""
    rest = mention.sentence.replace(mention.span, " ", 1)
    rest = rest.split(":", 1)[1] if ":" in rest else rest
    return not any(c.isalpha() for c in rest)


def _judge(concept: Concept, mention: Mention) -> tuple[bool | None, list[str]]:
    """The value a mention gives, or None when it is no evidence (hypothesis, relative)."""
    sentence = _padded(mention.sentence)
    words = vocabulary()
    if concept.requires and not any(f" {w} " in sentence for w in concept.requires):
        return None, []
    if not concept.bare_counts and _bare(mention):
        return None, []
    family_history = mention.family and any(f" {w} " in sentence for w in words.family_history)
    voided = any(f" {w} " in sentence for w in concept.void)
    qualifiers = _qualifiers(mention, family_history, voided)
    if family_history:
        return None, qualifiers
    if voided:
        # "à la recherche d'un médecin traitant": EDS-NLP hears a hypothesis in "recherche",
        # but the sentence says there is none today.
        return (not concept.value), qualifiers
    if mention.hypothetical:
        return None, qualifiers
    if concept.negatable and mention.negated:
        return (not concept.value), qualifiers
    return concept.value, qualifiers


def _locate(starts: list[int], lines: list[_Line], offset: int) -> str:
    index = max(0, bisect.bisect_right(starts, offset) - 1)
    return lines[index].locator


def _add(
    extraction: Extraction,
    path: str,
    value: FieldValue,
    locator: str,
    sentence: str,
    span: str,
    qualifiers: list[str] | None = None,
) -> None:
    provenance = Provenance(
        source=extraction.source,
        kind=extraction.kind,
        locator=f"{locator} (texte libre)",
        raw=sentence[:500],
        span=span[:200],
        qualifiers=qualifiers or [],
    )
    extraction.candidates.append(Candidate(path, value, provenance))


def _without_signatures(lines: list[_Line]) -> list[_Line]:
    """Drop what follows a closing formula (a signature: "SSIAD", "Cabinet médical", ...)
    until a forwarded or quoted message starts, whose text counts again."""
    kept: list[_Line] = []
    signing = False
    for line in lines:
        if signing and is_forward_marker(line.text):
            signing = False
        if not signing and is_sign_off(line.text):
            signing = True
            continue
        if not signing:
            kept.append(line)
    return kept


_NEXT_SENTENCE = re.compile(r"[.!?;]\s+(?=\S)")


def _rest_of(line: _Line) -> _Line:
    """A labelled line read by the mapper: only what follows its first sentence is prose
    ("ALD : ALD 22. DSP ouvert et activé.")."""
    match = match_label_value(line.text.strip())
    value = match.group("value") if match is not None else ""
    parts = _NEXT_SENTENCE.split(value, maxsplit=1)
    return _Line(parts[1] if len(parts) == 2 else "", line.locator)


_TITLE_LINE = re.compile(r"^(?:fiche|formulaire|demande|signalement|dossier|declaration)\b")


def _is_title(extraction: Extraction, line: _Line) -> bool:
    """A document's title ("Fiche de signalement - patient sans médecin traitant") names the
    programme: it says nothing about this patient."""
    return extraction.kind not in ("body",) and _TITLE_LINE.match(fold(line.text)) is not None


def _patient_sections(lines: list[_Line]) -> list[_Line]:
    """Leave out what a form says under its "Signaleur" / "Demandeur" heading: the writer's
    own job ("aide à domicile") is not the patient's situation."""
    kept: list[_Line] = []
    section: str | None = None
    for line in lines:
        heading = find_section(line.text.strip().rstrip(" :：."))
        if heading is not None:
            section = heading
            continue
        if section != "reporter":
            kept.append(line)
    return kept


def _concepts(extraction: Extraction, patient_prose: list[_Line], filled: set[str]) -> None:
    """Criteria in prose; where a label of the same source says otherwise, both are kept, so
    that the disagreement reaches a coordinator instead of being settled by precedence."""
    labelled: dict[str, list[object]] = {}
    for candidate in extraction.candidates:
        labelled.setdefault(candidate.path, []).append(candidate.value)
    if extraction.source == SUBJECT:
        return  # a subject names the programme ("patient sans MT"); its identity is read above
    prose = [
        _rest_of(line) if _structured(line.text) else line
        for line in patient_prose
        if not _is_title(extraction, line)
    ]
    prose = [line for line in prose if line.text]
    if not prose:
        return
    starts: list[int] = []
    position = 0
    for line in prose:
        starts.append(position)
        position += len(line.text) + 1
    text = "\n".join(line.text for line in prose)
    concepts = vocabulary().concepts
    by_path: dict[str, list[tuple[bool, Mention, list[str]]]] = {}
    ald: list[int] = []
    ald_mention: tuple[Mention, list[str]] | None = None
    for mention in mentions(text):
        concept = concepts.get(mention.concept)
        if concept is None:
            continue
        value, qualifiers = _judge(concept, mention)
        if value is None:
            continue
        for path in concept.paths:
            if path in filled and value in labelled.get(path, []):
                continue  # the form already says so: a label wins over the same words
            by_path.setdefault(path, []).append((value, mention, qualifiers))
        if concept.key == "ald" and value:
            window = text[mention.start : mention.sentence_start + len(mention.sentence)][:80]
            numbers = [n for n in ald_numbers(window) if n not in ald]
            if numbers and ald_mention is None:
                ald_mention = (mention, qualifiers)
            ald.extend(numbers)
    for path, found in by_path.items():
        # A text that says both yes and no keeps both: the merge records the conflict, and
        # a coordinator decides when it would change the outcome.
        seen: set[bool] = set()
        for value, mention, qualifiers in found:
            if value in seen:
                continue
            seen.add(value)
            _add(
                extraction,
                path,
                value,
                _locate(starts, prose, mention.start),
                mention.sentence,
                mention.span,
                qualifiers,
            )
    if ald and ald_mention is not None and "situation.ald" not in filled:
        mention, qualifiers = ald_mention
        _add(
            extraction,
            "situation.ald",
            ald,
            _locate(starts, prose, mention.start),
            mention.sentence,
            mention.span,
            qualifiers,
        )


def _filiere_at_start(text: str) -> str | None:
    """The filière the first words name ("urologie pour des cystites" -> "urologie")."""
    words = text.split()
    for size in range(min(5, len(words)), 0, -1):
        found = match_filiere(" ".join(words[:size]))
        if found is not None:
            return found
    return None


def _tele_expertise(
    extraction: Extraction, lines: list[_Line], patient_prose: list[_Line], filled: set[str]
) -> None:
    prose = [line for line in patient_prose if not _structured(line.text)]
    if "tele_expertise.filiere" not in filled:
        # "Spécialité" as a heading (a CDA section), the filière on the next line.
        for heading, following in itertools.pairwise(lines):
            if fold(heading.text) in _FILIERE_HEADINGS and (
                filiere := match_filiere(following.text)
            ):
                _add(
                    extraction,
                    "tele_expertise.filiere",
                    filiere,
                    following.locator,
                    following.text,
                    following.text,
                )
                filled.add("tele_expertise.filiere")
                break
    if "tele_expertise.filiere" not in filled:
        for line in prose:
            bare = fold(line.text.replace("(", " ").replace(")", " "))
            asked = _FILIERE_ASKED.search(bare)
            if asked is not None and (filiere := _filiere_at_start(asked.group("rest"))):
                _add(
                    extraction,
                    "tele_expertise.filiere",
                    filiere,
                    line.locator,
                    line.text,
                    line.text,
                )
                break
    if "tele_expertise.requis_name" not in filled:
        for line in lines:
            if match := _REQUIS.search(line.text):
                name = match.group("name")
                _add(extraction, "tele_expertise.requis_name", name, line.locator, line.text, name)
                break
    if "tele_expertise.question" not in filled:
        questions = [line for line in prose if _QUESTION_CUE.search(fold(line.text) + line.text)]
        if questions:
            question = " ".join(line.text.strip() for line in questions[:3])[:1000]
            _add(
                extraction,
                "tele_expertise.question",
                question,
                questions[0].locator,
                question,
                questions[0].text,
            )


def _identity(extraction: Extraction, lines: list[_Line], filled: set[str]) -> None:
    text = "\n".join(line.text for line in lines)
    found = find_identity(text, subject=extraction.source == SUBJECT)
    by_text = {line.text.strip()[:300]: line.locator for line in lines}
    for path, (value, line, span) in found.values.items():
        if path in filled:
            continue
        if path == "patient.postal_code" and "patient.insee_code" in filled:
            continue
        if isinstance(value, (str, bool, int, date, list)):
            _add(extraction, path, value, by_text.get(line, "texte"), line, span)


def _writer(extraction: Extraction, lines: list[_Line], filled: set[str]) -> None:
    if "reporter.declared_role" in filled:
        return
    prose = "\n".join(line.text for line in lines if not _structured(line.text))
    cue = find_writer(prose)
    if cue is None:
        return
    role, strong, words = cue
    path = "reporter.declared_role" if strong else WRITER_HINT
    _add(extraction, path, role, "texte", words, words)


def prose_candidates(extraction: Extraction) -> None:
    """Add what the source says in prose, for the fields its labels left empty."""
    lines = _source_lines(extraction)
    if not lines:
        return
    filled = {candidate.path for candidate in extraction.candidates}
    _identity(extraction, lines, filled)
    # The patient's part: signatures and the writer's own section left out, computed once.
    patient_prose = _patient_sections(_without_signatures(lines))
    _concepts(extraction, patient_prose, filled)
    _tele_expertise(extraction, lines, patient_prose, filled)
    _writer(extraction, lines, filled)
