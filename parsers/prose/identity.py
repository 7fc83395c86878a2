"""Identities, ages, addresses and identifiers written in prose or on one line.

"Patient : THIRIET Jeanne, née le 02/03/1948, INS 2…", "Mme Jeanne Thiriet, 76 ans,
domiciliée 3 rue du Lac à Gérardmer", "Dr Paul Voirin (RPPS 10100000029)". Pure regular
expressions, each bounded (no nested repetition) so that a long line stays linear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from parsers.normalise.dates import parse_date
from parsers.normalise.ins import check_ins
from parsers.text import fold

__all__ = ["Found", "find_identity", "is_forward_marker", "is_sign_off"]

_UPPER = "A-ZÀ-ÖØ-Þ"
_LETTER = "A-Za-zÀ-ÖØ-öø-ÿ"
_WORD = rf"[{_UPPER}][{_LETTER}'’\-]{{1,30}}"
_NAME = rf"{_WORD}(?:[ \t]{_WORD}){{0,3}}"
_TITLE = r"(?:Mme|Madame|Mlle|Mademoiselle|M\.|Mr\.?|Monsieur)"
_DOCTOR = r"(?:Dr\.?|Docteur|Pr\.?|Professeur)"
_DATE = (
    r"\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}|\d{4}-\d{2}-\d{2}"
    r"|\d{1,2}(?:er)?[ \t]+[a-zA-Zéûè]{3,9}\.?[ \t]+\d{4}"
)

_TITLED = re.compile(
    rf"\b(?P<title>{_TITLE}|b[ée]b[ée]|l['’]enfant|la petite|le petit|nourrisson)[ \t]+"
    rf"(?P<name>{_NAME})"
)
_DOCTOR_NAME = re.compile(rf"\b{_DOCTOR}[ \t]+(?P<name>{_NAME})")
# Case-insensitive for the label only: the name itself must be capitalised.
_PATIENT_LABEL = re.compile(
    r"(?i:^\s*(?:(?:patient(?:\(e\)|e)?(?: concern[ée]e?)?|identit[ée](?: du patient"
    r"| de la patiente)?|personne concern[ée]e|b[ée]n[ée]ficiaire|usager"
    r"|concerne|objet[ \t]+:[ \t]+patiente?)\s*[:：\-–]\s*"
    r"(?:l['’]enfant |le petit |la petite |le b[ée]b[ée] |la jeune |le jeune )?"
    r"|.{0,80}?\bje m['’]appelle\s+))"
    rf"(?:(?P<title>{_TITLE})[ \t]+)?(?P<name>{_NAME})"
)
_BIRTH = re.compile(
    r"\b(?:n[ée]e?(?:[ \t]*\(e\))?[ \t]+le|date de naissance[ \t]*:?|ddn[ \t]*:?)[ \t]*"
    rf"(?P<date>{_DATE})",
    re.IGNORECASE,
)
_AGE = re.compile(
    r"(?P<pre>\bj['’]ai|\b(?:âgée?|agee?) de|\b(?:patiente?|homme|femme|dame|monsieur"
    r"|madame|enfant|bébé|bebe|nourrisson|garçon|garcon|fillette|personne|nouveau-né"
    r"|retraitée?) de|[,(\-–])"
    r"[ \t]*(?P<n>\d{1,3})[ \t]*(?P<unit>ans|mois)\b",
    re.IGNORECASE,
)
_PERSON_CUE = re.compile(
    rf"(?:{_TITLE}[ \t]+{_WORD}|\b(?:patiente?|mère|mere|père|pere|maman|papa|mari|épouse|epouse"
    r"|époux|epoux|fils|fille|enfant|bébé|bebe|nourrisson|grand-mère|grand-père|fillette|garçon))",
    re.IGNORECASE,
)
_DOMICILE = re.compile(
    r"\b(?:domicili[ée]e?s?|demeurant|r[ée]sidant|r[ée]side|r[ée]sidente?|habitant|habite|vivant"
    r"|vivant|vit|install[ée]e?|adresse|demeure|lieu de vie)\b(?P<rest>[^.\n;]{0,160})",
    re.IGNORECASE,
)
_CITY_WORD = rf"[{_UPPER}][{_LETTER}'’\-]{{1,30}}"
_LINK = r"sur|sous|en|lès|les|le|la|de|du|des|aux|d'|l'"
_CITY = rf"{_CITY_WORD}(?:[ \-](?:{_LINK}|{_CITY_WORD})){{0,5}}"
_POSTAL_CITY = re.compile(rf"(?<!\d)(?P<cp>\d{{5}})[ \t,]+(?P<city>{_CITY})(?P<cp2>)")
_AT_CITY = re.compile(rf"\b(?P<at>à|a|sur|au|aux)[ \t]+(?P<city>{_CITY})")
_STREET = re.compile(
    r"(?P<street>\d{1,4}(?:[ \t]?(?:bis|ter))?,?[ \t]+(?:rue|avenue|av\.|boulevard|bd|chemin|place"
    r"|route|impasse|allée|allee|quai|cours|lotissement|lieu-dit|résidence|residence|hameau|faubourg"
    r"|grande rue|grand rue)\b[^,\n;]{1,60}?)(?=[ \t,]+\d{5}|[ \t,]+à[ \t]|[,;\n]|$)",
    re.IGNORECASE,
)
_BARE_DATE = re.compile(rf"(?<![\d/.\-])(?P<date>{_DATE})(?![\d/.\-])")
_CITY_THEN_POSTAL = re.compile(
    rf"(?P<city>{_CITY})[ \t]*(?:\((?P<cp>\d{{5}})\)|[ \t,]+(?P<cp2>\d{{5}})\b)"
)
# "Mme Annie FLEURANCE - 06/05/1957 - Sapois": a commune closing an identity line.
_TRAILING_CITY = re.compile(rf"[-–][ \t]+(?P<city>{_CITY})[ \t]*$")
_TRAILING_POSTAL = re.compile(r"[-–][ \t]+(?P<cp>\d{5})[ \t]*$")
_INLINE_POSTAL = re.compile(
    rf"\b(?:code postal|cp)[ \t]*:?[ \t]*(?P<cp>\d{{5}})(?:[ \t]+(?P<city>{_CITY}))?",
    re.IGNORECASE,
)
_INS = re.compile(
    r"\b(?:INS|NIR|n°[ \t]?(?:de[ \t])?s[ée]cu(?:rit[ée] sociale)?|s[ée]curit[ée] sociale"
    r"|matricule INS)[ \t]*(?:n°)?[ \t]*[:=]?[ \t]*(?P<ins>[12][0-9AB \t.]{12,24}\d)",
    re.IGNORECASE,
)
_RPPS = re.compile(r"\bRPPS[ \t]*(?:n°|:|=)?[ \t]*:?[ \t]*(?P<rpps>\d(?:[ \t.]?\d){10,11})\b", re.I)
_NOT_REPORTER = re.compile(r"\b(?:requis|traitant|adress[ée] (?:à|au)|expert)\b", re.IGNORECASE)
_SIGN_OFF = re.compile(
    r"^\s*(?:bien |tr[eè]s )?(?:cordialement|confraternellement|amicalement|sinc[eè]rement"
    r"|bien à vous|bien a vous|salutations|respectueusement|cdlt|bonne (?:journ[ée]e|soir[ée]e)"
    r"|belle journ[ée]e|[àa] bient[ôo]t|en vous remerciant|dans l'attente|avec mes remerciements"
    r"|merci(?: d['’]avance| par avance| beaucoup| pour votre| de votre)?)\b",
    re.IGNORECASE,
)
_FORWARD = re.compile(
    r"^\s*(?:-{2,}.*(?:transf[ée]r[ée]|original|origine|forwarded)|>|de\s*:|from\s*:"
    r"|le .{4,160} a [ée]crit"
    r"|envoy[ée] :|objet\s*:)",
    re.IGNORECASE,
)
_ON_BEHALF = re.compile(
    r"(?i:\b(?:secr[ée]tariat|pour le|de la part du|à la demande du|a la demande du)\s+"
    r"(?:du\s+)?(?:Dr\.?|Docteur|Pr\.?|Professeur))[ \t]+"
    rf"(?P<name>{_NAME})"
)


def is_sign_off(line: str) -> bool:
    """A closing formula on its own short line ("Bien cordialement,")."""
    return len(line.strip()) <= 40 and _SIGN_OFF.match(line) is not None


def is_forward_marker(line: str) -> bool:
    """The start of a forwarded or quoted message, whose text is read again."""
    return _FORWARD.match(line) is not None


_SIGNATURE_NAME = re.compile(
    rf"^\s*(?:{_DOCTOR}|{_TITLE})?[ \t]*(?P<name>{_WORD}(?:[ \t]{_WORD}){{1,3}})[ \t]*,?"
    r"(?:[ \t]*[-–,][ \t]*[^\n]{0,80})?$"
)
_STOP_NAME = frozenset(
    {
        "bonjour",
        "madame",
        "monsieur",
        "cordialement",
        "merci",
        "docteur",
        "cher",
        "chere",
        "objet",
        "patient",
        "patiente",
        "signalement",
        "secretariat",
        "secretariat medical",
        "cabinet",
        "centre",
        "service",
        "le",
        "la",
        "les",
    }
)


@dataclass
class Found:
    """What one text says in prose: values by Request path, with the line they came from."""

    values: dict[str, tuple[Any, str, str]] = field(default_factory=dict)  # path: (v, line, span)

    def put(self, path: str, value: Any, line: str, span: str) -> None:
        self.values.setdefault(path, (value, line.strip()[:300], span.strip()[:200]))


def _split_name(raw: str) -> tuple[str | None, list[str]]:
    words = [w for w in re.split(r"[ \t]+", raw.strip()) if w and fold(w) not in _STOP_NAME]
    if not words:
        return None, []
    family = [w for w in words if w.isupper() and len(w) > 1]
    if family:
        return " ".join(family), [w for w in words if w not in family]
    if len(words) == 1:
        return words[0], []
    return " ".join(words[1:]), [words[0]]


def _patient_name(line: str, found: Found, *, lenient: bool = False) -> bool:
    label = _PATIENT_LABEL.search(line)
    titled = label or None
    if titled is None and lenient:
        titled = _TITLED.search(line)  # a subject line names the patient
    if titled is None:
        for match in _TITLED.finditer(line):
            after = line[match.end() : match.end() + 160]
            before = line[max(0, match.start() - 60) : match.start()]
            if (
                _BIRTH.search(after)
                or _AGE.search(after)
                or _DOMICILE.search(after)
                or re.search(
                    r"\b(?:signale|adresse|concern|patiente?|pour|au sujet|suivi|enfant|ma |mon "
                    r"|s'agit de|s’agit de|situation de|dossier de|prise en charge de)",
                    before,
                    re.IGNORECASE,
                )
            ):
                titled = match
                break
    if titled is None:
        return False
    family, given = _split_name(titled.group("name"))
    if family is None:
        return False
    span = titled.group(0)
    found.put("patient.family_name", family, line, span)
    title = fold(titled.group("title") or "")
    if title in ("mme", "madame", "mlle", "mademoiselle", "m", "mr", "monsieur"):
        sex = "F" if title in ("mme", "madame", "mlle", "mademoiselle") else "M"
        found.put("patient.sex", sex, line, titled.group("title"))
    if given:
        found.put("patient.given_names", given, line, span)
    return True


def _birth_dates(text: str) -> list[tuple[date, str, str]]:
    out: list[tuple[date, str, str]] = []
    for match in _BIRTH.finditer(text):
        parsed = parse_date(match.group("date"))
        if parsed is not None:
            line_start = text.rfind("\n", 0, match.start()) + 1
            line_end = text.find("\n", match.end())
            line = text[line_start : line_end if line_end >= 0 else len(text)]
            out.append((parsed, line, match.group(0)))
    return out


def _age(text: str, found: Found) -> None:
    for match in _AGE.finditer(text):
        pre = match.group("pre")
        if pre in (",", "(", "-", "–"):
            context = text[max(0, match.start() - 80) : match.start()]
            if "\n" in context:
                context = context.rsplit("\n", 1)[1]
            if not _PERSON_CUE.search(context):
                continue
        number = int(match.group("n"))
        line_start = text.rfind("\n", 0, match.start()) + 1
        line_end = text.find("\n", match.end())
        line = text[line_start : line_end if line_end >= 0 else len(text)]
        if match.group("unit").lower() == "mois" and number <= 36:
            found.put("patient.age_months", number, line, match.group(0))
            return
        if match.group("unit").lower() == "ans" and 0 < number <= 120:
            found.put("patient.age_years", number, line, match.group(0))
            return


def _identity_line_extras(line: str, found: Found) -> None:
    """On the patient's own line, a bare date is the birth date and "CP 88160" the commune."""
    if "patient.birth_date" not in found.values and not _BIRTH.search(line):
        for match in _BARE_DATE.finditer(line):
            before = line[max(0, match.start() - 20) : match.start()].rstrip()
            # "(12/03/1950)", ", 12-03-50", "- 12.03.1950": not "rue du 8 Mai 1945", not
            # "hospitalisée du 05/01 au ...".
            if not before.endswith(("(", ",", "-", "–", "DDN", "ddn", ":")):
                continue
            parsed = parse_date(match.group("date"))
            if parsed is not None and parsed.year >= 1900:
                found.put("patient.birth_date", parsed, line, match.group(0))
                break
    if (bare_code := _TRAILING_POSTAL.search(line)) is not None:
        found.put("patient.postal_code", bare_code.group("cp"), line, bare_code.group(0))
    trailing = _TRAILING_CITY.search(line)
    if (
        trailing is not None
        and not _POSTAL_CITY.search(line)
        and not re.match(rf"(?:{_TITLE}|{_DOCTOR})\b", trailing.group("city"))
        and not any(ch.isdigit() for ch in trailing.group("city"))
    ):
        found.put("patient.city", trailing.group("city").strip(" -"), line, trailing.group(0))
    inline = _INLINE_POSTAL.search(line)
    if inline is not None:
        found.put("patient.postal_code", inline.group("cp"), line, inline.group(0))
        if inline.group("city"):
            found.put("patient.city", inline.group("city").strip(" -"), line, inline.group(0))


def _address(line: str, found: Found, *, identity_line: bool) -> None:
    rests = [m.group("rest") for m in _DOMICILE.finditer(line)]
    if not rests and not identity_line:
        return
    for rest in rests or [line]:
        postal = _POSTAL_CITY.search(rest) or _CITY_THEN_POSTAL.search(rest)
        street = _STREET.search(rest)
        if street is not None:
            found.put("patient.address", street.group("street").strip(" ,"), line, street.group(0))
        if postal is not None:
            code = postal.group("cp") or postal.group("cp2")
            found.put("patient.postal_code", code, line, postal.group(0))
            found.put("patient.city", postal.group("city").strip(" -"), line, postal.group(0))
            return
    for rest in rests:
        at_city = _AT_CITY.search(rest)
        if at_city is not None and fold(at_city.group("city")) not in _STOP_NAME:
            # "au Thillot" is Le Thillot, "aux Forges" Les Forges.
            article = {"au": "Le ", "aux": "Les "}.get(at_city.group("at").lower(), "")
            city = article + at_city.group("city").strip(" -")
            found.put("patient.city", city, line, at_city.group(0))
            return


def _ins(line: str, found: Found) -> None:
    match = _INS.search(line)
    if match is None:
        return
    cleaned, status = check_ins(match.group("ins"))
    if status == "ok":
        found.put("patient.ins", cleaned, line, match.group(0))


def _reporter(lines: list[str], found: Found) -> None:
    for line in lines:
        match = _RPPS.search(line)
        if match is None or _NOT_REPORTER.search(line):
            continue
        digits = re.sub(r"\D", "", match.group("rpps"))
        if len(digits) in (11, 12):
            found.put("reporter.rpps", digits[-11:], line, match.group(0))
        named = _DOCTOR_NAME.search(line) or _TITLED.search(line)
        if named is not None:
            family, given = _split_name(re.split(r"[(,]", named.group("name"))[0])
            if family:
                found.put("reporter.family_name", family, line, named.group(0))
                if given:
                    found.put("reporter.given_name", " ".join(given), line, named.group(0))
        break
    if "reporter.family_name" in found.values:
        return
    for line in lines:
        if behalf := _ON_BEHALF.search(line):
            family, given = _split_name(behalf.group("name"))
            if family:
                found.put("reporter.family_name", family, line, behalf.group(0))
                if given:
                    found.put("reporter.given_name", " ".join(given), line, behalf.group(0))
                return
    for index, line in enumerate(lines):
        if not is_sign_off(line):
            continue
        for candidate in lines[index + 1 : index + 6]:
            if not candidate.strip() or is_sign_off(candidate):
                continue
            match = _SIGNATURE_NAME.match(candidate)
            if match is not None and not any(ch.isdigit() for ch in candidate):
                family, given = _split_name(match.group("name"))
                if family and fold(family) not in _STOP_NAME:
                    found.put("reporter.family_name", family, candidate, match.group(0))
                    if given:
                        found.put("reporter.given_name", " ".join(given), candidate, match.group(0))
            break
        break


def find_identity(text: str, *, subject: bool = False) -> Found:
    """Patient and reporter facts written in prose; the first statement of each wins.

    ``subject``: the text is a mail's subject, where a titled name is the patient's.
    """
    found = Found()
    lines = text.splitlines()
    identity_lines: set[int] = set()
    for number, line in enumerate(lines):
        if len(line) > 2000:
            continue
        if _patient_name(line, found, lenient=subject) and number not in identity_lines:
            identity_lines.add(number)
        _ins(line, found)
    births = _birth_dates(text)
    distinct = {b[0] for b in births}
    if len(distinct) == 1:
        value, line, span = births[0]
        found.put("patient.birth_date", value, line, span)
    elif births:
        # Several dates of birth: keep the one on the patient's own line.
        name_line = found.values.get("patient.family_name", (None, "", ""))[1]
        for value, line, span in births:
            if name_line and line.strip()[:300] == name_line:
                found.put("patient.birth_date", value, line, span)
                break
    for number in sorted(identity_lines):
        _identity_line_extras(lines[number], found)
    if "patient.birth_date" not in found.values:
        _age(text, found)
    for number, line in enumerate(lines):
        if len(line) <= 2000:
            _address(line, found, identity_line=number in identity_lines)
    if not subject:
        _reporter(lines, found)
    return found
