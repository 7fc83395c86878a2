"""Patients and their families: names, birth dates, addresses, INS."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta

from .territory import LUXEMBOURG_COMMUNES, OUT_OF_TERRITORY, STREETS, TERRITORY_COMMUNES

__all__ = [
    "FAMILY_NAMES",
    "FORMER_DOCTORS",
    "LUX_FAMILY_NAMES",
    "PERSONAL_DOMAINS",
    "Patient",
    "ascii_fold",
    "family_writer",
    "ins_key",
    "make_ins",
    "make_patient",
]

FAMILY_NAMES: tuple[str, ...] = (
    "Thiriet", "Voirin", "Pierrat", "Claudel", "Mougin", "Valentin", "Didier", "Humbert",
    "Perrin", "Jacquot", "Colin", "Marchal", "Poirot", "Gérard", "Vaxelaire", "Vincent",
    "Chevrier", "Laurent", "Petitjean", "Grandemange", "Ferry", "Cuny", "Rémy", "Hingray",
    "Arnould", "Viry", "Germain", "Antoine", "Curien", "Demange", "Georgel", "Grandclaude",
    "Lambert", "Mathieu", "Parmentier", "Toussaint", "Villaume", "Jeandel", "Pernot",
    "Lhuillier", "Houot", "Valdenaire", "Bastien", "Kieffer", "Schmitt", "Cherrier", "Aubert",
    "Noël", "Mengin", "Claude", "François", "Vuillemin", "Tisserand", "Olry", "Balland",
    "Fleurance", "Jeanpierre", "Simonin", "Gaudel", "Haxaire", "Remy", "Mangeonjean",
)  # fmt: skip
LUX_FAMILY_NAMES: tuple[str, ...] = (
    "Weber", "Schmit", "Muller", "Wagner", "Hoffmann", "Thill", "Kremer", "Reuter",
    "Steffen", "Majerus", "Schroeder", "Welter", "Bettendorf", "Goergen", "Hansen", "Kirsch",
    "Lentz", "Meyer", "Nilles", "Pauly", "Reding", "Schiltz", "Theis", "Zeimet",
)  # fmt: skip
_GIVEN_OLD_F: tuple[str, ...] = (
    "Jeanne", "Marie", "Marguerite", "Yvonne", "Germaine", "Simone", "Monique", "Colette",
    "Jacqueline", "Odile", "Marie-Thérèse", "Bernadette", "Denise", "Odette", "Paulette",
    "Suzanne", "Ginette", "Josiane", "Michèle", "Françoise", "Annie", "Danielle", "Chantal",
    "Hélène", "Renée",
)  # fmt: skip
_GIVEN_OLD_M: tuple[str, ...] = (
    "Jean", "Pierre", "René", "Marcel", "Roger", "André", "Robert", "Gérard", "Bernard",
    "Jean-Pierre", "Michel", "Claude", "Jacques", "Raymond", "Georges", "Lucien", "Gilbert",
    "Jean-Claude", "Daniel", "Alain", "Joël", "Noël",
)  # fmt: skip
_GIVEN_MID_F: tuple[str, ...] = (
    "Nathalie", "Sandrine", "Isabelle", "Stéphanie", "Émilie", "Julie", "Céline", "Aurélie",
    "Laëtitia", "Mélanie", "Sarah", "Manon", "Léa", "Camille", "Océane", "Chloé", "Valérie",
    "Karine",
)  # fmt: skip
_GIVEN_MID_M: tuple[str, ...] = (
    "Sébastien", "Nicolas", "Julien", "Thomas", "Guillaume", "Anthony", "Jérôme", "Mickaël",
    "Kévin", "Maxime", "Romain", "Florian", "Dylan", "Hugo", "Lucas", "Cédric", "Frédéric",
)  # fmt: skip
_GIVEN_CHILD_F: tuple[str, ...] = (
    "Jade",
    "Louise",
    "Emma",
    "Alba",
    "Rose",
    "Ambre",
    "Lina",
    "Chloé",
    "Léonie",
)
_GIVEN_CHILD_M: tuple[str, ...] = (
    "Gabriel",
    "Léo",
    "Raphaël",
    "Louis",
    "Arthur",
    "Jules",
    "Noah",
    "Timéo",
)
_GIVEN_LUX_F: tuple[str, ...] = (
    "Carole",
    "Nathalie",
    "Josée",
    "Marie-Paule",
    "Sandra",
    "Monique",
    "Martine",
    "Anne-Marie",
    "Christiane",
    "Danielle",
    "Paula",
)
_GIVEN_LUX_M: tuple[str, ...] = (
    "Marc",
    "Jos",
    "Romain",
    "Fernand",
    "Nico",
    "Claude",
    "Jean-Paul",
    "Raymond",
    "Guy",
    "Patrick",
    "Gilles",
)

FORMER_DOCTORS = (
    "Dr Gérard Jacquot",
    "Dr Michel Viry",
    "Dr Jean-Claude Ferry",
    "Dr André Chevrier",
    "Dr Yves Olry",
    "Dr Bernard Tisserand",
)
PERSONAL_DOMAINS = (
    "gmail.com",
    "orange.fr",
    "laposte.net",
    "wanadoo.fr",
    "free.fr",
    "hotmail.fr",
    "sfr.fr",
    "yahoo.fr",
)
# Birth département of the NIR: mostly the Vosges and neighbours, some born abroad.
_BIRTH_DEPTS = ("88", "88", "88", "88", "54", "57", "67", "68", "70", "75", "99")


def ascii_fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def ins_key(first13: str) -> str:
    return f"{97 - int(first13) % 97:02d}"


def make_ins(rng: random.Random, sex: str, birth: date) -> str:
    dept = rng.choice(_BIRTH_DEPTS)
    place = (
        rng.choice(("109", "127", "350", "139")) if dept == "99" else f"{rng.randint(1, 550):03d}"
    )
    body = f"{1 if sex == 'M' else 2}{birth.year % 100:02d}{birth.month:02d}{dept}{place}"
    body += f"{rng.randint(1, 999):03d}"
    return body + ins_key(body)


@dataclass
class Patient:
    sex: str
    family_name: str
    given_names: list[str]
    birth_date: date
    street: str
    city: str
    postal_code: str
    ins: str
    phone: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def given(self) -> str:
        return self.given_names[0]


def _given(rng: random.Random, sex: str, birth: date, lux: bool) -> list[str]:
    if lux:
        pool = _GIVEN_LUX_F if sex == "F" else _GIVEN_LUX_M
    elif birth.year >= 2024:
        pool = _GIVEN_CHILD_F if sex == "F" else _GIVEN_CHILD_M
    elif birth.year <= 1960:
        pool = _GIVEN_OLD_F if sex == "F" else _GIVEN_OLD_M
    else:
        pool = _GIVEN_MID_F if sex == "F" else _GIVEN_MID_M
    first = rng.choice(pool)
    if rng.random() < 0.25:
        second = rng.choice([g for g in pool if g != first])
        return [first, second]
    return [first]


def make_patient(
    rng: random.Random,
    on: date,
    *,
    age: int | None = None,
    age_days: int | None = None,
    commune: str | None = None,
    where: str = "territory",
    sex: str | None = None,
) -> Patient:
    """A patient aged ``age`` years (or ``age_days`` days) on ``on``.

    where: "territory", "outside" or "luxembourg" (when ``commune`` is not given).
    """
    sex = sex or rng.choice("FM")
    if age_days is not None:
        birth = on - timedelta(days=age_days)
    else:
        years = age if age is not None else rng.randint(20, 95)
        # The last birthday is 10 to 355 days before ``on``: the age is unambiguous.
        last = on - timedelta(days=rng.randint(10, 355))
        birth = date(last.year - years, last.month, last.day)
    lux = where == "luxembourg"
    if lux:
        city = commune or rng.choice(LUXEMBOURG_COMMUNES)
        postal = ""
        family = rng.choice(LUX_FAMILY_NAMES)
    else:
        pool = OUT_OF_TERRITORY if where == "outside" else TERRITORY_COMMUNES
        city = commune or rng.choice(sorted(pool))
        postal = {**TERRITORY_COMMUNES, **OUT_OF_TERRITORY}[city]
        family = rng.choice(FAMILY_NAMES)
    number = rng.choice(
        (str(rng.randint(1, 48)), str(rng.randint(1, 48)), f"{rng.randint(1, 12)} bis")
    )
    street = f"{number} {rng.choice(STREETS)}"
    phone = "0" + rng.choice("36") + " " + " ".join(f"{rng.randint(0, 99):02d}" for _ in range(4))
    return Patient(
        sex=sex,
        family_name=family,
        given_names=_given(rng, sex, birth, lux),
        birth_date=birth,
        street=street,
        city=city,
        postal_code=postal,
        ins=make_ins(rng, sex, birth),
        phone=phone,
    )


@dataclass(frozen=True)
class FamilyWriter:
    given_name: str
    family_name: str
    email: str
    relation: str  # as the writer says it: "fille", "fils", "épouse", "mari", "petite-fille"
    sex: str


def family_writer(rng: random.Random, patient: Patient) -> FamilyWriter:
    """A relative writing from a personal mailbox."""
    old = patient.birth_date.year < 1965
    if old:
        relation = rng.choice(("fille", "fille", "fils", "petite-fille", "nièce", "épouse", "mari"))
    else:
        relation = rng.choice(("épouse", "mari", "mère", "sœur", "frère"))
    if relation in ("épouse", "mari") and patient.sex == "F":
        relation = "mari"
    elif relation in ("épouse", "mari"):
        relation = "épouse"
    sex = "M" if relation in ("fils", "mari", "frère") else "F"
    pool = _GIVEN_MID_F if sex == "F" else _GIVEN_MID_M
    if relation in ("mari", "épouse") and old:
        pool = _GIVEN_OLD_F if sex == "F" else _GIVEN_OLD_M
    given = rng.choice(pool)
    married_out = relation in ("fille", "petite-fille", "nièce", "sœur") and rng.random() < 0.5
    family = rng.choice(FAMILY_NAMES) if married_out else patient.family_name
    local = ascii_fold(f"{given}.{family}").lower().replace(" ", "").replace("'", "")
    local = rng.choice((local, local.replace(".", ""), local + str(rng.randint(1, 88))))
    return FamilyWriter(given, family, f"{local}@{rng.choice(PERSONAL_DOMAINS)}", relation, sex)
