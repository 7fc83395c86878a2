"""Who writes and who answers: our mailboxes, the routing roster and the known senders."""

from __future__ import annotations

from dataclasses import dataclass

from .model import Professional, RosterEntry

__all__ = [
    "CLOSED_FILIERES",
    "KNOWN_PROFESSIONALS",
    "MAILBOXES",
    "OPEN_FILIERES",
    "ROSTER",
    "SENDERS",
    "Sender",
    "luhn_rpps",
]

MAILBOXES: dict[str, str] = {
    "signalement": "signalement@cpts-massif-vosgien.mssante.fr",
    "tele_expertise": "teleexpertise@cpts-massif-vosgien.mssante.fr",
    "appui_dac": "appui@dac-vosges.mssante.fr",
    "medecin_referent": "medecin-referent@cpts-massif-vosgien.mssante.fr",
}

# Open filières (seed 002): id -> labels as people write them.
OPEN_FILIERES: dict[str, tuple[str, ...]] = {
    "orl": ("ORL", "Oto-rhino-laryngologie", "ORL"),
    "radiologie": ("Radiologie", "Radiologie / imagerie", "Radiologie"),
    "bilio_pancreatique": ("Bilio-pancréatique", "Bilio pancréatique"),
    "urologie": ("Urologie", "Urologie"),
    "medecine_interne": ("Médecine interne", "Médecin interne", "Médecine interne"),
    "infectiologie": ("Infectiologie", "Infectiologie"),
    "dermatologie": ("Dermatologie", "Dermato", "Dermatologie"),
    "gastro_enterologie": ("Gastro-entérologie", "Hépato-gastro-entérologie", "Gastro-entérologie"),
}
# Filières that are not open; the id is the written name, lower-case, accent-less.
CLOSED_FILIERES: dict[str, str] = {
    "angiologie": "Angiologie",
    "pneumologie": "Pneumologie",
    "cardiologie": "Cardiologie",
    "rhumatologie": "Rhumatologie",
    "neurologie": "Neurologie",
    "endocrinologie": "Endocrinologie",
}


def luhn_rpps(n: int) -> str:
    """An 11-digit RPPS "10" + 8 digits + a Luhn check digit."""
    body = f"10{n:08d}"
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


@dataclass(frozen=True)
class Sender:
    """A professional or service that writes to us (richer than the directory row)."""

    email: str
    given_name: str
    family_name: str
    sex: str
    title: str
    kind: str
    profession_code: str | None
    rpps: str | None
    speciality: str | None
    place: str
    phone: str
    known: bool


def _s(
    n: int | None,
    given: str,
    family: str,
    sex: str,
    title: str,
    kind: str,
    code: str | None,
    email: str,
    place: str,
    phone: str,
    speciality: str | None = None,
    known: bool = True,
) -> Sender:
    rpps = luhn_rpps(n) if n is not None else None
    return Sender(email, given, family, sex, title, kind, code, rpps, speciality, place, phone, known)


_MED = "medecin.mssante.fr"
_IDE = "infirmier.mssante.fr"
_PHA = "pharmacien.mssante.fr"
_MK = "masseur-kinesitherapeute.mssante.fr"
_CHR = "ch-remiremont.mssante.fr"
_CD = "chirurgien-dentiste.mssante.fr"
_SF = "sage-femme.mssante.fr"
_PP = "pedicure-podologue.mssante.fr"
_OR = "orthophoniste.mssante.fr"

SENDERS: tuple[Sender, ...] = (
    # GPs who take new patients (also in ROSTER)
    _s(3011201, "Sophie", "Grandemange", "F", "Médecin généraliste", "gp_roster", "10",
       f"sophie.grandemange@{_MED}", "Maison de santé du Lac, 88400 Gérardmer", "03 29 63 12 40",
       "SM54"),
    _s(3011202, "Mathieu", "Curien", "M", "Médecin généraliste", "gp_roster", "10",
       f"mathieu.curien@{_MED}", "Cabinet médical, 4 rue Paul Claudel, 88250 La Bresse",
       "03 29 25 41 18", "SM54"),
    _s(3011203, "Élodie", "Villaume", "F", "Médecin généraliste", "gp_roster", "10",
       f"elodie.villaume@{_MED}", "Pôle santé de Vagney, 88120 Vagney", "03 29 24 70 02",
       "SM54"),
    _s(3011204, "Nicolas", "Houot", "M", "Médecin généraliste", "gp_roster", "10",
       f"nicolas.houot@{_MED}", "12 rue Charles de Gaulle, 88200 Remiremont", "03 29 62 33 71",
       "SM54"),
    _s(3011205, "Camille", "Arnould", "F", "Médecin généraliste", "gp_roster", "10",
       f"camille.arnould@{_MED}", "Maison de santé, 88160 Le Thillot", "03 29 25 05 56",
       "SM54"),
    _s(3011206, "Julien", "Valdenaire", "M", "Médecin généraliste", "gp_roster", "10",
       f"julien.valdenaire@{_MED}", "Cabinet médical, 88310 Cornimont", "03 29 24 10 93",
       "SM54"),
    # Requis doctors, one per open filière (also in ROSTER)
    _s(3022301, "Anne", "Lhuillier", "F", "ORL", "requis", "10", f"anne.lhuillier@{_CHR}",
       "Service ORL, CH de Remiremont", "03 29 23 41 41", "SM39"),
    _s(3022302, "Thomas", "Kieffer", "M", "Radiologue", "requis", "10",
       f"thomas.kieffer@{_MED}", "Imagerie des Hautes-Vosges, 88200 Remiremont",
       "03 29 62 10 10", "SM44"),
    _s(3022303, "Marc", "Jeandel", "M", "Gastro-entérologue", "requis", "10",
       f"marc.jeandel@{_CHR}", "Hépato-gastro-entérologie, CH de Remiremont", "03 29 23 41 60",
       "SM24"),
    _s(3022304, "Pierre", "Georgel", "M", "Urologue", "requis", "10", f"pierre.georgel@{_MED}",
       "Clinique de la Ligne Bleue, 88000 Épinal", "03 29 31 66 00", "SM57"),
    _s(3022305, "Isabelle", "Toussaint", "F", "Interniste", "requis", "10",
       f"isabelle.toussaint@{_CHR}", "Médecine interne, CH de Remiremont", "03 29 23 42 05",
       "SM30"),
    _s(3022306, "Karim", "Benali", "M", "Infectiologue", "requis", "10", f"karim.benali@{_CHR}",
       "Unité d'infectiologie, CH de Remiremont", "03 29 23 42 18", "SM30"),
    _s(3022307, "Claire", "Mougin", "F", "Dermatologue", "requis", "10",
       f"claire.mougin@{_MED}", "Cabinet de dermatologie, 88400 Gérardmer", "03 29 60 81 22",
       "SM15"),
    _s(3022308, "Hélène", "Parmentier", "F", "Gastro-entérologue", "requis", "10",
       f"helene.parmentier@{_MED}", "Cabinet d'HGE, 88200 Remiremont", "03 29 62 47 30",
       "SM24"),
    # Other GPs (full, not in ROSTER)
    _s(3033401, "Paul", "Voirin", "M", "Médecin généraliste", "gp", "10", f"paul.voirin@{_MED}",
       "Cabinet médical, 7 rue du Lac, 88400 Gérardmer", "03 29 63 01 27", "SM54"),
    _s(3033402, "Bernard", "Cuny", "M", "Médecin généraliste", "gp", "10", f"bernard.cuny@{_MED}",
       "2 place de la Mairie, 88530 Le Tholy", "03 29 61 80 14", "SM54"),
    _s(3033403, "Agnès", "Demange", "F", "Médecin généraliste", "gp", "10",
       f"agnes.demange@{_MED}", "Cabinet médical, 88290 Saulxures-sur-Moselotte",
       "03 29 24 61 09", "SM54"),
    _s(3033404, "François", "Lambert", "M", "Médecin généraliste", "gp", "10",
       f"francois.lambert@{_MED}", "5 rue de la Xavée, 88200 Remiremont", "03 29 62 28 45",
       "SM54"),
    _s(3033405, "Marie", "Petitjean", "F", "Médecin généraliste", "gp", "10",
       f"marie.petitjean@{_MED}", "Cabinet médical, 88400 Xonrupt-Longemer", "03 29 63 37 02",
       "SM54"),
    _s(3033406, "Luc", "Hingray", "M", "Médecin généraliste", "gp", "10", f"luc.hingray@{_MED}",
       "Cabinet médical, 88310 Ventron", "03 29 24 18 77", "SM54"),
    _s(3033407, "Anne", "Schmit", "F", "Médecin généraliste", "gp_lux", "10",
       f"anne.schmit@{_MED}", "Cabinet médical, Esch-sur-Alzette (Luxembourg)",
       "+352 54 12 33", "SM54"),
    _s(3033408, "Luc", "Hoffmann", "M", "Médecin généraliste", "gp_lux", "10",
       f"luc.hoffmann@{_MED}", "Cabinet médical, Dudelange (Luxembourg)", "+352 51 80 22",
       "SM54"),
    _s(3033409, "Stéphanie", "Bastien", "F", "Médecin, service de médecine polyvalente",
       "hospital_doctor", "10", f"stephanie.bastien@{_CHR}",
       "Médecine polyvalente, CH de Remiremont", "03 29 23 41 00", "SM54"),
    # Nurses
    _s(4044501, "Claire", "Colin", "F", "Infirmière libérale", "nurse", "60",
       f"claire.colin@{_IDE}", "Cabinet infirmier, 5 place du Marché, 88400 Gérardmer",
       "06 12 45 78 90"),
    _s(4044502, "Nathalie", "Perrin", "F", "Infirmière libérale", "nurse", "60",
       f"nathalie.perrin@{_IDE}", "Cabinet infirmier des Champs-Navés, 88250 La Bresse",
       "06 08 22 41 75"),
    _s(4044503, "Sébastien", "Marchal", "M", "Infirmier libéral", "nurse", "60",
       f"sebastien.marchal@{_IDE}", "Cabinet infirmier, 88120 Vagney", "06 71 30 12 64"),
    _s(4044504, "Céline", "Poirot", "F", "Infirmière libérale", "nurse", "60",
       f"celine.poirot@{_IDE}", "Cabinet infirmier, 88160 Le Thillot", "06 33 54 17 08"),
    _s(4044505, "Aurélie", "Gérard", "F", "Infirmière libérale", "nurse", "60",
       f"aurelie.gerard@{_IDE}", "Cabinet infirmier, 88310 Cornimont", "06 85 19 62 43"),
    _s(4044506, "Virginie", "Humbert", "F", "Infirmière de coordination", "hospital_nurse",
       "60", f"virginie.humbert@{_CHR}", "Cellule de coordination des sorties, CH de Remiremont",
       "03 29 23 40 87"),
    _s(4044507, "Julie", "Vincent", "F", "IDE de coordination", "hospital_nurse", "60",
       f"julie.vincent@{_CHR}", "Service de médecine gériatrique, CH de Remiremont",
       "03 29 23 41 92"),
    _s(4044508, "Laetitia", "Didier", "F", "Infirmière Asalée", "nurse", "60",
       f"laetitia.didier@{_IDE}", "Maison de santé, 88290 Saulxures-sur-Moselotte",
       "06 47 28 93 11"),
    # Physiotherapists
    _s(5055601, "Thomas", "Valentin", "M", "Masseur-kinésithérapeute", "kine", "70",
       f"thomas.valentin@{_MK}", "Cabinet de kinésithérapie, 88400 Gérardmer", "03 29 60 02 15"),
    _s(5055602, "Émilie", "Laurent", "F", "Kinésithérapeute", "kine", "70",
       f"emilie.laurent@{_MK}", "12 rue des Prêtres, 88200 Remiremont", "03 29 62 56 48"),
    _s(5055603, "Guillaume", "Antoine", "M", "Masseur-kinésithérapeute", "kine", "70",
       f"guillaume.antoine@{_MK}", "Cabinet de kiné, 88160 Le Thillot", "03 29 25 31 76"),
    # Pharmacists
    _s(6066701, "Jean-Marc", "Pierrat", "M", "Pharmacien titulaire", "pharmacist", "21",
       f"jean-marc.pierrat@{_PHA}", "Pharmacie du Lac, 88400 Gérardmer", "03 29 63 02 11"),
    _s(6066702, "Sandrine", "Mathieu", "F", "Pharmacienne", "pharmacist", "21",
       f"sandrine.mathieu@{_PHA}", "Pharmacie de la Moselotte, 88290 Saulxures-sur-Moselotte",
       "03 29 24 60 35"),
    _s(6066703, "Olivier", "Claudel", "M", "Pharmacien", "pharmacist", "21",
       f"olivier.claudel@{_PHA}", "Pharmacie Centrale, 88310 Cornimont", "03 29 24 11 52"),
    _s(6066704, "Pauline", "Bastien", "F", "Pharmacienne adjointe", "pharmacist", "21",
       f"pauline.bastien@{_PHA}", "Pharmacie de Vagney, 88120 Vagney", "03 29 24 72 81"),
    # Dentists
    _s(7077801, "Frédéric", "Germain", "M", "Chirurgien-dentiste", "dentist", "40",
       f"frederic.germain@{_CD}", "Cabinet dentaire, 88250 La Bresse", "03 29 25 48 30"),
    _s(7077802, "Caroline", "Aubert", "F", "Chirurgienne-dentiste", "dentist", "40",
       f"caroline.aubert@{_CD}", "Cabinet dentaire, 88200 Remiremont", "03 29 62 91 04"),
    # Midwives
    _s(8088901, "Marion", "Thiébaut", "F", "Sage-femme", "midwife", "50",
       f"marion.thiebaut@{_CHR}", "Maternité du CH de Remiremont", "03 29 23 43 10"),
    _s(8088902, "Lucie", "Grandclaude", "F", "Sage-femme libérale", "midwife", "50",
       f"lucie.grandclaude@{_SF}", "Cabinet de sage-femme, 88400 Gérardmer", "06 52 18 40 77"),
    # Podiatrists, speech therapists
    _s(8099001, "Damien", "Rémy", "M", "Pédicure-podologue", "podiatrist", "80",
       f"damien.remy@{_PP}", "Cabinet de podologie, 88400 Gérardmer", "03 29 41 22 09"),
    _s(8099002, "Amandine", "Lhote", "F", "Pédicure-podologue", "podiatrist", "80",
       f"amandine.lhote@{_PP}", "Cabinet de podologie, 88200 Remiremont", "03 29 26 14 50"),
    _s(9010101, "Chloé", "Vaxelaire", "F", "Orthophoniste", "speech", "91",
       f"chloe.vaxelaire@{_OR}", "Cabinet d'orthophonie, 88200 Remiremont", "03 29 62 70 18"),
    _s(9010102, "Manon", "Jeangeorges", "F", "Orthophoniste", "speech", "91",
       f"manon.jeangeorges@{_OR}", "Cabinet d'orthophonie, 88250 La Bresse", "03 29 25 60 43"),
    # Social and médico-social senders (not in the national directory)
    _s(None, "Martine", "Houillon", "F", "Assistante sociale de secteur", "social", None,
       "martine.houillon@vosges.fr", "Maison de la solidarité, Conseil départemental des Vosges, "
       "88200 Remiremont", "03 29 62 11 80", known=False),
    _s(None, "Karine", "Balland", "F", "Assistante sociale, service social", "social", None,
       f"service.social@{_CHR}", "Service social du CH de Remiremont", "03 29 23 40 31",
       known=False),
    _s(None, "Delphine", "Morel", "F", "Conseillère, CCAS", "social", None,
       "d.morel@ccas-gerardmer.fr", "CCAS de Gérardmer, 88400 Gérardmer", "03 29 60 60 12",
       known=False),
    _s(None, "Sylvie", "Grosjean", "F", "Assistante sociale, pôle gérontologie", "social", None,
       "sylvie.grosjean@vosges.fr", "Pôle gérontologique, Conseil départemental des Vosges",
       "03 29 29 88 40", known=False),
    _s(None, "Isabelle", "Rémond", "F", "Infirmière coordinatrice SSIAD", "ssiad", None,
       "ssiad.hautes-vosges@wanadoo.fr", "SSIAD des Hautes-Vosges, 88120 Vagney",
       "03 29 24 88 12", known=False),
    _s(None, "Coralie", "Fleurot", "F", "Responsable de secteur, aide à domicile", "saad", None,
       "c.fleurot@admr88.fr", "ADMR de la vallée de la Moselotte", "03 29 24 55 70",
       known=False),
    _s(None, "Agathe", "Mangin", "F", "Puéricultrice de PMI", "pmi", None,
       "agathe.mangin@vosges.fr", "PMI, Maison de la solidarité de Gérardmer", "03 29 60 12 95",
       known=False),
    # Unknown mailboxes (télé-expertise requérants the directory does not know)
    _s(None, "Rémi", "Schaller", "M", "Médecin généraliste remplaçant", "unknown", None,
       f"remi.schaller@{_MED}", "Remplacements, secteur de Gérardmer", "06 20 31 44 58",
       known=False),
    _s(None, "Florian", "Vuillemin", "M", "Kinésithérapeute", "unknown", None,
       "kine.vuillemin.vagney@gmail.com", "Cabinet de kinésithérapie, 88120 Vagney",
       "06 44 10 27 39", known=False),
    _s(None, "Estelle", "Marande", "F", "Infirmière", "unknown", None,
       "estelle.marande@cabinet-ide-bresse.fr", "Cabinet infirmier, 88250 La Bresse",
       "06 38 71 26 90", known=False),
)

_ROSTER_INFO: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Grandemange": ((), ("88400", "88530", "88640")),
    "Curien": ((), ("88250", "88310")),
    "Villaume": ((), ("88120", "88290")),
    "Houot": ((), ("88200", "88120")),
    "Arnould": ((), ("88160", "88290")),
    "Valdenaire": ((), ("88310", "88250", "88290")),
    "Lhuillier": (("orl",), ("88200",)),
    "Kieffer": (("radiologie",), ("88200",)),
    "Jeandel": (("bilio_pancreatique",), ("88200",)),
    "Georgel": (("urologie",), ("88000",)),
    "Toussaint": (("medecine_interne",), ("88200",)),
    "Benali": (("infectiologie",), ("88200",)),
    "Mougin": (("dermatologie",), ("88400",)),
    "Parmentier": (("gastro_enterologie",), ("88200",)),
}

ROSTER: tuple[RosterEntry, ...] = tuple(
    RosterEntry(
        rpps=s.rpps or "",
        name=f"Dr {s.given_name} {s.family_name}",
        email=s.email,
        speciality=s.speciality or "SM54",
        filieres=_ROSTER_INFO[s.family_name][0],
        accepts_new_patients=s.kind == "gp_roster",
        communes=_ROSTER_INFO[s.family_name][1],
    )
    for s in SENDERS
    if s.kind in ("gp_roster", "requis")
)

KNOWN_PROFESSIONALS: tuple[Professional, ...] = tuple(
    Professional(
        email=s.email,
        rpps=s.rpps or "",
        family_name=s.family_name,
        given_name=s.given_name,
        profession_code=s.profession_code or "",
        speciality=s.speciality,
    )
    for s in SENDERS
    if s.known
)
