"""Paraphrase banks: each fact of a request, said in the many ways people write it.

Sentences use gender slots: {e} (feminine "e"), {il}/{Il}, {le} (object pronoun),
{patient} ("patiente"/"patient"), {Le_patient}. ``agree`` fills them.
"""

from __future__ import annotations

import random
from datetime import timedelta

from .case import Case
from .dates import fmt_date, fmt_short
from .people import ascii_fold
from .territory import in_commune

__all__ = [
    "ALD_NAMES",
    "TE_QUESTIONS",
    "agree",
    "ald_label",
    "ald_sentence",
    "arret_label",
    "arret_sentence",
    "birth_label",
    "civil_name",
    "civility",
    "closing",
    "consent_label",
    "consent_sentence",
    "dac_denial_sentence",
    "dac_texts",
    "dsp_label",
    "dsp_sentence",
    "family_history_sentence",
    "filiere_label",
    "filiere_sentence",
    "greeting",
    "identity_labels",
    "identity_sentence",
    "mt_label",
    "mt_sentence",
    "patient_name",
    "sortie_label",
    "sortie_sentence",
    "typos",
]

# ALD number -> names as written (the French list, seed FORMATS §5).
ALD_NAMES: dict[int, tuple[str, ...]] = {
    1: ("AVC invalidant", "accident vasculaire cérébral invalidant"),
    3: ("artériopathie chronique", "artériopathie des membres inférieurs"),
    5: ("insuffisance cardiaque grave", "insuffisance cardiaque"),
    6: ("cirrhose", "hépatite chronique active"),
    7: ("VIH",),
    8: ("diabète", "diabète de type 2", "diabète de type 1", "diabète insulino-dépendant"),
    13: ("maladie coronaire",),
    14: ("insuffisance respiratoire chronique grave", "insuffisance respiratoire chronique"),
    15: ("maladie d'Alzheimer", "Alzheimer"),
    16: ("maladie de Parkinson", "Parkinson"),
    18: ("mucoviscidose",),
    19: ("néphropathie chronique grave",),
    22: ("polyarthrite rhumatoïde", "polyarthrite rhumatoïde évolutive"),
    23: ("affection psychiatrique de longue durée",),
    25: ("sclérose en plaques",),
    30: ("cancer", "tumeur maligne", "cancer du sein", "cancer de la prostate", "cancer du côlon"),
}


def agree(text: str, sex: str) -> str:
    f = sex == "F"
    return (
        text.replace("{e}", "e" if f else "")
        .replace("{il}", "elle" if f else "il")
        .replace("{Il}", "Elle" if f else "Il")
        .replace("{le}", "la" if f else "le")
        .replace("{patient}", "patiente" if f else "patient")
        .replace("{Patient}", "Patiente" if f else "Patient")
        .replace("{Le_patient}", "La patiente" if f else "Le patient")
        .replace("{le_patient}", "la patiente" if f else "le patient")
    )


def civility(sex: str, rng: random.Random, *, formal: bool = False) -> str:
    if sex == "F":
        return rng.choice(("Madame",) if formal else ("Mme", "Mme", "Madame", "Mme"))
    return rng.choice(("Monsieur",) if formal else ("M.", "M.", "Monsieur", "Mr"))


def patient_name(case: Case, rng: random.Random, *, upper: bool | None = None) -> str:
    """The patient's name as shown (family and/or given name), without civility."""
    p = case.patient
    family = p.family_name
    if upper if upper is not None else rng.random() < 0.6:
        family = family.upper()
    given = " ".join(p.given_names) if "all_given" in case.tags else p.given
    if case.show_family and case.show_given:
        # Family name first is written in capitals, as French forms do.
        return rng.choice((f"{given} {family}", f"{family.upper()} {given}", f"{given} {family}"))
    if case.show_family:
        return family
    if case.show_given:
        return given
    return ""


def civil_name(case: Case, rng: random.Random, *, upper: bool | None = None) -> str:
    """ "Mme Jeanne THIRIET", "M. VOIRIN", "l'enfant Léo PERRIN"; with the given name only,
    "la patiente prénommée Jeanne" (never "Mme Jeanne", which reads as a family name)."""
    p = case.patient
    name = patient_name(case, rng, upper=upper)
    if not name:
        return ""
    if p.birth_date.year >= 2024:
        return rng.choice((f"l'enfant {name}", f"le nourrisson {name}", f"bébé {name}"))
    if not case.show_family:
        return agree("{le_patient} prénommé{e} ", p.sex) + name
    return f"{civility(p.sex, rng)} {name}"


def _birth_prose(case: Case, rng: random.Random) -> str:
    p = case.patient
    if case.birth_mode == "date":
        d = fmt_date(p.birth_date, rng, rng.choice(("numeric", "words", "numeric", "any")))
        return agree(
            rng.choice(("né{e} le {d}", "né{e} le {d}", "(DDN {d})", "({d})")), p.sex
        ).replace("{d}", d)
    if case.birth_mode == "age":
        age = case.age
        return agree(rng.choice((f"{age} ans", f"âgé{{e}} de {age} ans", f"{age} ans")), p.sex)
    return ""


def _address_prose(case: Case, rng: random.Random) -> str:
    p = case.patient
    city = p.city if rng.random() < 0.8 else p.city.upper()
    options: tuple[str, ...]
    if case.addr_mode == "full":
        options = (
            f"domicilié{{e}} {p.street} {p.postal_code} {city}",
            f"demeurant {p.street}, {p.postal_code} {city}",
            f"qui habite {p.street} {in_commune(city)} ({p.postal_code})",
            f"résidant au {p.street}, {p.postal_code} {city}",
            f"domicile : {p.street} {p.postal_code} {city}",
        )
    elif case.addr_mode == "cp_city":
        options = (
            f"domicilié{{e}} {in_commune(city)} ({p.postal_code})",
            f"demeurant {p.postal_code} {city}",
            f"habitant {in_commune(city)} {p.postal_code}",
        )
    elif case.addr_mode == "city":
        options = (
            f"domicilié{{e}} {in_commune(city)}",
            f"qui vit {in_commune(city)}",
            f"habitant {in_commune(city)}",
        )
    elif case.addr_mode == "cp":
        return f"code postal {p.postal_code}"
    else:
        return ""
    return agree(rng.choice(options), p.sex)


def identity_sentence(case: Case, rng: random.Random, lead: str = "") -> str:
    """The identity in a sentence: Je vous signale Mme Jeanne THIRIET, née le …, domiciliée …"""
    p = case.patient
    who = civil_name(case, rng) or agree("un{e} {patient}", p.sex)
    parts = [who]
    birth = _birth_prose(case, rng)
    if birth:
        parts.append(birth)
    if case.show_ins:
        parts.append(rng.choice(("INS ", "n° INS ", "NIR ")) + _spaced_ins(p.ins, rng))
    address = _address_prose(case, rng)
    if address:
        parts.append(address)
    lead = lead or rng.choice(
        (
            "Je vous signale",
            "Je me permets de vous signaler",
            "Je vous adresse la situation de",
            "Il s'agit de",
            "Je souhaite vous signaler",
            "Signalement concernant",
        )
    )
    return f"{lead} {', '.join(parts)}."


def _spaced_ins(ins: str, rng: random.Random) -> str:
    if rng.random() < 0.3:
        return f"{ins[0]} {ins[1:3]} {ins[3:5]} {ins[5:7]} {ins[7:10]} {ins[10:13]} {ins[13:]}"
    return ins


def birth_label(case: Case, rng: random.Random, *, terse: bool) -> tuple[str, str] | None:
    p = case.patient
    if case.birth_mode == "date":
        label = (
            rng.choice(("DDN", "Né(e) le", "Date naiss.", "Date de naiss"))
            if terse
            else rng.choice(("Date de naissance", "Date de naissance", "Né(e) le", "DDN"))
        )
        return label, fmt_date(
            p.birth_date, rng, "numeric" if terse else rng.choice(("numeric", "any"))
        )
    if case.birth_mode == "age":
        return ("Age" if terse else "Âge"), f"{case.age} ans"
    return None


def identity_labels(case: Case, rng: random.Random, *, terse: bool) -> list[tuple[str, str]]:
    """Label/value rows for the patient's identity and address."""
    p = case.patient
    rows: list[tuple[str, str]] = []
    fold = ascii_fold if terse and rng.random() < 0.7 else (lambda s: s)
    if case.show_family:
        label = (
            rng.choice(("Nom", "NOM", "Nom patient"))
            if terse
            else rng.choice(("Nom", "Nom de naissance", "Nom du patient", "Nom"))
        )
        rows.append((label, p.family_name.upper() if rng.random() < 0.7 else p.family_name))
    if case.show_given:
        label = (
            rng.choice(("Prenom", "Prénom", "Prénon"))
            if terse
            else rng.choice(("Prénom", "Prénom(s)", "Prénom du patient"))
        )
        given = ", ".join(p.given_names) if "all_given" in case.tags else p.given
        rows.append((fold(label), fold(given)))
    birth = birth_label(case, rng, terse=terse)
    if birth:
        rows.append(birth)
    if case.show_ins:
        label = rng.choice(("N° INS", "INS", "NIR", "N° sécurité sociale", "Matricule INS"))
        rows.append((fold(label), _spaced_ins(p.ins, rng)))
    city = p.city.upper() if rng.random() < 0.5 else p.city
    if terse:
        city = ascii_fold(city) if rng.random() < 0.6 else city
    if case.addr_mode == "full":
        if rng.random() < 0.5:
            rows.append((fold("Adresse"), f"{p.street} {p.postal_code} {city}"))
        else:
            rows.append((rng.choice(("Adresse", "Adr.")) if terse else "Adresse", p.street))
            rows.append(
                (
                    rng.choice(("CP/Ville", "CP / Ville", "Code postal / Commune")),
                    f"{p.postal_code} {city}",
                )
            )
    elif case.addr_mode == "cp_city":
        if rng.random() < 0.5:
            rows.append((rng.choice(("CP/Ville", "CP / Ville")), f"{p.postal_code} {city}"))
        else:
            rows.append(("Code postal" if not terse else "CP", p.postal_code))
            rows.append((rng.choice(("Commune", "Ville")), city))
    elif case.addr_mode == "city":
        rows.append((rng.choice(("Commune", "Ville", "Domicile")), city))
    elif case.addr_mode == "cp":
        rows.append(("CP" if terse else "Code postal", p.postal_code))
    return rows


# -- Médecin traitant -------------------------------------------------------------------
_MT_NONE = (
    "{Il} n'a pas de médecin traitant.",
    "Pas de médecin traitant.",
    "{Il} est sans médecin traitant depuis plusieurs mois.",
    "Aucun médecin traitant déclaré.",
    "{Il} n'a jamais déclaré de médecin traitant.",
    "{Il} ne trouve pas de médecin traitant : les cabinets du secteur ne prennent plus de "
    "nouveaux patients.",
    "{Le_patient} n'a actuellement aucun médecin traitant.",
    "Pas de MT.",
    "{Il} n'a pas de médecin référent ni de médecin traitant sur le secteur.",
    "D'après sa famille, {il} n'a pas de médecin traitant.",
    "{Il} me dit ne pas avoir de médecin traitant.",
)
_MT_SEARCHING = (
    "{Il} est en recherche de médecin traitant.",
    "{Il} cherche un médecin traitant depuis son arrivée dans la région.",
    "{Il} est toujours à la recherche d'un médecin traitant, sans succès.",
    "Recherche de médecin traitant en cours, aucun cabinet n'accepte.",
)
_MT_RETIRED = (
    "{Il} n'a plus de médecin traitant depuis le départ en retraite du {former}.",
    "Son médecin traitant, le {former}, est parti à la retraite et n'a pas été remplacé.",
    "Son ancien médecin ({former}) a cessé son activité ; {il} n'a plus de médecin traitant "
    "depuis.",
    "Le {former}, qui {le} suivait, a pris sa retraite : plus de médecin traitant.",
    "Ancien médecin traitant : {former}, parti en retraite, non remplacé.",
    "Sa fille m'explique qu'{il} n'a plus de médecin traitant depuis que le {former} a pris sa "
    "retraite.",
)
_MT_HAS = (
    "Son médecin traitant, le {current}, {le} suit régulièrement mais {il} souhaiterait en "
    "changer.",
    "{Il} est suivi{e} par son médecin traitant, le {current}, qui {le} voit tous les trois mois.",
    "{Il} a un médecin traitant (le {current}) mais les délais de rendez-vous sont longs.",
    "Le {current} est son médecin traitant et continue de {le} suivre ; {il} trouve le "
    "cabinet trop loin.",
    "Médecin traitant : {current}, qui {le} suit toujours.",
)


def mt_sentence(case: Case, rng: random.Random) -> str:
    bank = {
        "none": _MT_NONE,
        "searching": _MT_SEARCHING,
        "retired": _MT_RETIRED,
        "has": _MT_HAS,
    }[case.mt or "none"]
    text = (
        rng.choice(bank).replace("{former}", case.former_mt).replace("{current}", case.current_mt)
    )
    return agree(text, case.patient.sex)


def mt_label(case: Case, rng: random.Random, *, terse: bool) -> tuple[str, str]:
    label = (
        rng.choice(("MT", "Médecin traitant", "Medecin traitant"))
        if terse
        else rng.choice(("Médecin traitant", "Médecin traitant actuel", "Médecin traitant"))
    )
    value = {
        "none": rng.choice(("Aucun", "aucun", "Néant", "non", "0", "Pas de MT")),
        "searching": rng.choice(("en recherche", "Aucun (en recherche)", "non, en recherche")),
        "retired": rng.choice(
            (
                f"aucun (départ en retraite du {case.former_mt})",
                f"Aucun depuis le départ du {case.former_mt}",
                f"{case.former_mt} parti en retraite, non remplacé",
            )
        ),
        "has": rng.choice((f"{case.current_mt}", f"{case.current_mt} (le suit toujours)")),
    }[case.mt or "none"]
    return label, value


# -- ALD --------------------------------------------------------------------------------
def _ald_name(n: int, rng: random.Random) -> str:
    return rng.choice(ALD_NAMES[n])


def ald_sentence(case: Case, rng: random.Random) -> str:
    """The ALD as a sentence (its name, when written, is ``case.ald_text``)."""
    n = case.ald_numbers[0] if case.ald_numbers else None
    name = case.ald_text
    options: tuple[str, ...]
    if case.ald_pending:
        options = (
            "Une demande d'ALD est en cours.",
            "ALD en cours de demande, à finaliser par le futur médecin traitant.",
            "Il faudrait faire une demande d'ALD, son ancien médecin ne l'avait jamais faite.",
            "Une ALD pourrait être demandée mais rien n'a encore été fait.",
        )
    elif case.ald is False:
        options = (
            "Pas d'ALD.",
            "{Il} n'est pas en ALD.",
            "Aucune affection de longue durée.",
            "Pas de prise en charge en ALD.",
            "ALD : aucune.",
        )
    elif n is None:
        options = (
            "{Il} est en ALD.",
            "{Il} bénéficie d'une prise en charge en ALD.",
            "{Patient} en ALD.",
            "Prise en charge à 100 % au titre d'une ALD.",
            "{Il} a une ALD (je n'ai pas le détail).",
        )
    elif case.ald_named and name:
        options = (
            f"{{Il}} est en ALD pour {_article(name)}.",
            f"Prise en charge à 100 % au titre d'une ALD ({name}).",
            f"Reconnu{{e}} en ALD : {name}.",
            f"ALD pour {_article(name)}.",
            f"{{Il}} m'indique être en ALD pour {_article(name)}.",
        )
    elif name:
        options = (
            f"{{Il}} est en ALD {n} ({name}).",
            f"ALD n°{n} ({name}).",
            f"ALD {n} – {name}.",
            f"{{Il}} bénéficie de l'ALD {n} pour {_article(name)}.",
        )
    else:
        options = (f"{{Il}} est en ALD {n}.", f"ALD n° {n}.", f"En ALD (n°{n}).")
    return agree(rng.choice(options), case.patient.sex)


def _article(name: str) -> str:
    low = name if name.isupper() or name[:3] == "AVC" else name[0].lower() + name[1:]
    feminine = (
        "maladie", "sclérose", "polyarthrite", "tumeur", "néphropathie", "mucovisc",
        "insuffisance", "cirrhose", "artériopathie", "affection", "hépatite",
    )  # fmt: skip
    if low.startswith(feminine):
        return "une " + low
    if low == "VIH":
        return "une infection à VIH"
    if low in ("Alzheimer", "Parkinson"):
        return "une maladie de " + low if low == "Parkinson" else "une maladie d'Alzheimer"
    return "un " + low


def ald_label(case: Case, rng: random.Random) -> str:
    """The value of an "ALD" row."""
    if case.ald_pending:
        return rng.choice(("en cours de demande", "demande à faire", "demande en cours"))
    if case.ald is False:
        return rng.choice(("non", "Non", "aucune", "Aucune", "NON"))
    nums = case.ald_numbers
    if not nums:
        return rng.choice(("oui", "Oui", "OUI", "oui (n° non précisé)"))
    n = nums[0]
    name = case.ald_text
    if case.ald_named and name:
        return rng.choice((name, f"oui – {name}", f"Oui ({name})"))
    if name:
        return rng.choice((f"{n} ({name})", f"oui, ALD {n} ({name})", f"ALD {n} - {name}"))
    return rng.choice((f"oui (n° {n})", f"ALD {n}", f"n°{n}"))


def family_history_sentence(rng: random.Random) -> str:
    return rng.choice(
        (
            "Antécédents familiaux : diabète chez la mère.",
            "ATCD familiaux : cancer du côlon chez le père.",
            "Son époux, décédé l'an dernier, était en ALD pour une maladie d'Alzheimer.",
            "Sa sœur est suivie pour une sclérose en plaques.",
            "Antécédents familiaux : maladie de Parkinson (père).",
        )
    )


# -- Arrêt de travail, sortie d'hospitalisation -----------------------------------------
_ARRET_REASONS = (
    "une lombalgie aiguë",
    "une fracture du poignet",
    "un syndrome dépressif",
    "une entorse grave du genou",
    "un épuisement professionnel",
    "une hernie discale",
    "une tendinite de l'épaule",
)


def arret_sentence(case: Case, rng: random.Random) -> str:
    options: tuple[str, ...]
    if case.arret is False:
        options = (
            "Pas d'arrêt de travail.",
            "{Il} n'est pas en arrêt de travail.",
            "Pas d'arrêt de travail en cours.",
            "Arrêt de travail : non.",
        )
    else:
        since = fmt_short(case.mail_date - timedelta(days=rng.randint(20, 120)), rng)
        until = fmt_short(case.mail_date + timedelta(days=rng.randint(10, 60)), rng)
        reason = rng.choice(_ARRET_REASONS)
        options = (
            f"{{Il}} est en arrêt de travail depuis le {since} pour {reason} et nécessite "
            "un suivi.",
            f"En arrêt maladie prolongé ({reason}), besoin d'un suivi régulier et du "
            "renouvellement de l'arrêt.",
            f"Arrêt de travail en cours jusqu'au {until}, à prolonger : un suivi médical est "
            "nécessaire.",
            f"Actuellement en arrêt de travail suite à {reason} ; il faut un médecin pour "
            "assurer le suivi et les prolongations.",
            f"{{Il}} est arrêté{{e}} depuis le {since} ({reason}), personne pour {{le}} suivre "
            "ni prolonger l'arrêt.",
        )
    return agree(rng.choice(options), case.patient.sex)


def arret_label(case: Case, rng: random.Random) -> str:
    if case.arret is False:
        return rng.choice(("non", "Non", "NON", "☐"))
    since = fmt_short(case.mail_date - timedelta(days=rng.randint(20, 120)), rng)
    return rng.choice(
        (
            "oui, suivi nécessaire",
            f"oui depuis le {since}, suivi nécessaire",
            "OUI (suivi à assurer)",
        )
    )


_HOSP_REASONS = (
    "une pneumopathie",
    "une fracture du col du fémur",
    "une chute",
    "une pyélonéphrite",
    "une cholécystite",
    "une embolie pulmonaire",
    "une prothèse de hanche",
)
_SERVICES = (
    "médecine polyvalente, CH de Remiremont",
    "service de gériatrie du CH de Remiremont",
    "orthopédie, CHU de Nancy",
    "SSR de Gérardmer",
    "CH Émile Durkheim à Épinal",
)


def sortie_sentence(case: Case, rng: random.Random) -> str:
    options: tuple[str, ...]
    if case.sortie is False:
        options = (
            "Pas d'hospitalisation récente.",
            "Pas de sortie d'hospitalisation.",
            "{Il} n'a pas été hospitalisé{e} récemment.",
            "Sortie d'hospitalisation : non.",
        )
    else:
        out = case.sortie_date or case.mail_date - timedelta(days=rng.randint(3, 20))
        d = fmt_short(out, rng)
        reason = rng.choice(_HOSP_REASONS)
        service = rng.choice(_SERVICES)
        options = (
            f"{{Il}} est sorti{{e}} d'hospitalisation le {d} ({service}) et nécessite un suivi "
            "post-hospitalisation.",
            f"Retour à domicile le {d} après une hospitalisation pour {reason} ; un suivi est "
            "nécessaire.",
            f"Sortie du {service.split(', ')[-1]} le {d}, suivi à organiser (pansements, bilan "
            "sanguin, renouvellement des traitements).",
            f"Sortie d'hospitalisation le {d}, suivi nécessaire.",
            f"Rentré{{e}} à domicile le {d} après une hospitalisation pour {reason}, besoin "
            "d'une consultation de suivi sous quinze jours.",
        )
    return agree(rng.choice(options), case.patient.sex)


def sortie_label(case: Case, rng: random.Random) -> str:
    if case.sortie is False:
        return rng.choice(("non", "Non", "NON", "☐"))
    out = case.sortie_date or case.mail_date - timedelta(days=rng.randint(3, 20))
    return rng.choice(
        (f"oui le {fmt_short(out, rng)}, suivi nécessaire", "oui (suivi post-hospit.)", "OUI")
    )


# -- DAC criteria -----------------------------------------------------------------------
# Medical sentences come in themes (one disease each) so that, without polypathologie,
# the text never names two diseases.
_DAC_THEMES: dict[str, dict[str, tuple[str, ...]]] = {
    "cardiaque": {
        "pathologie_desequilibree": (
            "Insuffisance cardiaque mal équilibrée depuis l'automne malgré les ajustements.",
            "Insuffisance cardiaque instable depuis plusieurs mois, œdèmes persistants.",
        ),
        "hospitalisations_repetees": (
            "3 hospitalisations depuis janvier pour décompensation cardiaque.",
            "Hospitalisé{e} à trois reprises cette année pour décompensation cardiaque.",
        ),
    },
    "diabete": {
        "pathologie_desequilibree": (
            "Diabète déséquilibré depuis des mois, HbA1c à 11 %.",
            "Glycémies à plus de 3 g/L depuis le printemps, diabète totalement déséquilibré.",
        ),
        "hospitalisations_repetees": (
            "Réhospitalisations itératives pour hypoglycémies sévères depuis le début de l'année.",
            "Deux hospitalisations cette année pour acidocétose.",
        ),
    },
    "bpco": {
        "pathologie_desequilibree": (
            "BPCO mal contrôlée depuis plusieurs mois, dyspnée au moindre effort.",
        ),
        "hospitalisations_repetees": (
            "Hospitalisé{e} à répétition pour exacerbation de BPCO (trois fois cette année).",
        ),
    },
    "avk": {
        "pathologie_desequilibree": (
            "INR instables depuis quatre mois, plusieurs surdosages en AVK.",
        ),
        "hospitalisations_repetees": (
            "Deux hospitalisations en trois mois pour surdosage en AVK.",
        ),
    },
    "epilepsie": {
        "pathologie_desequilibree": ("Épilepsie non stabilisée depuis plusieurs mois.",),
        "hospitalisations_repetees": (
            "Trois hospitalisations cette année pour crises d'épilepsie.",
        ),
    },
    "chutes": {
        "hospitalisations_repetees": (
            "Quatrième passage aux urgences cette année pour chute à domicile.",
            "Hospitalisations répétées pour chutes depuis janvier.",
        ),
    },
}
_POLY = (
    "{Il} est polypathologique (BPCO, insuffisance cardiaque et diabète).",
    "Polypathologie : diabète, insuffisance rénale chronique, fibrillation atriale.",
    "{Il} cumule plusieurs ALD (diabète, insuffisance cardiaque).",
    "Multiples pathologies chroniques : HTA, BPCO, arthrose invalidante, diabète.",
    "{Patient} polypathologique, sept traitements au long cours.",
    "Plusieurs pathologies chroniques intriquées (Parkinson, diabète, insuffisance rénale).",
)
_DAC_SOCIAL_TEXT: dict[str, tuple[str, ...]] = {
    "isolement_social": (
        "{Il} vit seul{e}, isolé{e}, ne sort plus.",
        "Vit seul{e} dans une ferme isolée, sans voisin, ne consulte plus.",
        "Aucune famille à proximité, ne voit personne et ne va plus chez le médecin.",
        "Isolement social majeur : {il} refuse les aides et s'enferme chez {lui}.",
        "Veuf{ve} depuis deux ans, {il} s'isole et ne sort plus de chez {lui}.",
    ),
    "vulnerabilite_sociale": (
        "Situation de précarité : RSA, logement insalubre.",
        "Dettes importantes, menace d'expulsion du logement.",
        "Sans mutuelle, {il} renonce aux soins pour raisons financières.",
        "Grande précarité (AAH, hébergé{e} chez un ami, pas de logement stable).",
        "Logement insalubre sans chauffage, ressources très faibles.",
    ),
    "pratiques_inadaptees": (
        "Non-observance : {il} arrête ses traitements.",
        "Alcoolisation quotidienne.",
        "Ne prend pas ses traitements et refuse les passages infirmiers.",
        "Mésusage de ses médicaments (automédication, surdosages répétés).",
        "Ne respecte ni le régime ni les traitements, rendez-vous manqués.",
    ),
    "dependance_multi_acteurs": (
        "Perte d'autonomie, GIR 3, SSIAD + portage de repas + kiné.",
        "Aidant épuisé, passage IDE deux fois par jour, auxiliaire de vie le matin.",
        "Dépendance importante nécessitant IDE, aide à domicile et kinésithérapeute.",
        "Plan d'aide APA à revoir, de nombreux intervenants sans coordination.",
        "Son conjoint, aidant principal, est à bout ; SSIAD, kiné et aide ménagère interviennent.",
    ),
}


def _dac_agree(text: str, sex: str) -> str:
    text = text.replace("{lui}", "elle" if sex == "F" else "lui")
    text = text.replace("Veuf{ve}", "Veuve" if sex == "F" else "Veuf")
    return agree(text, sex)


_DAC_FIRST_PERSON: dict[str, tuple[str, ...]] = {
    "polypathologie": (
        "J'ai plusieurs maladies : diabète, insuffisance cardiaque et BPCO.",
        "Je suis suivi{e} pour un diabète, une insuffisance rénale et une arthrose sévère.",
    ),
    "pathologie_desequilibree": ("Mon diabète est déséquilibré depuis des mois (HbA1c à 10,5 %).",),
    "hospitalisations_repetees": (
        "J'ai été hospitalisé{e} trois fois depuis janvier pour décompensation cardiaque.",
    ),
    "isolement_social": ("Je vis seul{e}, je ne vois plus personne et je ne sors plus.",),
    "vulnerabilite_sociale": ("Je suis au RSA, j'ai des dettes et mon logement est insalubre.",),
    "pratiques_inadaptees": ("J'avoue que j'arrête souvent mes traitements.",),
    "dependance_multi_acteurs": (
        "Je ne m'en sors plus : infirmière deux fois par jour, aide à domicile, kiné, et "
        "personne ne coordonne.",
    ),
}


def dac_texts(
    criteria: list[str], sex: str, rng: random.Random, *, first_person: bool = False
) -> dict[str, str]:
    """One sentence per asserted DAC criterion, chosen once for the whole request.

    In the first person, do not combine pathologie_desequilibree and
    hospitalisations_repetees without polypathologie (they name two diseases).
    """
    if first_person:
        return {c: agree(rng.choice(_DAC_FIRST_PERSON[c]), sex) for c in criteria}
    out: dict[str, str] = {}
    medical = [c for c in criteria if c not in _DAC_SOCIAL_TEXT and c != "polypathologie"]
    themes = [t for t, bank in _DAC_THEMES.items() if all(c in bank for c in medical)]
    theme = _DAC_THEMES[rng.choice(themes)]
    for name in criteria:
        if name == "polypathologie":
            out[name] = _dac_agree(rng.choice(_POLY), sex)
        elif name in _DAC_SOCIAL_TEXT:
            out[name] = _dac_agree(rng.choice(_DAC_SOCIAL_TEXT[name]), sex)
        else:
            out[name] = _dac_agree(rng.choice(theme[name]), sex)
    return out


def dac_denial_sentence(side: str, sex: str, rng: random.Random) -> str:
    bank = {
        "social": (
            "Sur le plan social, aucune difficulté : entourage présent, {il} est bien entouré{e}.",
            "Pas de problème social : famille très présente, bonne observance, pas d'aide "
            "nécessaire.",
            "Aucune difficulté psycho-sociale, {il} vit avec son conjoint et reste autonome.",
        ),
        "medical": (
            "Sur le plan médical, une seule pathologie, bien équilibrée, pas d'hospitalisation "
            "cette année.",
            "Pas de problème médical particulier : état stable, aucune hospitalisation.",
        ),
    }[side]
    return agree(rng.choice(bank), sex)


# -- Médecin référent -------------------------------------------------------------------
def dsp_sentence(case: Case, rng: random.Random) -> str:
    activated = case.mail_date - timedelta(days=rng.randint(5, 200))
    options: tuple[str, ...]
    if case.dsp:
        options = (
            "Le DSP est activé.",
            "{Il} a activé son DSP.",
            f"Dossier de soins partagé activé le {fmt_short(activated, rng)}.",
            "DSP ouvert et activé.",
            "Son Dossier de Soins Partagé est bien activé.",
        )
    else:
        options = (
            "DSP non activé.",
            "{Il} n'a pas encore de DSP.",
            "Le DSP n'est pas activé pour l'instant.",
            "{Il} n'a pas activé son Dossier de Soins Partagé.",
        )
    return agree(rng.choice(options), case.patient.sex)


def dsp_label(case: Case, rng: random.Random) -> tuple[str, str]:
    label = rng.choice(("DSP", "DSP activé", "Dossier de soins partagé (DSP)"))
    if label == "DSP activé":
        return label, ("☒ oui ☐ non" if case.dsp else "☐ oui ☒ non")
    return label, rng.choice(("activé", "Activé", "oui, activé")) if case.dsp else rng.choice(
        ("non activé", "pas encore activé", "Non")
    )


# -- Télé-expertise ---------------------------------------------------------------------
def filiere_label(filiere: str, rng: random.Random) -> str:
    from .directory import CLOSED_FILIERES, OPEN_FILIERES

    if filiere in OPEN_FILIERES:
        return rng.choice(OPEN_FILIERES[filiere])
    return CLOSED_FILIERES[filiere]


def filiere_sentence(filiere: str, rng: random.Random) -> str:
    label = filiere_label(filiere, rng)
    adjectives = {
        "orl": "un avis ORL",
        "radiologie": "un avis radiologique",
        "urologie": "un avis urologique",
        "infectiologie": "un avis infectiologique",
        "dermatologie": "un avis dermatologique",
    }
    choices = [
        f"Je sollicite un avis en télé-expertise, filière {label}.",
        f"Je souhaiterais un avis de la filière {label}.",
        f"Demande de télé-expertise en {label.lower() if label != 'ORL' else label}.",
    ]
    if filiere in adjectives:
        choices.append(f"Je sollicite {adjectives[filiere]} en télé-expertise.")
    return rng.choice(choices)


def consent_sentence(case: Case, rng: random.Random) -> str:
    when = fmt_short(case.mail_date - timedelta(days=rng.randint(3, 9)), rng)
    options: tuple[str, ...]
    if case.consent:
        options = (
            "{Le_patient} a donné son accord.",
            f"Accord oral recueilli le {when}.",
            "Consentement recueilli.",
            "{Le_patient} est d'accord pour la télé-expertise.",
            "{Il} accepte que son dossier et les photos soient transmis pour avis.",
            "Accord du patient : oui.",
            "{Patient} informé{e} et consentant{e}.",
            f"Accord obtenu par téléphone le {when}.",
        )
    else:
        options = (
            "{Le_patient} ne souhaite pas de télé-expertise.",
            "Refus du patient pour la transmission de son dossier.",
            "{Le_patient} n'a pas donné son accord.",
            "{Il} refuse que ses photos soient transmises.",
            "{Il} s'oppose à la télé-expertise mais je voulais votre avis.",
        )
    return agree(rng.choice(options), case.patient.sex)


def consent_label(case: Case, rng: random.Random) -> tuple[str, str]:
    label = rng.choice(("Accord du patient", "Consentement du patient", "Consentement"))
    if case.consent:
        return label, rng.choice(("oui", "Oui", "☒ oui", "recueilli", "OUI (oral)"))
    return label, rng.choice(("non", "Non", "refus", "☒ non"))


# -- Greetings and closings -------------------------------------------------------------
_TYPOS = (
    ("traitant", "traitent"),
    ("hospitalisation", "hospitalisaton"),
    ("nécessite", "nécéssite"),
    ("suivi ", "suivit "),
    ("domicile", "domicille"),
    ("actuellement", "actuellemnt"),
    ("pourriez-vous", "pourriez vous"),
    ("Pourriez-vous", "Pourriez vous"),
)


def typos(text: str, rng: random.Random) -> str:
    """One or two slips of the keyboard, as in real mails."""
    candidates = [(a, b) for a, b in _TYPOS if a in text]
    for a, b in rng.sample(candidates, min(len(candidates), rng.randint(1, 2))):
        text = text.replace(a, b, 1)
    return text


def greeting(rng: random.Random) -> str:
    return rng.choice(
        (
            "Bonjour,",
            "Bonjour,",
            "Bonjour à tous,",
            "Madame, Monsieur,",
            "Chère consœur, cher confrère,",
            "Bonjour Madame,",
            "Bonjour",
            "Bonsoir,",
        )
    )


def closing(rng: random.Random) -> str:
    return rng.choice(
        (
            "Cordialement,",
            "Bien cordialement,",
            "Merci d'avance,",
            "Bonne journée,",
            "Merci pour votre aide.",
            "Confraternellement,",
            "Cdlt",
            "Bien à vous,",
        )
    )


# -- Télé-expertise questions, by filière -----------------------------------------------
TE_QUESTIONS: dict[str, tuple[str, ...]] = {
    "orl": (
        "Acouphènes unilatéraux droits depuis deux mois avec baisse d'audition : une IRM des "
        "angles ponto-cérébelleux est-elle nécessaire ?",
        "Dysphonie persistante depuis six semaines chez un ancien fumeur : quel délai pour une "
        "nasofibroscopie ?",
        "Otites séreuses à répétition : y a-t-il une indication d'aérateurs transtympaniques ?",
        "Troubles de la déglutition récents avec fausses routes : quel bilan ORL proposer ?",
    ),
    "radiologie": (
        "Second avis sur un scanner thoracique : nodule de 7 mm du lobe supérieur droit, quel "
        "suivi proposer ?",
        "IRM du genou : fissure méniscale décrite, est-elle compatible avec la clinique ?",
        "Quel examen demander devant une douleur de hanche persistante avec radiographie normale ?",
        "Échographie thyroïdienne : nodule classé TI-RADS 3, faut-il un contrôle et à quel délai ?",
    ),
    "bilio_pancreatique": (
        "Dilatation du canal de Wirsung à 4 mm à l'échographie : conduite à tenir ?",
        "Lithiase vésiculaire asymptomatique découverte fortuitement : cholécystectomie à "
        "discuter ?",
        "Lipase à trois fois la normale sans douleur : faut-il une IRM pancréatique ?",
    ),
    "urologie": (
        "PSA à 6,2 ng/mL contrôlé, toucher rectal normal : IRM prostatique d'emblée ?",
        "Hématurie microscopique persistante : quel bilan avant consultation ?",
        "Calcul rénal de 6 mm non obstructif : surveillance ou traitement ?",
        "Infections urinaires à répétition après la ménopause : quel bilan urologique ?",
    ),
    "medecine_interne": (
        "CRP élevée inexpliquée depuis deux mois avec asthénie : quel bilan complémentaire ?",
        "Anticorps antinucléaires positifs à 1/640 sans symptôme : que faire ?",
        "Fièvre prolongée sans point d'appel, bilan infectieux négatif : quelle suite ?",
    ),
    "infectiologie": (
        "Cystites récidivantes à E. coli BLSE : quelle antibiothérapie et quelle prévention ?",
        "Plaie du pied infectée malgré dix jours d'amoxicilline-acide clavulanique : faut-il "
        "changer d'antibiotique ?",
        "Sérologie de Lyme positive sans symptôme : un traitement est-il nécessaire ?",
        "Ulcère infecté à staphylocoque résistant : quelle antibiothérapie en ville ?",
    ),
    "dermatologie": (
        "Lésion pigmentée du dos évolutive depuis trois mois, asymétrique : exérèse à prévoir ?",
        "Ulcère de jambe qui ne cicatrise pas depuis deux mois malgré les pansements : quelle "
        "prise en charge ?",
        "Lésion unguéale pigmentée du gros orteil : faut-il une biopsie ?",
        "Plaques érythémato-squameuses du cuir chevelu résistant aux traitements locaux : quel "
        "traitement ?",
        "Plaie chronique du talon avec bords hyperkératosiques : quel pansement et faut-il "
        "décharger ?",
    ),
    "gastro_enterologie": (
        "Anémie ferriprive sans saignement extériorisé : coloscopie et fibroscopie d'emblée ?",
        "Transaminases à deux fois la normale depuis six mois : quel bilan hépatique ?",
        "Diarrhée chronique depuis trois mois, calprotectine élevée : quel délai pour une "
        "coloscopie ?",
    ),
    "cardiologie": (
        "Souffle systolique découvert à l'auscultation, asymptomatique : échographie cardiaque "
        "nécessaire ?",
        "ECG avec bloc de branche gauche nouveau : quel bilan ?",
    ),
    "pneumologie": (
        "Toux chronique depuis trois mois, radiographie normale : quelles explorations ?",
        "Dyspnée d'effort chez un fumeur, spirométrie non faite : quelle prise en charge ?",
    ),
    "angiologie": (
        "Suspicion d'artériopathie, IPS à 0,8 : faut-il un écho-doppler ?",
        "Varices symptomatiques avec œdème vespéral : quel bilan ?",
    ),
    "rhumatologie": (
        "Polyarthralgies inflammatoires des mains depuis six semaines : quel bilan ?",
        "Lombalgie inflammatoire du sujet jeune : faut-il une IRM des sacro-iliaques ?",
    ),
    "neurologie": ("Tremblement de repos unilatéral récent : avis sur le diagnostic ?",),
    "endocrinologie": ("Nodule thyroïdien de 15 mm TI-RADS 4 : ponction nécessaire ?",),
}
