"""One request as facts (what is true, what is written) and its ground-truth verdict.

The verdict is computed here from the facts, with the semantics of the brief and the
seeds (003 signalement, 002 télé-expertise, 004 DAC, 000 médecin référent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from .dates import age_months, age_years
from .directory import KNOWN_PROFESSIONALS, OPEN_FILIERES, ROSTER, Sender
from .model import RosterEntry, Verdict
from .people import FamilyWriter, Patient
from .territory import TERRITORY_COMMUNES, TERRITORY_POSTAL_CODES

__all__ = ["DAC_MEDICAL", "DAC_SOCIAL", "Case", "Reporter", "expected_fields", "judge"]

DAC_MEDICAL = ("polypathologie", "pathologie_desequilibree", "hospitalisations_repetees")
DAC_SOCIAL = (
    "isolement_social",
    "vulnerabilite_sociale",
    "pratiques_inadaptees",
    "dependance_multi_acteurs",
)
_KNOWN_EMAILS = frozenset(p.email for p in KNOWN_PROFESSIONALS) | frozenset(r.email for r in ROSTER)
_CODES = {p.email: p.profession_code for p in KNOWN_PROFESSIONALS}


@dataclass
class Reporter:
    """Who writes: a professional (``sender``), a relative (``family``) or the patient."""

    role: str  # "professional" | "family" | "patient"
    email: str
    given_name: str
    family_name: str
    sex: str
    sender: Sender | None = None
    family: FamilyWriter | None = None
    signs_family_name: bool = True
    show_rpps: bool = False
    secretary: bool = False  # a GP's secretary writes for the doctor


@dataclass
class Case:
    programme: str
    style: str
    when: datetime
    patient: Patient
    reporter: Reporter
    # What the request states about the patient.
    show_family: bool = True
    show_given: bool = True
    birth_mode: str = "date"  # "date" | "age" | "none"
    addr_mode: str = "full"  # "full" | "cp_city" | "city" | "cp" | "none"
    show_ins: bool = False
    mt: str | None = None  # None | "none" | "retired" | "searching" | "has"
    former_mt: str = ""
    current_mt: str = ""
    # Signalement and médecin référent.
    ald: bool | None = None
    ald_numbers: list[int] = field(default_factory=list)
    ald_named: bool = False  # the ALD is written by its name only (no number)
    ald_text: str = ""  # the ALD's name as written, if any
    ald_pending: bool = False  # "une ALD est en cours de demande"
    family_history: bool = False  # a relative's disease, not the patient's
    arret: bool | None = None
    sortie: bool | None = None
    sortie_date: date | None = None
    # DAC.
    dac: list[str] = field(default_factory=list)  # criteria asserted
    dac_denied: str | None = None  # "medical" | "social"
    dac_text: dict[str, str] = field(default_factory=dict)  # criterion -> sentence
    # Médecin référent.
    dsp: bool | None = None
    # Télé-expertise.
    filiere: str | None = None  # id; open or closed
    filiere_stated: bool = True
    requis: RosterEntry | None = None
    question: str | None = None
    consent: bool | None = None
    photos: int = 0
    # A decisive contradiction between two parts of the request.
    contradiction: str | None = None
    # Context for the renderer.
    tags: set[str] = field(default_factory=set)

    @property
    def mail_date(self) -> date:
        return self.when.date()

    @property
    def age(self) -> int | None:
        """The age the request lets one compute (completed years), or None."""
        if self.birth_mode == "date":
            return age_years(self.patient.birth_date, self.mail_date)
        if self.birth_mode == "age":
            return age_years(self.patient.birth_date, self.mail_date)
        return None

    @property
    def over_seventy(self) -> bool | None:
        """DOMAIN.md: "over 70 (strictly, on the date of the signalement)": the 70th
        birthday is before the mail's date. A stated "70 ans" cannot tell (None)."""
        if self.birth_mode == "date":
            born = self.patient.birth_date
            try:
                seventieth = born.replace(year=born.year + 70)
            except ValueError:  # born on 29 February
                seventieth = born.replace(year=born.year + 70, day=28)
            return seventieth < self.mail_date
        if self.birth_mode == "age" and self.age is not None:
            return None if self.age == 70 else self.age > 70
        return None

    @property
    def postal_shown(self) -> bool:
        return self.addr_mode in ("full", "cp_city", "cp")

    @property
    def city_shown(self) -> bool:
        return self.addr_mode in ("full", "cp_city", "city")

    def has_commune(self) -> bool:
        if self.postal_shown:
            return True
        return self.city_shown and self.patient.city in TERRITORY_COMMUNES


def _mt_value(case: Case) -> bool | None:
    if case.mt is None:
        return None
    return case.mt == "has"


def expected_fields(case: Case) -> dict[str, object]:
    """The fields a correct parser extracts, None for what the request does not state."""
    p = case.patient
    fields: dict[str, object] = {
        "patient.family_name": p.family_name if case.show_family else None,
        "patient.given_names": (
            (list(p.given_names) if "all_given" in case.tags else [p.given])
            if case.show_given
            else None
        ),
        "patient.birth_date": p.birth_date.isoformat() if case.birth_mode == "date" else None,
        "patient.age_years": case.age if case.birth_mode == "age" else None,
        "patient.postal_code": p.postal_code if case.postal_shown and p.postal_code else None,
        "patient.city": p.city if case.city_shown else None,
        "patient.ins": p.ins if case.show_ins else None,
        "patient.has_medecin_traitant": _mt_value(case),
        "reporter.declared_role": case.reporter.role,
        "reporter.rpps": (
            case.reporter.sender.rpps
            if case.reporter.show_rpps and case.reporter.sender is not None
            else None
        ),
        "reporter.family_name": (
            case.reporter.family_name if case.reporter.signs_family_name else None
        ),
    }
    ald_list: list[int] | None = None
    if case.ald is not None:
        ald_list = list(case.ald_numbers)
    if case.programme == "signalement":
        fields["situation.ald_declared"] = case.ald
        fields["situation.ald"] = ald_list
        fields["situation.arret_travail"] = case.arret
        fields["situation.sortie_hospitalisation"] = case.sortie
    elif case.programme == "appui_dac":
        for name in DAC_MEDICAL + DAC_SOCIAL:
            fields[f"situation.{name}"] = True if name in case.dac else None
    elif case.programme == "medecin_referent":
        fields["situation.ald"] = ald_list
        fields["situation.ald_declared"] = case.ald
        fields["situation.dsp_active"] = case.dsp
    elif case.programme == "tele_expertise":
        fields["tele_expertise.filiere"] = case.filiere if case.filiere_stated else None
        fields["tele_expertise.consent"] = case.consent
        fields["tele_expertise.requis_name"] = case.requis.name if case.requis else None
    # A contradicted statement has no single expected value: it is left out.
    for key in _CONTRADICTED.get(case.contradiction or "", ()):
        fields.pop(key, None)
    return fields


_CONTRADICTED: dict[str, tuple[str, ...]] = {
    "ald": ("situation.ald_declared", "situation.ald"),
    "mt": ("patient.has_medecin_traitant",),
    "commune": ("patient.postal_code", "patient.city"),
    "dsp": ("situation.dsp_active",),
    "consent": ("tele_expertise.consent",),
    "isolement": ("situation.isolement_social",),
}


def judge(case: Case) -> tuple[Verdict, str]:
    """The verdict the sender must be told, and the seed rule that gives it."""
    judges = {
        "signalement": _judge_signalement,
        "tele_expertise": _judge_te,
        "appui_dac": _judge_dac,
        "medecin_referent": _judge_mr,
    }
    return judges[case.programme](case)


def _missing_identity(case: Case, *, age_ok: bool, commune: bool) -> list[str]:
    missing = []
    if not case.show_family:
        missing.append("family name")
    if case.programme == "signalement" and not case.show_given:
        missing.append("given name")
    if case.birth_mode == "none" or (case.birth_mode == "age" and not age_ok):
        missing.append("birth date")
    if commune and not case.has_commune():
        missing.append("commune")
    return missing


def _judge_signalement(case: Case) -> tuple[Verdict, str]:
    r = case.reporter
    if r.role != "professional":
        return "rejected", f"seed 003: reports from the {r.role} are not taken (not a professional)"
    if case.contradiction:
        return "coordinator", f"seed 003: the request contradicts itself on {case.contradiction}"
    if case.postal_shown and case.patient.postal_code not in TERRITORY_POSTAL_CODES:
        return "ineligible", (
            f"seed 003: patient lives in {case.patient.postal_code}, outside the CPTS territory"
        )
    if case.mt == "has":
        return "ineligible", "seed 003: the patient has a médecin traitant who follows them"
    age = case.age
    months = age_months(case.patient.birth_date, case.mail_date)
    criteria = []
    if case.ald:
        criteria.append("ALD")
    if case.over_seventy:
        criteria.append(f"over 70 (age {age})")
    if case.arret:
        criteria.append("arrêt de travail with follow-up")
    if case.sortie:
        criteria.append("hospital discharge with follow-up")
    if case.birth_mode == "date" and months <= 18:
        criteria.append(f"child of {months} months")
    negated = case.ald is False and case.arret is False and case.sortie is False
    if not criteria and negated and case.over_seventy is False and months > 18:
        return "ineligible", (
            f"seed 003: age {age}, not over 70, no ALD, no arrêt de travail, no hospital discharge"
        )
    missing = _missing_identity(case, age_ok=True, commune=True)
    if not criteria:
        missing.append("a situation criterion (none stated)")
    if missing:
        return "incomplete", "seed 003: missing " + ", ".join(missing)
    mt = "no MT stated" if case.mt else "MT not mentioned (presumed none)"
    return "eligible", f"seed 003: {', '.join(criteria)}; patient in territory; {mt}"


def _judge_te(case: Case) -> tuple[Verdict, str]:
    r = case.reporter
    if r.role != "professional":
        return "rejected", f"seed 002: the requérant is the {r.role}, not a health professional"
    if r.email not in _KNOWN_EMAILS:
        return "rejected", "seed 002: the sender's mailbox is unknown to the directory"
    if case.contradiction:
        return "coordinator", f"seed 002: the request contradicts itself on {case.contradiction}"
    code = _CODES.get(r.email, "")
    if code in ("21", "40"):
        return "ineligible", f"seed 002: profession {code} cannot request a télé-expertise"
    if case.filiere and case.filiere_stated and case.filiere not in OPEN_FILIERES:
        return "ineligible", f"seed 002: filière {case.filiere} is not open"
    if case.consent is False:
        return "ineligible", "seed 002: the patient refused (consent required)"
    missing = _missing_identity(case, age_ok=False, commune=False)
    if not (case.filiere_stated and case.filiere) and case.requis is None:
        missing.append("filière or requis")
    if not case.question:
        missing.append("question")
    if case.consent is None:
        missing.append("consent (not mentioned)")
    if missing:
        return "incomplete", "seed 002: missing " + ", ".join(missing)
    target = case.filiere if case.filiere_stated and case.filiere else "named requis"
    return "eligible", f"seed 002: {target} open, explicit consent, professional requérant"


def _judge_dac(case: Case) -> tuple[Verdict, str]:
    if case.contradiction:
        return "coordinator", f"seed 004: the request contradicts itself on {case.contradiction}"
    medical = [c for c in case.dac if c in DAC_MEDICAL]
    social = [c for c in case.dac if c in DAC_SOCIAL]
    if medical and case.dac_denied == "social":
        return "ineligible", "seed 004: medical criteria but the psycho-social side is denied"
    if social and case.dac_denied == "medical":
        return "ineligible", "seed 004: psycho-social criteria but the medical side is denied"
    missing = _missing_identity(case, age_ok=True, commune=True)
    if not medical:
        missing.append("a medical criterion")
    if not social:
        missing.append("a psycho-social criterion")
    who = "" if case.reporter.role == "professional" else f" (asked by the {case.reporter.role})"
    if missing:
        return "incomplete", "seed 004: missing " + ", ".join(missing) + who
    return "eligible", (
        f"seed 004: medical ({', '.join(medical)}) and psycho-social ({', '.join(social)}){who}"
    )


def _judge_mr(case: Case) -> tuple[Verdict, str]:
    r = case.reporter
    if r.role != "professional":
        return "rejected", f"seed 000: the declaration comes from the {r.role}, not a doctor"
    if case.contradiction:
        return "coordinator", f"seed 000: the request contradicts itself on {case.contradiction}"
    if case.dsp is False:
        return "ineligible", "seed 000: the DSP is not activated"
    if case.ald and case.ald_numbers and not any(1 <= n <= 32 for n in case.ald_numbers):
        return "ineligible", f"seed 000: ALD {case.ald_numbers[0]} is not in the list of 32"
    missing = _missing_identity(case, age_ok=False, commune=False)
    if not case.ald:
        missing.append("an ALD")
    if case.dsp is None:
        missing.append("DSP status")
    if missing:
        return "incomplete", "seed 000: missing " + ", ".join(missing)
    return "eligible", f"seed 000: ALD {case.ald_numbers} in the list of 32 and DSP activated"
