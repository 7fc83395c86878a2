"""From a label's type and the value as written to typed (path, value) pairs."""

from __future__ import annotations

import re
from collections.abc import Callable

from parsers.envelope import find_case_reference
from parsers.fields import FieldValue
from parsers.kind import kind_from_text
from parsers.normalise.dates import parse_date
from parsers.normalise.geo import find_postal_code, normalise_insee_code, normalise_postal_code
from parsers.normalise.ins import check_ins
from parsers.normalise.phones import normalise_phone
from parsers.normalise.referentials import (
    ald_numbers,
    match_filiere,
    match_profession,
    match_role,
    match_speciality,
    profession_label,
)
from parsers.normalise.yesno import parse_yes_no
from parsers.text import TICK_MARKS, TICKED, fold, has_tick, is_ticked

__all__ = ["Normalised", "normalise_value"]


class Normalised:
    """The outcome for one raw value: pairs to record and problem codes."""

    __slots__ = ("pairs", "problems")

    def __init__(self) -> None:
        self.pairs: list[tuple[str, FieldValue]] = []
        self.problems: list[str] = []  # full problem codes

    def set(self, path: str, value: FieldValue) -> None:
        self.pairs.append((path, value))

    def set_parsed(self, path: str, value: FieldValue | None) -> None:
        """Record ``value``, or the problem ``<path>.invalid`` when it could not be read."""
        if value is None:
            self.problems.append(f"{path}.invalid")
        else:
            self.set(path, value)


# Bounded, and anchored at the start of a run: "[\w.+'-]+@" alone rescans the whole run
# from each of its characters when no "@" follows (quadratic on a long value).
_EMAIL = re.compile(r"(?<![\w.+'-])[\w.+'-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,10}")
_RPPS = re.compile(r"(?<!\d)(?:8)?(\d{11})(?!\d)")
_SPACES = re.compile(r"\s+")
_PLACEHOLDER = re.compile(
    r"^[\s_.…\-–]*$|^(?:cliquez|click|choisissez|choose|entrez|enter|tapez|saisir)\b", re.IGNORECASE
)


def _ticked_text(value: str) -> str:
    """ "☐ ORL ☒ Dermatologie" -> "Dermatologie"; text without ticks unchanged."""
    if not has_tick(value):
        return value
    marks = "".join(sorted(TICK_MARKS))
    chosen = [
        m.group(2).strip()
        for m in re.finditer(f"([{marks}])([^{marks}]*)", value)
        if m.group(1) in TICKED
    ]
    return ", ".join(c for c in chosen if c)


def _text(path: str, value: str, out: Normalised) -> None:
    out.set(path, _SPACES.sub(" ", value).strip())


def _long_text(path: str, value: str, out: Normalised) -> None:
    out.set(path, "\n".join(line.rstrip() for line in value.strip().splitlines()))


def _name_list(path: str, value: str, out: Normalised) -> None:
    names = [n for n in re.split(r"[\s,;]+", value.strip()) if n]
    if names:
        out.set(path, names)


_IDENTIFIER = re.compile(
    r"[(\[,;-]?\s*\b(?:n\s*°\s*)?(rpps|adeli|finess|ins|nir)\b\s*(?:n\s*°)?\s*[:=]?\s*"
    r"([0-9][0-9 .]{7,24}[0-9])\s*[)\]]?",
    re.IGNORECASE,
)
_TITLES = frozenset(
    {"dr", "docteur", "pr", "professeur", "mme", "m", "mr", "madame", "monsieur", "mlle", "me"}
)


def _person(path: str, value: str, out: Normalised) -> None:
    # "Dr Jeanne MARTIN (RPPS 10100000029)": identifiers come out first, then upper-case
    # words are the family name.
    prefix = path.rsplit(".", 1)[0]
    for match in _IDENTIFIER.finditer(value):
        digits = re.sub(r"\D", "", match.group(2))
        if match.group(1).lower() == "rpps" and len(digits) in (11, 12):
            out.set(f"{prefix}.rpps", digits[-11:])
    value = _IDENTIFIER.sub(" ", value)
    value = re.sub(r"\([^)]*\)", " ", value)
    words = [w.strip(",;.") for w in re.split(r"\s+", value.strip()) if w.strip(",;.")]
    words = [w for w in words if fold(w) not in _TITLES and any(c.isalpha() for c in w)]
    family = [w for w in words if w.isupper() and len(w) > 1]
    given = [w for w in words if w not in family]
    if not family and len(words) >= 2:
        # "Paul Voirin": in prose and signatures the given name comes first.
        family, given = words[1:], words[:1]
    elif not family:
        family, given = words, []
    if family:
        out.set(f"{prefix}.family_name", " ".join(family))
    if given and prefix == "patient":
        out.set("patient.given_names", given)
    elif given:
        out.set(f"{prefix}.given_name", " ".join(given))


def _date(path: str, value: str, out: Normalised) -> None:
    out.set_parsed(path, parse_date(value))


def _ins(path: str, value: str, out: Normalised) -> None:
    cleaned, status = check_ins(value)
    if status == "ok":
        out.set(path, cleaned)
    else:
        out.problems.append(f"{path}.{status}")


def _postal(path: str, value: str, out: Normalised) -> None:
    code = normalise_postal_code(value) or find_postal_code(value)
    if code is None:
        out.problems.append(f"{path}.invalid")
    else:
        out.set(path, code)
        rest = re.sub(r"\d{5}", "", value).strip(" ,-")
        if rest and fold(rest) and not rest.isdigit():
            out.set("patient.city", _SPACES.sub(" ", rest))


def _insee(path: str, value: str, out: Normalised) -> None:
    out.set_parsed(path, normalise_insee_code(value))


_AGE_VALUE = re.compile(r"^\s*(\d{1,3})\s*(ans?|mois)?\b", re.IGNORECASE)
_COMMUNE_ONLY = re.compile(r"^[^\d,;]{2,50}$")


def _age(path: str, value: str, out: Normalised) -> None:
    match = _AGE_VALUE.match(value)
    if match is None:
        out.problems.append(f"{path}.invalid")
        return
    number, unit = int(match.group(1)), (match.group(2) or "ans").lower()
    if unit == "mois" and number <= 36:
        out.set("patient.age_months", number)
    elif unit != "mois" and number <= 120:
        out.set("patient.age_years", number)
    else:
        out.problems.append(f"{path}.invalid")


def _address(path: str, value: str, out: Normalised) -> None:
    out.set(path, _SPACES.sub(" ", value).strip())
    code = find_postal_code(value)
    if (
        not code
        and _COMMUNE_ONLY.match(value.strip())
        and not re.search(
            r"\b(?:rue|avenue|chemin|place|route|impasse|allee|boulevard|lieu dit)\b", fold(value)
        )
    ):
        out.set("patient.city", _SPACES.sub(" ", value).strip())  # "Domicile : VAGNEY"
    if code:
        out.set("patient.postal_code", code)
        after = value.split(code, 1)[1].strip(" ,-\n")
        if after and not any(c.isdigit() for c in after):
            out.set("patient.city", _SPACES.sub(" ", after))


def _phone(path: str, value: str, out: Normalised) -> None:
    out.set_parsed(path, normalise_phone(value))


def _email(path: str, value: str, out: Normalised) -> None:
    match = _EMAIL.search(value)
    out.set_parsed(path, match.group(0).lower() if match else None)


def _bool(path: str, value: str, out: Normalised) -> None:
    parsed = parse_yes_no(value)
    if parsed is not None:
        out.set(path, parsed)


def _bool_not(path: str, value: str, out: Normalised) -> None:
    parsed = parse_yes_no(value)
    if parsed is not None:
        out.set(path, not parsed)


# "Dr X, parti à la retraite, non remplacé": a médecin traitant named but gone is none today.
_MT_GONE = re.compile(
    r"\b(?:retraite|non remplace|pas remplace|decede|deces|demenage|cesse|cessation|"
    r"ne (?:le |la )?suit plus|ne consulte plus|ancien|ancienne|precedent|est partie?|"
    r"a quitte|depart|ferme|en recherche|recherche|cherche|ne prend plus)\b"
)
_NEGATIVE = (
    "aucun",
    "aucune",
    "pas ",
    "sans",
    "non",
    "neant",
    "nul",
    "nulle",
    "ni ",
    "jamais",
    "toujours pas",
    "n a pas",
    "n est pas",
    "ne ",
)
_PENDING = re.compile(r"\b(?:en cours|en attente|a demander|a faire|demande en cours|a prevoir)\b")


def _medecin_traitant(path: str, value: str, out: Normalised) -> None:
    yes_no = parse_yes_no(value)
    folded = fold(value)
    if yes_no is False or folded.startswith(_NEGATIVE) or _MT_GONE.search(folded):
        out.set("patient.has_medecin_traitant", False)
        if yes_no is None and not folded.startswith(_NEGATIVE):
            out.set(path, _SPACES.sub(" ", value).strip())
        return
    if yes_no is True:
        out.set("patient.has_medecin_traitant", True)
        return
    out.set(path, _SPACES.sub(" ", value).strip())
    out.set("patient.has_medecin_traitant", True)


def _nothing_ticked(value: str) -> bool:
    """ "☐ oui ☐ non": boxes offered, none ticked: the form says nothing."""
    return has_tick(value) and not is_ticked(value)


def _criterion(path: str, value: str, out: Normalised) -> None:
    """A criterion's box or line: yes/no, or words that state it ("vit seule depuis 2019")."""
    if _nothing_ticked(value):
        words = set(fold(value).split())
        if not words or words - {"oui", "non"}:
            out.set(path, False)  # "☐" or "☐ Patient sortant d'hospitalisation": left empty
        return  # "☐ oui ☐ non": neither box ticked, the form says nothing
    parsed = parse_yes_no(value)
    folded = fold(value)
    if _PENDING.search(folded):
        return  # "en cours de demande" is not yet a fact
    if parsed is not None:
        out.set(path, parsed)
    elif folded.startswith(_NEGATIVE):
        out.set(path, False)
    elif folded:
        out.set(path, True)


def _rpps(path: str, value: str, out: Normalised) -> None:
    match = _RPPS.search(re.sub(r"[\s.]", "", value))
    out.set_parsed(path, match.group(1) if match else None)


def _profession(path: str, value: str, out: Normalised) -> None:
    code = match_profession(value)
    prefix = path.rsplit(".", 1)[0]
    out.set(f"{prefix}.profession_label", _SPACES.sub(" ", value).strip())
    if code is not None:
        out.set(f"{prefix}.profession_code", code)
        label = profession_label(code)
        if label and fold(label) == fold(value):
            out.pairs[-2] = (f"{prefix}.profession_label", label)
    speciality = match_speciality(value)
    if speciality is not None and code in (None, "10"):
        out.set(f"{prefix}.speciality_code", speciality)


def _speciality(path: str, value: str, out: Normalised) -> None:
    code = match_speciality(value)
    prefix = path.rsplit(".", 1)[0]
    if code is None:
        out.problems.append(f"{prefix}.speciality_code.invalid")
    else:
        out.set(f"{prefix}.speciality_code", code)


def _role(path: str, value: str, out: Normalised) -> None:
    role = match_role(_ticked_text(value))
    if role is not None:
        out.set(path, role)


def _ald(path: str, value: str, out: Normalised) -> None:
    folded = fold(value)
    if _nothing_ticked(value):
        if not folded:
            out.set("situation.ald_declared", False)  # "☐ Patient en ALD": box left empty
        return  # "☐ oui ☐ non": neither box ticked
    if _PENDING.search(folded):
        return  # an ALD "en cours de demande" is not an ALD yet
    numbers = ald_numbers(_ticked_text(value) if has_tick(value) else value, bare_numbers=True)
    yes_no = parse_yes_no(value)
    if numbers and not folded.startswith(_NEGATIVE):
        out.set(path, numbers)
        out.set("situation.ald_declared", True)
    elif yes_no is not None:
        out.set("situation.ald_declared", yes_no)
    elif folded.startswith(_NEGATIVE):
        out.set("situation.ald_declared", False)  # "ALD : aucune", "pas d'ALD"
    elif folded:
        out.set("situation.ald_declared", True)  # "ALD : cardiopathie" names one we cannot number


def _filiere(path: str, value: str, out: Normalised) -> None:
    written = _ticked_text(value)
    filiere = match_filiere(written)
    if filiere is None:
        out.problems.append(f"{path}.invalid")
    else:
        out.set(path, filiere)
        out.set("tele_expertise.filiere_label", _SPACES.sub(" ", written).strip()[:120])


def _urgency(path: str, value: str, out: Normalised) -> None:
    folded = fold(_ticked_text(value))
    yes_no = parse_yes_no(value)
    if "urgent" in folded or yes_no is True:
        out.set(path, "urgente")
    elif folded or yes_no is False:
        out.set(path, "normale")


def _kind(path: str, value: str, out: Normalised) -> None:
    kind = kind_from_text(_ticked_text(value))
    if kind is not None:
        out.set(path, kind)


def _reference(path: str, value: str, out: Normalised) -> None:
    reference = find_case_reference(value.upper())
    if reference:
        out.set(path, reference)


def _sex(path: str, value: str, out: Normalised) -> None:
    folded = fold(_ticked_text(value))
    if folded in {"f", "feminin", "femme", "madame", "mme", "fille", "female", "w", "mlle"}:
        out.set(path, "F")
    elif folded in {"m", "h", "masculin", "homme", "monsieur", "mr", "garcon", "male"}:
        out.set(path, "M")
    elif folded in {"u", "inconnu", "indetermine", "autre", "x"}:
        out.set(path, "U")
    else:
        out.problems.append(f"{path}.invalid")


_NORMALISERS: dict[str, Callable[[str, str, Normalised], None]] = {
    "text": _text,
    "long_text": _long_text,
    "name_list": _name_list,
    "person": _person,
    "date": _date,
    "ins": _ins,
    "postal_code": _postal,
    "insee_code": _insee,
    "address": _address,
    "phone": _phone,
    "email": _email,
    "bool": _bool,
    "bool_not": _bool_not,
    "criterion": _criterion,
    "age": _age,
    "medecin_traitant": _medecin_traitant,
    "rpps": _rpps,
    "profession": _profession,
    "speciality": _speciality,
    "role": _role,
    "ald": _ald,
    "filiere": _filiere,
    "urgency": _urgency,
    "kind": _kind,
    "reference": _reference,
    "sex": _sex,
}


def normalise_value(field_type: str, path: str, value: str) -> Normalised:
    """Apply the normaliser for ``field_type``; an empty or placeholder value yields nothing."""
    out = Normalised()
    if _PLACEHOLDER.match(value.strip()):
        return out
    if field_type not in (
        "bool",
        "bool_not",
        "criterion",
        "ald",
        "role",
        "filiere",
        "urgency",
        "kind",
        "sex",
        "medecin_traitant",
    ) and has_tick(value):
        value = _ticked_text(value)
        if not value:
            return out
    _NORMALISERS.get(field_type, _text)(path, value, out)
    return out
