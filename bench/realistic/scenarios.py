"""Recipes: for each programme and verdict, how to build a request's facts.

A recipe sets the facts; ``case.judge`` computes the verdict from them, and the
generator checks the two agree (a recipe that misses its verdict is a bug).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from copy import copy
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from functools import partial

from .case import DAC_MEDICAL, DAC_SOCIAL, Case, Reporter
from .directory import CLOSED_FILIERES, OPEN_FILIERES, ROSTER, SENDERS, Sender
from .model import Verdict
from .people import (
    FAMILY_NAMES,
    FORMER_DOCTORS,
    LUX_FAMILY_NAMES,
    PERSONAL_DOMAINS,
    Patient,
    ascii_fold,
    family_writer,
    make_patient,
)
from .phrasing import ALD_NAMES, TE_QUESTIONS, dac_texts
from .styles import STYLES
from .territory import OUT_OF_TERRITORY

__all__ = ["RECIPES", "Ctx", "Recipe", "finalize"]


@dataclass
class Ctx:
    rng: random.Random
    programme: str
    style: str
    when: datetime

    @property
    def on(self) -> date:
        return self.when.date()


@dataclass(frozen=True)
class Recipe:
    name: str
    programme: str
    verdict: Verdict
    share: float
    styles: tuple[str, ...]
    build: Callable[[Ctx], Case]


_FACTS = frozenset(f.name for f in fields(Case))


def _variant(base: Callable[[Ctx], Case], **facts: object) -> Callable[[Ctx], Case]:
    """A recipe that builds ``base``'s case, then sets ``facts`` on it (no further draw)."""
    unknown = facts.keys() - _FACTS
    if unknown:
        raise TypeError(f"Case has no fact {sorted(unknown)}")

    def build(ctx: Ctx) -> Case:
        case = base(ctx)
        for name, value in facts.items():
            setattr(case, name, copy(value))  # a list of its own for each case
        return case

    return build


# -- Reporters --------------------------------------------------------------------------
_DOCTOR_KINDS = ("gp", "gp_roster", "gp_lux", "requis", "hospital_doctor")
_PROGRAMME_KINDS: dict[str, tuple[str, ...]] = {
    "signalement": ("nurse", "nurse", "nurse", "kine", "pharmacist", "pharmacist", "gp",
                    "hospital_nurse", "podiatrist", "speech", "social", "dentist", "ssiad"),
    "tele_expertise": ("gp", "gp", "gp", "gp_roster", "requis", "nurse", "midwife", "kine",
                       "podiatrist", "speech"),
    "appui_dac": ("gp", "gp", "nurse", "nurse", "pharmacist", "kine", "hospital_nurse", "ssiad",
                  "social", "saad"),
    "medecin_referent": ("gp", "gp_lux", "gp_lux"),
}  # fmt: skip


def _senders(kinds: tuple[str, ...]) -> list[Sender]:
    return [s for s in SENDERS if s.kind in kinds]


def _style_kinds(ctx: Ctx, kinds: tuple[str, ...] | None) -> tuple[str, ...]:
    kinds = kinds or _PROGRAMME_KINDS[ctx.programme]
    if ctx.style == "secretary_template":
        kinds = tuple(k for k in kinds if k in _DOCTOR_KINDS) or ("gp",)
    elif ctx.style == "discharge_note":
        kinds = ("hospital_nurse", "hospital_doctor", "ch_social")
    elif ctx.style == "social_worker_report":
        kinds = ("social", "ssiad", "saad")
    return kinds


def pro_reporter(ctx: Ctx, kinds: tuple[str, ...] | None = None) -> Reporter:
    rng = ctx.rng
    kinds = _style_kinds(ctx, kinds)
    pool = _senders(kinds)
    if "ch_social" in kinds:
        pool += [s for s in SENDERS if s.email.startswith("service.social@")]
    if ctx.style == "cda":
        pool = [s for s in pool if s.rpps] or [s for s in SENDERS if s.kind == "nurse"]
    sender = rng.choice(pool)
    show_rpps = bool(sender.rpps) and (ctx.style == "cda" or rng.random() < 0.35)
    return Reporter(
        role="professional",
        email=sender.email,
        given_name=sender.given_name,
        family_name=sender.family_name,
        sex=sender.sex,
        sender=sender,
        show_rpps=show_rpps,
        secretary=ctx.style == "secretary_template",
    )


def family_reporter(ctx: Ctx, patient: Patient) -> Reporter:
    fw = family_writer(ctx.rng, patient)
    signs = ctx.rng.random() < 0.75
    email = fw.email
    if not signs:
        nickname = ascii_fold(fw.given_name).lower().replace("-", "")
        email = f"{nickname}{ctx.rng.randint(10, 99)}@{email.split('@')[1]}"
    return Reporter(
        "family", email, fw.given_name, fw.family_name, fw.sex, family=fw, signs_family_name=signs
    )


def patient_reporter(ctx: Ctx, case: Case, *, mssante: bool = True) -> None:
    p = case.patient
    if mssante and ctx.rng.random() < 0.4:
        email = f"{p.ins}@patient.mssante.fr"
        case.show_ins = True  # the patient mailbox carries the INS
    else:
        local = ascii_fold(f"{p.given}.{p.family_name}").lower().replace(" ", "")
        email = f"{local}@{ctx.rng.choice(PERSONAL_DOMAINS)}"
        case.show_ins = False
    case.reporter = Reporter("patient", email, p.given, p.family_name, p.sex)


# -- Case skeletons ---------------------------------------------------------------------
def _weighted(rng: random.Random, options: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def new_case(ctx: Ctx, patient: Patient, reporter: Reporter | None = None) -> Case:
    rng = ctx.rng
    case = Case(ctx.programme, ctx.style, ctx.when, patient, reporter or pro_reporter(ctx))
    if ctx.programme in ("signalement", "appui_dac"):
        case.birth_mode = _weighted(rng, (("date", 0.8), ("age", 0.2)))
        case.addr_mode = _weighted(
            rng, (("full", 0.45), ("cp_city", 0.3), ("city", 0.15), ("cp", 0.1))
        )
        if case.addr_mode == "city" and patient.postal_code not in _TERRITORY_CODES:
            case.addr_mode = "cp_city"
    elif ctx.programme == "tele_expertise":
        case.addr_mode = _weighted(rng, (("none", 0.7), ("cp_city", 0.15), ("full", 0.15)))
    else:
        case.addr_mode = _weighted(rng, (("city", 0.6), ("none", 0.4)))
    if ctx.programme != "medecin_referent":
        case.show_ins = rng.random() < (0.6 if ctx.style == "cda" else 0.25)
    multiple = len(patient.given_names) > 1
    if multiple and ctx.style in ("docx_form", "cda", "terse_labels") and rng.random() < 0.5:
        case.tags.add("all_given")
    if (
        ctx.style in ("patient_mail", "family_mail")
        and case.birth_mode == "date"
        and rng.random() < 0.4
    ):
        case.birth_mode = "age"
    return case


_TERRITORY_CODES = frozenset(
    {"88400", "88530", "88250", "88310", "88290", "88120", "88200", "88160", "88640"}
)


def set_mt(case: Case, rng: random.Random, allow_unmentioned: bool = True) -> None:
    options = [("none", 0.35), ("retired", 0.25), ("searching", 0.1)]
    if allow_unmentioned:
        options.append(("", 0.3))
    case.mt = _weighted(rng, tuple(options)) or None
    case.former_mt = rng.choice(FORMER_DOCTORS)
    gps = [s for s in SENDERS if s.kind == "gp"]
    gp = rng.choice(gps)
    case.current_mt = (
        f"Dr {gp.given_name} {gp.family_name}" if rng.random() < 0.7 else (f"Dr {gp.family_name}")
    )


def give_ald(case: Case, rng: random.Random, *, child: bool = False) -> None:
    case.ald = True
    number = 18 if child else rng.choice([n for n in ALD_NAMES if n != 18])
    mode = _weighted(rng, (("both", 0.35), ("name", 0.25), ("number", 0.15), ("plain", 0.25)))
    if mode == "plain":
        case.ald_numbers = []
        return
    case.ald_numbers = [number]
    if mode in ("both", "name"):
        case.ald_text = rng.choice(ALD_NAMES[number])
    case.ald_named = mode == "name"


# -- Signalement -------------------------------------------------------------------------
_CRIT_AGES = {"ald": (20, 95), "old": (71, 97), "arret": (22, 62), "sortie": (25, 95)}


def _sig_patient(ctx: Ctx, kind: str, where: str = "territory") -> Patient:
    if kind == "child":
        return make_patient(ctx.rng, ctx.on, age_days=ctx.rng.randint(15, 520), where=where)
    lo, hi = _CRIT_AGES[kind]
    return make_patient(ctx.rng, ctx.on, age=ctx.rng.randint(lo, hi), where=where)


def _pick_kind(ctx: Ctx, kinds: tuple[str, ...] = ("ald", "old", "arret", "sortie")) -> str:
    if ctx.style == "discharge_note":
        return "sortie"
    return ctx.rng.choice(kinds)


def _apply_kind(case: Case, ctx: Ctx, kind: str) -> None:
    """Make criterion ``kind`` hold; the other criteria are unmentioned or denied."""
    rng = ctx.rng
    age = case.age or 0
    case.ald = rng.choice((None, None, False))
    case.arret = rng.choice((None, None, False)) if age < 66 else None
    case.sortie = rng.choice((None, None, False))
    if kind == "ald":
        give_ald(case, rng)
    elif kind == "arret":
        case.arret = True
    elif kind == "sortie":
        case.sortie = True
        case.sortie_date = ctx.on - timedelta(days=rng.randint(3, 15))
    elif kind == "old" and case.birth_mode == "none":
        case.birth_mode = "date"
    elif kind == "child":
        case.birth_mode = "date"
        case.arret = None
        case.sortie = rng.choice((None, None, True))
        if case.sortie:
            case.sortie_date = ctx.on - timedelta(days=rng.randint(3, 10))
    if ctx.style == "discharge_note":
        case.sortie = True
        case.sortie_date = case.sortie_date or ctx.on - timedelta(days=rng.randint(1, 15))
    # A second criterion now and then.
    if kind != "ald" and rng.random() < 0.2 and kind != "child":
        give_ald(case, rng)


def _sig_reporter_kinds(kind: str) -> tuple[str, ...] | None:
    if kind == "child":
        return ("midwife", "pmi", "pharmacist", "nurse")
    return None


def _sig_holding(
    ctx: Ctx, kinds: tuple[str, ...] = ("ald", "old", "arret", "sortie"), where: str = "territory"
) -> Case:
    kind = _pick_kind(ctx, kinds)
    patient = _sig_patient(ctx, kind, where)
    case = new_case(ctx, patient, pro_reporter(ctx, _sig_reporter_kinds(kind)))
    if kind == "child":
        case.birth_mode = "date"
    set_mt(case, ctx.rng)
    _apply_kind(case, ctx, kind)
    return case


def sig_eligible(ctx: Ctx) -> Case:
    return _sig_holding(ctx)


def sig_child(ctx: Ctx) -> Case:
    case = _sig_holding(ctx, ("child",))
    if case.mt == "retired":
        case.mt = "none"
    return case


def _sig_boundary(ctx: Ctx, patient: Patient, seventieth: date) -> Case:
    """No criterion but, maybe, age: ``patient`` turns 70 on ``seventieth``."""
    patient.birth_date = date(seventieth.year - 70, seventieth.month, seventieth.day)
    case = new_case(ctx, patient)
    case.birth_mode = "date"
    set_mt(case, ctx.rng, allow_unmentioned=False)
    case.ald, case.arret, case.sortie = False, False, False
    return case


def sig_boundary_71(ctx: Ctx) -> Case:
    # 70th birthday 1 to 5 days before the mail: strictly over 70 (DOMAIN.md).
    patient = make_patient(ctx.rng, ctx.on, age=70)
    return _sig_boundary(ctx, patient, ctx.on - timedelta(days=ctx.rng.randint(1, 5)))


sig_pending_old = _variant(
    partial(_sig_holding, kinds=("old",)), ald=None, ald_numbers=[], ald_pending=True
)
sig_family_history = _variant(
    partial(_sig_holding, kinds=("old", "sortie", "arret")), family_history=True
)


def sig_outside(ctx: Ctx) -> Case:
    case = _sig_holding(ctx, where="outside")
    if case.addr_mode == "city":
        case.addr_mode = "cp_city"
    return case


sig_has_mt = _variant(sig_eligible, mt="has")


def _no_criterion_base(ctx: Ctx, age: int) -> Case:
    patient = make_patient(ctx.rng, ctx.on, age=age)
    case = new_case(ctx, patient)
    set_mt(case, ctx.rng)
    return case


def sig_no_criterion(ctx: Ctx) -> Case:
    case = _no_criterion_base(ctx, ctx.rng.randint(19, 69))
    case.ald, case.arret, case.sortie = False, False, False
    return case


def sig_boundary_70(ctx: Ctx) -> Case:
    # 70th birthday 3 to 8 days after the mail: 69, not over 70.
    patient = make_patient(ctx.rng, ctx.on, age=69)
    return _sig_boundary(ctx, patient, ctx.on + timedelta(days=ctx.rng.randint(3, 8)))


def sig_nothing_said(ctx: Ctx) -> Case:
    case = _no_criterion_base(ctx, ctx.rng.randint(25, 69))
    case.ald = case.arret = case.sortie = None
    return case


def sig_partial_negation(ctx: Ctx) -> Case:
    case = _no_criterion_base(ctx, ctx.rng.randint(25, 69))
    which = ctx.rng.choice(("ald", "arret", "sortie", "two"))
    case.ald = False if which in ("ald", "two") else None
    case.arret = False if which in ("arret", "two") else None
    case.sortie = False if which == "sortie" else None
    return case


def sig_pending_young(ctx: Ctx) -> Case:
    case = _no_criterion_base(ctx, ctx.rng.randint(35, 65))
    case.ald_pending = True
    case.arret, case.sortie = False, False
    return case


sig_no_birth = _variant(partial(_sig_holding, kinds=("ald", "sortie", "arret")), birth_mode="none")


def sig_no_given(ctx: Ctx) -> Case:
    case = _sig_holding(ctx)
    case.show_given = False
    case.tags.discard("all_given")
    return case


sig_no_family = _variant(sig_eligible, show_family=False)
sig_no_commune = _variant(sig_eligible, addr_mode="none")


def sig_family(ctx: Ctx) -> Case:
    kind = _pick_kind(ctx, ("ald", "old", "old", "sortie"))
    patient = _sig_patient(ctx, kind)
    case = new_case(ctx, patient, family_reporter(ctx, patient))
    set_mt(case, ctx.rng)
    _apply_kind(case, ctx, kind)
    return case


def sig_patient(ctx: Ctx) -> Case:
    kind = _pick_kind(ctx, ("ald", "old", "arret", "sortie"))
    patient = _sig_patient(ctx, kind)
    case = new_case(ctx, patient)
    patient_reporter(ctx, case)
    set_mt(case, ctx.rng)
    _apply_kind(case, ctx, kind)
    return case


def sig_contra_ald(ctx: Ctx) -> Case:
    case = _no_criterion_base(ctx, ctx.rng.randint(30, 65))
    give_ald(case, ctx.rng)
    case.arret, case.sortie = False, False
    case.contradiction = "ald"
    return case


sig_contra_mt = _variant(sig_eligible, mt="none", contradiction="mt")


def sig_contra_commune(ctx: Ctx) -> Case:
    case = _sig_holding(ctx)
    case.addr_mode = "full"
    city = ctx.rng.choice(sorted(OUT_OF_TERRITORY))
    case.patient.extra.update(
        contra_city=city, contra_cp=OUT_OF_TERRITORY[city], contra_street="12 rue Stanislas"
    )
    case.contradiction = "commune"
    return case


# -- Télé-expertise ---------------------------------------------------------------------
_TE_FILIERES_BY_KIND: dict[str, tuple[str, ...]] = {
    "nurse": ("dermatologie", "infectiologie"),
    "midwife": ("infectiologie", "dermatologie", "urologie"),
    "kine": ("radiologie",),
    "podiatrist": ("dermatologie", "infectiologie"),
    "speech": ("orl",),
}


def _te_case(
    ctx: Ctx,
    kinds: tuple[str, ...] | None = None,
    closed: bool = False,
    sender: Sender | None = None,
) -> Case:
    rng = ctx.rng
    patient = make_patient(rng, ctx.on, age=rng.randint(18, 90))
    if sender is not None:
        reporter = Reporter(
            "professional",
            sender.email,
            sender.given_name,
            sender.family_name,
            sender.sex,
            sender=sender,
            show_rpps=False,
        )
    else:
        reporter = pro_reporter(ctx, kinds)
    case = new_case(ctx, patient, reporter)
    kind = reporter.sender.kind if reporter.sender else "gp"
    if closed:
        case.filiere = rng.choice(sorted(CLOSED_FILIERES))
    else:
        options = _TE_FILIERES_BY_KIND.get(kind, tuple(OPEN_FILIERES))
        own: tuple[str, ...] = ()
        if reporter.sender and kind == "requis":
            own = next(r.filieres for r in ROSTER if r.email == reporter.sender.email)
        case.filiere = rng.choice([f for f in options if f not in own])
    case.question = rng.choice(TE_QUESTIONS[case.filiere])
    case.consent = True
    case.photos = rng.randint(1, 3) if case.filiere == "dermatologie" else rng.choice((0, 0, 1))
    if not closed and rng.random() < 0.25:
        case.requis = next(r for r in ROSTER if case.filiere in r.filieres)
    return case


def te_eligible(ctx: Ctx) -> Case:
    return _te_case(ctx)


def te_requis_only(ctx: Ctx) -> Case:
    case = _te_case(ctx, ("gp", "gp", "nurse"))
    case.requis = next(r for r in ROSTER if case.filiere in r.filieres)
    case.filiere_stated = False
    return case


def te_requis_requerant(ctx: Ctx) -> Case:
    return _te_case(ctx, ("requis",))


def te_closed(ctx: Ctx) -> Case:
    return _te_case(ctx, ("gp", "gp_roster"), closed=True)


te_refused = _variant(te_eligible, consent=False)


def te_profession(ctx: Ctx) -> Case:
    kind = ctx.rng.choice(("pharmacist", "pharmacist", "dentist"))
    sender = ctx.rng.choice(_senders((kind,)))
    case = _te_case(ctx, sender=sender)
    case.reporter.show_rpps = ctx.rng.random() < 0.4
    return case


te_no_consent = _variant(te_eligible, consent=None)


def te_no_birth(ctx: Ctx) -> Case:
    case = _te_case(ctx)
    case.birth_mode = ctx.rng.choice(("none", "age"))
    return case


te_no_question = _variant(te_eligible, question=None)
te_no_target = _variant(te_eligible, filiere_stated=False, requis=None)


def te_family(ctx: Ctx) -> Case:
    case = _te_case(ctx)
    case.reporter = family_reporter(ctx, case.patient)
    case.consent = None
    case.requis = None
    return case


def te_patient(ctx: Ctx) -> Case:
    case = _te_case(ctx)
    patient_reporter(ctx, case)
    case.consent = None
    case.requis = None
    return case


def te_unknown(ctx: Ctx) -> Case:
    sender = ctx.rng.choice(_senders(("unknown",)))
    return _te_case(ctx, sender=sender)


te_contra_consent = _variant(te_eligible, contradiction="consent")


# -- DAC ---------------------------------------------------------------------------------
def _dac_case(
    ctx: Ctx, reporter_role: str = "professional", medical: int = 1, social: int = 1
) -> Case:
    rng = ctx.rng
    patient = make_patient(rng, ctx.on, age=rng.choice((rng.randint(45, 70), rng.randint(70, 96))))
    if reporter_role == "family":
        case = new_case(ctx, patient, family_reporter(ctx, patient))
    else:
        case = new_case(ctx, patient)
        if reporter_role == "patient":
            patient_reporter(ctx, case)
    if case.addr_mode == "cp" and rng.random() < 0.5:
        case.addr_mode = "cp_city"
    first_person = reporter_role == "patient"
    chosen = rng.sample(DAC_MEDICAL, medical) if medical else []
    if first_person and len(chosen) == 2 and "polypathologie" not in chosen:
        chosen = ["polypathologie", chosen[0]]
    if ctx.style == "discharge_note" and medical and "hospitalisations_repetees" not in chosen:
        chosen[-1] = "hospitalisations_repetees"
    chosen += rng.sample(DAC_SOCIAL, social) if social else []
    case.dac = chosen
    case.dac_text = dac_texts(chosen, patient.sex, rng, first_person=first_person)
    mt = _weighted(rng, (("has", 0.4), ("none", 0.2), ("", 0.4)))
    case.mt = mt or None
    gp = rng.choice([s for s in SENDERS if s.kind == "gp"])
    case.current_mt = f"Dr {gp.given_name} {gp.family_name}"
    case.former_mt = rng.choice(FORMER_DOCTORS)
    return case


def dac_eligible(ctx: Ctx) -> Case:
    rng = ctx.rng
    return _dac_case(ctx, medical=rng.choice((1, 1, 2)), social=rng.choice((1, 1, 2)))


def dac_family(ctx: Ctx) -> Case:
    return _dac_case(ctx, "family", medical=ctx.rng.choice((1, 2)), social=ctx.rng.choice((1, 2)))


def dac_patient(ctx: Ctx) -> Case:
    return _dac_case(ctx, "patient")


def dac_no_social(ctx: Ctx) -> Case:
    return _dac_case(ctx, medical=ctx.rng.choice((1, 2)), social=0)


def dac_no_medical(ctx: Ctx) -> Case:
    return _dac_case(ctx, medical=0, social=ctx.rng.choice((1, 2)))


dac_no_birth = _variant(dac_eligible, birth_mode="none")
dac_no_commune = _variant(dac_eligible, addr_mode="none")


def dac_family_incomplete(ctx: Ctx) -> Case:
    return _dac_case(ctx, "family", medical=1, social=0)


def dac_denied(ctx: Ctx) -> Case:
    if ctx.rng.random() < 0.75:
        case = _dac_case(ctx, medical=ctx.rng.choice((1, 2)), social=0)
        case.dac_denied = "social"
    else:
        case = _dac_case(ctx, medical=0, social=1)
        case.dac_denied = "medical"
    return case


def dac_contra(ctx: Ctx) -> Case:
    case = _dac_case(ctx, medical=1, social=0)
    case.dac.append("isolement_social")
    case.dac_text["isolement_social"] = dac_texts(["isolement_social"], case.patient.sex, ctx.rng)[
        "isolement_social"
    ]
    case.contradiction = "isolement"
    return case


# -- Médecin référent --------------------------------------------------------------------
def _mr_case(ctx: Ctx, role: str = "professional") -> Case:
    rng = ctx.rng
    patient = make_patient(rng, ctx.on, age=rng.randint(30, 90), where="luxembourg")
    reporter = family_reporter(ctx, patient) if role == "family" else None
    case = new_case(ctx, patient, reporter)
    if role == "patient":
        patient_reporter(ctx, case, mssante=False)
    case.birth_mode = "date"
    case.ald = True
    case.ald_numbers = sorted(
        rng.sample([n for n in range(1, 33) if n != 12], rng.choice((1, 1, 2)))
    )
    case.dsp = True
    return case


def mr_eligible(ctx: Ctx) -> Case:
    return _mr_case(ctx)


mr_dsp_off = _variant(mr_eligible, dsp=False)


def mr_ald_out(ctx: Ctx) -> Case:
    case = _mr_case(ctx)
    case.ald_numbers = [ctx.rng.randint(33, 45)]
    return case


mr_no_dsp = _variant(mr_eligible, dsp=None)
mr_no_birth = _variant(mr_eligible, birth_mode="none")
mr_no_ald = _variant(mr_eligible, ald=None, ald_numbers=[])


def mr_family(ctx: Ctx) -> Case:
    case = _mr_case(ctx, "family")
    case.birth_mode = ctx.rng.choice(("date", "age"))
    return case


def mr_patient(ctx: Ctx) -> Case:
    return _mr_case(ctx, "patient")


mr_contra_dsp = _variant(mr_eligible, contradiction="dsp")


def finalize(case: Case, rng: random.Random) -> None:
    """No patient shares a surname with a doctor or professional named in the same mail,
    and a GP who writes is not named as the patient's current médecin traitant."""
    r = case.reporter
    family = case.patient.family_name
    taken = {r.family_name} if r.role == "professional" else set()
    if case.programme == "tele_expertise":
        taken |= {entry.name.split()[-1] for entry in ROSTER}
    if family in taken:
        pool = LUX_FAMILY_NAMES if case.programme == "medecin_referent" else FAMILY_NAMES
        family = case.patient.family_name = rng.choice([n for n in pool if n not in taken])
    gps = [s for s in SENDERS if s.kind == "gp" and s.family_name not in (family, r.family_name)]
    if case.current_mt.split()[-1:] in ([family], [r.family_name]):
        gp = rng.choice(gps)
        case.current_mt = f"Dr {gp.given_name} {gp.family_name}"
    if case.former_mt.endswith(family):
        case.former_mt = rng.choice([d for d in FORMER_DOCTORS if not d.endswith(family)])
    # A signalement form always has a "Médecin traitant" line, and its title says
    # "patient sans médecin traitant": on a form, the MT is stated.
    if case.programme == "signalement" and case.style in ("docx_form", "pdf_form") and not case.mt:
        case.mt = "none"


# -- The recipe table -------------------------------------------------------------------
# A recipe's styles are drawn in their order (corpus._plan): reordering changes the corpus.
# Professionals' styles: all but a relative's or patient's mail and the hospital discharge
# note, with the social worker's report last.
_NOT_PRO = ("discharge_note", "social_worker_report", "family_mail", "patient_mail")
_PRO = (*(s for s in STYLES if s not in _NOT_PRO), "social_worker_report")
_SIG = (*_PRO, "discharge_note")
_SIG_NO_DISCHARGE = _PRO
_LABELS = ("terse_labels", "docx_form", "pdf_form")
_TE = tuple(s for s in _PRO if s not in ("pdf_form", "social_worker_report"))
_TE_ANY = ("terse_labels", "prose", "html_signature", "forwarded_chain", "docx_form", "short_note")
_DAC = (
    "social_worker_report",
    "prose",
    "discharge_note",
    "secretary_template",
    "html_signature",
    "forwarded_chain",
    "terse_labels",
    "docx_form",
    "pdf_form",
)
_MR = (
    "secretary_template",
    "terse_labels",
    "prose",
    "docx_form",
    "cda",
    "html_signature",
    "short_note",
    "pdf_form",
)


def _r(
    name: str,
    programme: str,
    verdict: Verdict,
    share: float,
    styles: tuple[str, ...],
    build: Callable[[Ctx], Case],
) -> Recipe:
    return Recipe(name, programme, verdict, share, styles, build)


RECIPES: tuple[Recipe, ...] = (
    # signalement (seed 003)
    _r("eligible", "signalement", "eligible", 0.33, _SIG, sig_eligible),
    _r("child", "signalement", "eligible", 0.04, _SIG_NO_DISCHARGE, sig_child),
    _r("boundary_71", "signalement", "eligible", 0.0125, _LABELS, sig_boundary_71),
    _r("pending_old", "signalement", "eligible", 0.025, _SIG_NO_DISCHARGE, sig_pending_old),
    _r("family_history", "signalement", "eligible", 0.025, _SIG, sig_family_history),
    _r("outside", "signalement", "ineligible", 0.07, _SIG, sig_outside),
    _r("has_mt", "signalement", "ineligible", 0.06, _SIG, sig_has_mt),
    _r("no_criterion", "signalement", "ineligible", 0.055, _SIG_NO_DISCHARGE, sig_no_criterion),
    _r("boundary_70", "signalement", "ineligible", 0.0125, _LABELS, sig_boundary_70),
    _r("nothing_said", "signalement", "incomplete", 0.05, _SIG_NO_DISCHARGE, sig_nothing_said),
    _r(
        "partial_negation",
        "signalement",
        "incomplete",
        0.03,
        _SIG_NO_DISCHARGE,
        sig_partial_negation,
    ),
    _r("pending_young", "signalement", "incomplete", 0.02, _SIG_NO_DISCHARGE, sig_pending_young),
    _r("no_birth", "signalement", "incomplete", 0.035, _SIG, sig_no_birth),
    _r("no_given", "signalement", "incomplete", 0.02, _SIG, sig_no_given),
    _r("no_family", "signalement", "incomplete", 0.0125, _LABELS, sig_no_family),
    _r("no_commune", "signalement", "incomplete", 0.03, _SIG, sig_no_commune),
    _r("family", "signalement", "rejected", 0.07, ("family_mail",), sig_family),
    _r("patient", "signalement", "rejected", 0.04, ("patient_mail",), sig_patient),
    _r(
        "contra_ald",
        "signalement",
        "coordinator",
        0.0125,
        ("docx_form", "pdf_form", "terse_labels", "cda"),
        sig_contra_ald,
    ),
    _r(
        "contra_mt",
        "signalement",
        "coordinator",
        0.0125,
        ("docx_form", "prose", "pdf_form"),
        sig_contra_mt,
    ),
    _r(
        "contra_commune",
        "signalement",
        "coordinator",
        0.00625,
        ("docx_form", "terse_labels"),
        sig_contra_commune,
    ),
    # télé-expertise (seed 002)
    _r("eligible", "tele_expertise", "eligible", 0.40, _TE, te_eligible),
    _r("requis_only", "tele_expertise", "eligible", 0.043, _TE_ANY, te_requis_only),
    _r("requis_requerant", "tele_expertise", "eligible", 0.043, _TE, te_requis_requerant),
    _r("closed", "tele_expertise", "ineligible", 0.086, _TE, te_closed),
    _r("refused", "tele_expertise", "ineligible", 0.057, _TE, te_refused),
    _r("profession", "tele_expertise", "ineligible", 0.057, _TE_ANY, te_profession),
    _r("no_consent", "tele_expertise", "incomplete", 0.086, _TE, te_no_consent),
    _r("no_birth", "tele_expertise", "incomplete", 0.029, _TE, te_no_birth),
    _r("no_question", "tele_expertise", "incomplete", 0.029, _TE_ANY, te_no_question),
    _r("no_target", "tele_expertise", "incomplete", 0.029, _TE_ANY, te_no_target),
    _r("family", "tele_expertise", "rejected", 0.029, ("family_mail",), te_family),
    _r("patient", "tele_expertise", "rejected", 0.029, ("patient_mail",), te_patient),
    _r("unknown_sender", "tele_expertise", "rejected", 0.043, _TE_ANY, te_unknown),
    _r(
        "contra_consent",
        "tele_expertise",
        "coordinator",
        0.0143,
        ("docx_form", "terse_labels"),
        te_contra_consent,
    ),
    # DAC (seed 004)
    _r("eligible", "appui_dac", "eligible", 0.47, _DAC, dac_eligible),
    _r("family", "appui_dac", "eligible", 0.10, ("family_mail",), dac_family),
    _r("patient", "appui_dac", "eligible", 0.033, ("patient_mail",), dac_patient),
    _r("no_social", "appui_dac", "incomplete", 0.10, _DAC, dac_no_social),
    _r("no_medical", "appui_dac", "incomplete", 0.067, _DAC, dac_no_medical),
    _r("no_birth", "appui_dac", "incomplete", 0.05, _DAC, dac_no_birth),
    _r("no_commune", "appui_dac", "incomplete", 0.033, _DAC, dac_no_commune),
    _r(
        "family_incomplete",
        "appui_dac",
        "incomplete",
        0.05,
        ("family_mail",),
        dac_family_incomplete,
    ),
    _r(
        "denied",
        "appui_dac",
        "ineligible",
        0.067,
        ("social_worker_report", "prose", "docx_form"),
        dac_denied,
    ),
    _r(
        "contra_isolement",
        "appui_dac",
        "coordinator",
        0.0167,
        ("docx_form", "terse_labels", "prose"),
        dac_contra,
    ),
    # médecin référent (seed 000)
    _r("eligible", "medecin_referent", "eligible", 0.47, _MR, mr_eligible),
    _r("dsp_off", "medecin_referent", "ineligible", 0.134, _MR, mr_dsp_off),
    _r("ald_out", "medecin_referent", "ineligible", 0.067, _MR, mr_ald_out),
    _r("no_dsp", "medecin_referent", "incomplete", 0.10, _MR, mr_no_dsp),
    _r("no_birth", "medecin_referent", "incomplete", 0.034, _MR, mr_no_birth),
    _r("no_ald", "medecin_referent", "incomplete", 0.034, _MR, mr_no_ald),
    _r("family", "medecin_referent", "rejected", 0.067, ("family_mail",), mr_family),
    _r("patient", "medecin_referent", "rejected", 0.067, ("patient_mail",), mr_patient),
    _r(
        "contra_dsp",
        "medecin_referent",
        "coordinator",
        0.034,
        ("docx_form", "terse_labels", "cda"),
        mr_contra_dsp,
    ),
)
