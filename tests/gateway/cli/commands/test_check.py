"""`aiguilleur check`: every criterion and boundary of every programme, through the CLI.

Each table row is one message, written as a professional would type it, checked
against the demo CPTS (territory 88100/88200/88400, the demo roster plus a second
dermatologist). Rows assert the decision's programme and outcome and the exact
failed and missing rule ids; some assert the routing too.

Messages carry no Date header, so the request date is the ``--at`` date.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from gateway.routing.requis import patient_key
from gateway.storage.directory_models import MssanteAddress
from parsers import parse_message
from tests.gateway.cli.commands.site import (
    ADDRESSES,
    DAC_TEAM,
    GARNIER,
    MOREAU,
    ROUX_EMAIL,
    add_act,
    add_case,
    check_json,
    eml,
    make_site,
    run_cli,
    session_for,
)
from tests.parsers.builders import build_mail

AT = "2025-03-12"
NURSE = "paul.martin@infirmier.mssante.fr"
PATIENT_MAILBOX = "marie.dupont@patient.mssante.fr"
UNKNOWN_DOCTOR = "dr.inconnu@medecin.mssante.fr"
LUX_DOCTOR = "dr.weber@medecin.lu"
GPS = ("10000000001", "10000000002")
DERMATOLOGISTS = (MOREAU, GARNIER)

Seed = Callable[[Session, str], None]  # session, patient key of the row's message


@dataclass(frozen=True)
class Row:
    id: str
    programme: str
    fields: dict[str, str]
    outcome: str
    failed: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    at: str = AT
    sender: str | None = None  # default: the programme's usual sender
    extra_programmes: str = ""
    action: str | None = None
    targets: tuple[str, ...] | None = None  # RPPS (or e-mail for DAC), in order
    notify: bool | None = None
    seed: Seed | None = None  # rows with a seed run on a real SQLite database
    blocking: tuple[str, ...] | None = None
    also: Callable[[dict[str, Any]], None] | None = field(default=None, compare=False)


DEFAULT_SENDER = {
    "signalement": NURSE,
    "tele_expertise": ROUX_EMAIL,
    "appui_dac": "infirmiere.leclerc@infirmier.mssante.fr",
    "medecin_referent": LUX_DOCTOR,
}


def fields(base: dict[str, str], **changes: str | None) -> dict[str, str]:
    """``base`` with labels changed (keyword = label with ``_`` for spaces) or removed (None)."""
    out = dict(base)
    for key, value in changes.items():
        label = _LABELS.get(key, key)
        if value is None:
            out.pop(label, None)
        else:
            out[label] = value
    return out


_LABELS = {
    "ddn": "Date de naissance",
    "cp": "Code postal",
    "insee": "Code INSEE",
    "mt": "Médecin traitant",
    "ald": "ALD",
    "arret": "Arrêt de travail",
    "sortie": "Sortie d'hospitalisation",
    "role": "Qualité du demandeur",
    "motif": "Motif",
    "nom": "Nom du patient",
    "filiere": "Filière",
    "requis": "Médecin requis",
    "requis_rpps": "RPPS du médecin requis",
    "consent": "Consentement du patient",
    "profession": "Profession du demandeur",
    "dsp": "DSP activé",
    "poly": "Polypathologie",
    "deseq": "Pathologie déséquilibrée",
    "hospit": "Hospitalisations répétées",
    "isolement": "Isolement social",
    "vulnerabilite": "Vulnérabilité sociale",
    "pratiques": "Pratiques inadaptées",
    "dependance": "Dépendance",
}

SIG = {
    "Nom du patient": "DUPONT",
    "Prénom du patient": "Marie",
    "Code postal": "88400",
    "Médecin traitant": "Aucun",
    "Profession du demandeur": "Infirmier libéral",
    "Motif": "Patiente suivie à domicile, sans médecin traitant depuis un départ en retraite.",
}
ADULT = "01/01/1980"  # 45 on the test date: only the other criteria count

TE = {
    "Nom du patient": "DURAND",
    "Prénom du patient": "Jean",
    "Date de naissance": "01/07/1948",
    "Code postal": "88400",
    "Filière": "Dermatologie",
    "Question posée": "Lésion pigmentée du dos évolutive : exérèse nécessaire ?",
    "Consentement du patient": "oui",
    "Profession du demandeur": "Médecin généraliste",
}
STRICT_TE = (
    "[tele_expertise.params.requis_in_filiere]\nfallback_to_group = false\n"
    "[tele_expertise.params.te_quota_per_patient]\nfallback_to_group = false\n"
)

DAC = {
    "Nom du patient": "MARTIN",
    "Prénom du patient": "Lucien",
    "Date de naissance": "05/05/1940",
    "Code postal": "88200",
    "Profession du demandeur": "Infirmier libéral",
}

MR = {
    "Nom du patient": "SCHMIT",
    "Prénom du patient": "Paul",
    "Date de naissance": "10/10/1960",
    "ALD": "ALD 5",
    "DSP activé": "oui",
    "Profession du demandeur": "Médecin généraliste",
}


def te2_acts(dates: list[date], requis: str = MOREAU) -> Seed:
    """TE2 acts by ``requis`` for the row's patient, one case each."""

    def seed(session: Session, key: str) -> None:
        for i, day in enumerate(dates, 1):
            case_id = add_case(session, f"AIG-2024-{i:06d}")
            add_act(session, case_id, "TE2", day, patient_key=key, requis_rpps=requis)

    return seed


def rqd_acts(count: int, year: int = 2025) -> Seed:
    """RQD acts billed by the requérant (Dr Roux) this year, for other patients."""

    def seed(session: Session, key: str) -> None:
        for i in range(count):
            case_id = add_case(session, f"AIG-{year}-{900 + i:06d}")
            add_act(
                session,
                case_id,
                "RQD",
                date(year, 1, 10 + i),
                patient_key=f"other-{i}",
                professional_rpps="10000000005",
                email=ROUX_EMAIL,
                name="Dr Anne Roux",
            )

    return seed


def directory_entry(address: str, profession: str, national_id: str | None = None) -> Seed:
    """An active MSSanté address in the imported Annuaire Santé extract."""

    def seed(session: Session, key: str) -> None:
        session.add(
            MssanteAddress(
                address=address,
                bal_type="PER",
                national_id=national_id,
                profession_code=profession,
                batch_id=1,
                changed_batch_id=1,
                created_batch_id=1,
            )
        )

    return seed


def evidence(rule_id: str, key: str, value: str) -> Callable[[dict[str, Any]], None]:
    def check(data: dict[str, Any]) -> None:
        found = next(r for r in data["rules"] if r["rule_id"] == rule_id)
        assert found["evidence"].get(key) == value, found

    return check


ACCEPT_UNKNOWN_TE = '[tele_expertise.params.sender_verified]\npolicy = "accept"\n'
MEMBERS_ONLY = "[tele_expertise.params.requerant_profession_allowed]\nmembers_only = true\n"
LIMIT_TWO = '[tele_expertise.params.requerant_yearly_limit]\nlimits = { "10" = 2 }\n'
ALD_1_TO_4 = "[medecin_referent.params.ald_in_list]\nald_list = [1, 2, 3, 4]\n"
DIRECTORY_DOCTOR = "dr.blanc@medecin.mssante.fr"
PHARMACIST = "officine@pharmacien.mssante.fr"
# Four acts within the year before 2025-03-12.
FOUR_ACTS = [date(2024, 4, 1), date(2024, 9, 1), date(2025, 1, 5), date(2025, 3, 1)]

# Every situation criterion but age answered "no": what a refusal needs as evidence.
NO_OTHER = {"ald": "non", "arret": "non", "sortie": "non"}
NO_MEDICAL = {"poly": "non", "deseq": "non", "hospit": "non"}
NO_SOCIAL = {"isolement": "non", "vulnerabilite": "non", "pratiques": "non", "dependance": "non"}

# fmt: off
SIGNALEMENT_ROWS = [
    # Age over 70, strictly, on the request date.
    Row("70-exactly", "signalement", fields(SIG, ddn="12/03/1955", **NO_OTHER), "ineligible",
        failed=("situation_eligible",), at="2025-03-12"),
    Row("70-and-1-day", "signalement", fields(SIG, ddn="12/03/1955"), "eligible",
        at="2025-03-13", action="offer_sequence", targets=GPS),
    Row("70-day-before", "signalement", fields(SIG, ddn="12/03/1955", **NO_OTHER), "ineligible",
        failed=("situation_eligible",), at="2025-03-11"),
    # Born on 29 February: the 70th birthday in a common year is 28 February.
    Row("70-leap-day-birthday", "signalement", fields(SIG, ddn="29/02/1956", **NO_OTHER),
        "ineligible", failed=("situation_eligible",), at="2026-02-28"),
    Row("70-leap-day-next-day", "signalement", fields(SIG, ddn="29/02/1956"), "eligible",
        at="2026-03-01"),
    # Child 18 months old or younger: the 18-month anniversary still counts.
    Row("18-months-exactly", "signalement", fields(SIG, ddn="12/09/2023"), "eligible",
        at="2025-03-12"),
    Row("18-months-and-1-day", "signalement", fields(SIG, ddn="12/09/2023", **NO_OTHER),
        "ineligible", failed=("situation_eligible",), at="2025-03-13"),
    Row("newborn", "signalement", fields(SIG, ddn="01/03/2025"), "eligible", at="2025-03-12"),
    # Born on 31 August: 18 months are reached on 28 February (month-end clamp).
    Row("18-months-month-end", "signalement", fields(SIG, ddn="31/08/2023"), "eligible",
        at="2025-02-28"),
    Row("18-months-month-end-next-day", "signalement", fields(SIG, ddn="31/08/2023", **NO_OTHER),
        "ineligible", failed=("situation_eligible",), at="2025-03-01"),
    # The other situation criteria, for an adult of 45.
    Row("ald", "signalement", fields(SIG, ddn=ADULT, ald="ALD 8 (diabète)"), "eligible",
        also=evidence("situation_eligible", "criteres", "ALD")),
    Row("ald-ticked-without-number", "signalement", fields(SIG, ddn=ADULT, ald="oui"),
        "eligible"),
    Row("arret-de-travail", "signalement", fields(SIG, ddn=ADULT, arret="oui"), "eligible",
        also=evidence("situation_eligible", "criteres", "arrêt de travail")),
    Row("sortie-hospitalisation", "signalement", fields(SIG, ddn=ADULT, sortie="oui"),
        "eligible"),
    Row("no-criterion", "signalement", fields(SIG, ddn=ADULT, **NO_OTHER),
        "ineligible", failed=("situation_eligible",)),
    # No refusal without evidence: an adult with the ALD left unsaid is asked, not refused.
    Row("ald-unsaid", "signalement", fields(SIG, ddn=ADULT, arret="non", sortie="non"),
        "incomplete", missing=("situation_eligible",)),
    Row("criteria-restricted-to-ald", "signalement", fields(SIG, ddn="12/03/1955", ald="non"),
        "ineligible", failed=("situation_eligible",), at="2025-03-13",
        extra_programmes='[signalement.params.situation_eligible]\ncriteria = ["ald"]\n'),
    # Territory.
    Row("commune-outside-territory", "signalement",
        fields(SIG, ddn=ADULT, ald="ALD 8", cp="75007"), "ineligible",
        failed=("patient_in_territory",), action="none"),
    Row("insee-code-in-territory", "signalement",
        fields(SIG, ddn=ADULT, ald="ALD 8", cp=None, insee="88196"), "eligible",
        # The roster's GPs list postal codes only: nobody serves this INSEE code.
        action="escalate", targets=()),
    Row("commune-missing", "signalement", fields(SIG, ddn=ADULT, ald="ALD 8", cp=None),
        "incomplete", missing=("patient_in_territory",), blocking=("patient.commune.missing",)),
    # Who reports.
    Row("patient-mailbox", "signalement", fields(SIG, ddn=ADULT, ald="ALD 8"), "rejected",
        failed=("reporter_is_professional",), sender=PATIENT_MAILBOX, action="none"),
    Row("family-declared", "signalement", fields(SIG, ddn=ADULT, ald="ALD 8", role="famille"),
        "rejected", failed=("reporter_is_professional",)),
    Row("unknown-sender-accepted", "signalement", fields(SIG, ddn=ADULT, ald="ALD 8"),
        "eligible", sender="inconnu@exemple.fr",
        also=evidence("sender_verified", "verifie", "non")),
    Row("roster-sender-verified", "signalement", fields(SIG, ddn=ADULT, ald="ALD 8"),
        "eligible", sender=ROUX_EMAIL, also=evidence("sender_verified", "source", "roster")),
    # Médecin traitant.
    Row("has-medecin-traitant", "signalement",
        fields(SIG, ddn=ADULT, ald="ALD 8", mt="Dr Jean Dupuis, Gérardmer"), "ineligible",
        failed=("no_medecin_traitant",)),
    Row("medecin-traitant-not-stated", "signalement",
        fields(SIG, ddn=ADULT, ald="ALD 8", mt=None, Motif=None), "eligible",
        also=evidence("no_medecin_traitant", "medecin_traitant", "non précisé (présumé absent)")),
    Row("medecin-traitant-not-stated-strict", "signalement",
        fields(SIG, ddn=ADULT, ald="ALD 8", mt=None, Motif=None), "incomplete",
        missing=("no_medecin_traitant",),
        extra_programmes=(
            "[signalement.params.no_medecin_traitant]\nassume_absent_when_unstated = false\n"
        )),
    # Missing information.
    Row("birth-date-missing", "signalement", fields(SIG, ddn=None), "incomplete",
        missing=("situation_eligible",), action="none"),
    # The rules pass on the ALD, but the form lacks a required field: the daemon asks for it.
    Row("birth-date-missing-with-ald", "signalement", fields(SIG, ddn=None, ald="ALD 8"),
        "incomplete", blocking=("patient.birth_date.missing",), action="none"),
    Row("birth-date-in-future", "signalement", fields(SIG, ddn="01/01/2026"), "incomplete",
        missing=("situation_eligible",)),
    Row("several-failures-listed", "signalement",
        fields(SIG, ddn=ADULT, cp="75007", mt="Dr Jean Dupuis", **NO_OTHER), "ineligible",
        failed=("patient_in_territory", "no_medecin_traitant", "situation_eligible")),
]

TELE_EXPERTISE_ROWS = [
    Row("group", "tele_expertise", TE, "eligible", action="te_group", targets=DERMATOLOGISTS),
    Row("named-requis", "tele_expertise", fields(TE, requis="Dr Marc Moreau"), "eligible",
        action="te_named", targets=(MOREAU,)),
    Row("named-requis-by-rpps", "tele_expertise", fields(TE, requis_rpps=MOREAU), "eligible",
        action="te_named", targets=(MOREAU,)),
    # Consent.
    Row("consent-missing", "tele_expertise", fields(TE, consent=None), "incomplete",
        missing=("consent_given",), blocking=("tele_expertise.consent.missing",),
        action="none"),
    Row("consent-refused", "tele_expertise", fields(TE, consent="non"), "ineligible",
        failed=("consent_given",)),
    # Filière.
    Row("filiere-not-open", "tele_expertise", fields(TE, filiere="Médecine générale"),
        "ineligible", failed=("filiere_open",)),
    Row("filiere-opened-by-override", "tele_expertise", fields(TE, filiere="Médecine générale"),
        "eligible", action="escalate",  # open, but nobody on the roster answers it
        extra_programmes=(
            '[tele_expertise.params.filiere_open]\nopen_filieres = ["medecine_generale"]\n'
        )),
    Row("filiere-missing", "tele_expertise", fields(TE, filiere=None), "incomplete",
        missing=("filiere_open",)),
    # Seed 002: a request goes to a named doctor or to a filière; a roster requis who
    # answers in one filière gives it.
    Row("filiere-missing-requis-named", "tele_expertise",
        fields(TE, filiere=None, requis="Dr Marc Moreau"), "eligible",
        action="te_named", targets=(MOREAU,)),
    Row("filiere-missing-requis-unknown", "tele_expertise",
        fields(TE, filiere=None, requis="Dr Jean Inconnu"), "incomplete",
        missing=("filiere_open", "requis_in_filiere")),
    # Requis outside the filière, or unknown: the group by default, refused when strict.
    Row("requis-not-in-filiere", "tele_expertise", fields(TE, requis="Dr Inès Petit"),
        "eligible", action="te_group", targets=DERMATOLOGISTS),
    Row("requis-not-in-filiere-strict", "tele_expertise", fields(TE, requis="Dr Inès Petit"),
        "ineligible", failed=("requis_in_filiere",), extra_programmes=STRICT_TE,
        action="none", targets=()),
    Row("requis-unknown", "tele_expertise", fields(TE, requis="Dr Paul Inconnu"), "eligible",
        action="te_group", targets=DERMATOLOGISTS),
    Row("requis-unknown-strict", "tele_expertise", fields(TE, requis="Dr Paul Inconnu"),
        "ineligible", failed=("requis_in_filiere",), extra_programmes=STRICT_TE),
    # Sender admission: the TE policy rejects unknown senders.
    Row("unknown-sender-rejected", "tele_expertise", TE, "rejected",
        failed=("sender_verified",), sender=UNKNOWN_DOCTOR, action="none"),
    Row("unknown-sender-accepted-by-policy", "tele_expertise", TE, "eligible",
        sender=UNKNOWN_DOCTOR, extra_programmes=ACCEPT_UNKNOWN_TE),
    Row("patient-mailbox", "tele_expertise", TE, "rejected",
        failed=("sender_verified", "reporter_is_professional"), sender=PATIENT_MAILBOX),
    Row("directory-sender", "tele_expertise", TE, "eligible", sender=DIRECTORY_DOCTOR,
        seed=directory_entry(DIRECTORY_DOCTOR, "10", "810000000099"),
        also=evidence("sender_verified", "source", "directory")),
    # Requérant profession and membership.
    Row("pharmacist-from-directory", "tele_expertise", fields(TE, profession=None), "ineligible",
        failed=("requerant_profession_allowed",), sender=PHARMACIST,
        seed=directory_entry(PHARMACIST, "21")),
    Row("pharmacist-from-form", "tele_expertise", fields(TE, profession="Pharmacien"),
        "ineligible", failed=("requerant_profession_allowed",), sender=UNKNOWN_DOCTOR,
        extra_programmes=ACCEPT_UNKNOWN_TE),
    Row("profession-unknown", "tele_expertise", fields(TE, profession=None), "incomplete",
        missing=("requerant_profession_allowed",), sender=UNKNOWN_DOCTOR,
        extra_programmes=ACCEPT_UNKNOWN_TE),
    Row("members-only-member", "tele_expertise", TE, "eligible",
        extra_programmes=MEMBERS_ONLY),
    Row("members-only-not-member", "tele_expertise", TE, "ineligible",
        failed=("requerant_profession_allowed",), sender=DIRECTORY_DOCTOR,
        seed=directory_entry(DIRECTORY_DOCTOR, "10", "810000000099"),
        extra_programmes=MEMBERS_ONLY),
    # Quota: 4 acts a year per requis for the same patient, on a rolling year.
    Row("5th-act-falls-back-to-group", "tele_expertise", fields(TE, requis="Dr Marc Moreau"),
        "eligible", action="te_group", targets=(GARNIER,), seed=te2_acts(FOUR_ACTS),
        also=evidence("te_quota_per_patient", "actes_12_mois", "4")),
    Row("5th-act-strict", "tele_expertise", fields(TE, requis="Dr Marc Moreau"), "ineligible",
        failed=("te_quota_per_patient",), extra_programmes=STRICT_TE, action="none",
        seed=te2_acts(FOUR_ACTS)),
    Row("4th-act-allowed", "tele_expertise", fields(TE, requis="Dr Marc Moreau"), "eligible",
        action="te_named", targets=(MOREAU,), extra_programmes=STRICT_TE,
        seed=te2_acts(FOUR_ACTS[1:])),
    # An act exactly a year old has left the window; one a day younger has not.
    Row("act-365-days-old-not-counted", "tele_expertise", fields(TE, requis="Dr Marc Moreau"),
        "eligible", action="te_named", targets=(MOREAU,), extra_programmes=STRICT_TE,
        seed=te2_acts([date(2024, 3, 12), *FOUR_ACTS[1:]])),
    Row("act-364-days-old-counted", "tele_expertise", fields(TE, requis="Dr Marc Moreau"),
        "ineligible", failed=("te_quota_per_patient",), extra_programmes=STRICT_TE,
        seed=te2_acts([date(2024, 3, 13), *FOUR_ACTS[1:]])),
    Row("other-requis-acts-do-not-count", "tele_expertise", fields(TE, requis="Dr Marc Moreau"),
        "eligible", action="te_named", targets=(MOREAU,), extra_programmes=STRICT_TE,
        seed=te2_acts(FOUR_ACTS, requis=GARNIER)),
    Row("group-skips-requis-at-quota", "tele_expertise", TE, "eligible", action="te_group",
        targets=(GARNIER,), seed=te2_acts(FOUR_ACTS)),
    Row("quota-unverifiable-without-patient-identity", "tele_expertise",
        fields(TE, nom=None, requis="Dr Marc Moreau"), "incomplete",
        missing=("te_quota_per_patient",)),
    # Requérant's yearly limit per profession (none by default).
    Row("requerant-under-limit", "tele_expertise", TE, "eligible", seed=rqd_acts(1),
        extra_programmes=LIMIT_TWO),
    Row("requerant-at-limit", "tele_expertise", TE, "ineligible",
        failed=("requerant_yearly_limit",), seed=rqd_acts(2), extra_programmes=LIMIT_TWO),
    Row("requerant-last-year-acts-not-counted", "tele_expertise", TE, "eligible",
        seed=rqd_acts(2, year=2024), extra_programmes=LIMIT_TWO),
]

MEDICAL = ("poly", "deseq", "hospit")
SOCIAL = ("isolement", "vulnerabilite", "pratiques", "dependance")

APPUI_DAC_ROWS = [
    *(
        Row(f"{m}-and-{s}", "appui_dac", fields(DAC, **{m: "oui", s: "oui"}), "eligible",
            action="dac_referral", targets=(DAC_TEAM,), notify=False)
        for m in MEDICAL
        for s in SOCIAL
    ),
    Row("medical-criteria-only", "appui_dac",
        fields(DAC, poly="oui", deseq="oui", hospit="oui", **NO_SOCIAL), "ineligible",
        failed=("dac_complexity",), action="none"),
    Row("medical-criteria-only-social-unsaid", "appui_dac",
        fields(DAC, poly="oui", deseq="oui", hospit="oui"), "incomplete",
        missing=("dac_complexity",), action="none"),
    Row("psycho-social-criteria-only", "appui_dac",
        fields(DAC, isolement="oui", vulnerabilite="oui", **NO_MEDICAL), "ineligible",
        failed=("dac_complexity",)),
    Row("criteria-all-no", "appui_dac", fields(DAC, **NO_MEDICAL, **NO_SOCIAL), "ineligible",
        failed=("dac_complexity",)),
    Row("criteria-partly-no", "appui_dac", fields(DAC, poly="non", isolement="non"),
        "incomplete", missing=("dac_complexity",)),
    Row("several-ald-count-as-medical", "appui_dac",
        fields(DAC, ald="ALD 8, ALD 30", vulnerabilite="oui"), "eligible",
        action="dac_referral"),
    Row("one-ald-is-not-several", "appui_dac",
        fields(DAC, ald="ALD 8", vulnerabilite="oui", **NO_MEDICAL),
        "ineligible", failed=("dac_complexity",)),
    Row("no-criteria-stated", "appui_dac", DAC, "incomplete", missing=("dac_complexity",)),
    Row("from-patient-mailbox", "appui_dac",
        fields(DAC, poly="oui", isolement="oui", mt="Dr Jean Dupuis <jean.dupuis@medecin.test>"),
        "eligible", sender=PATIENT_MAILBOX, notify=True, action="dac_referral",
        also=lambda d: _mt_email(d, "jean.dupuis@medecin.test")),
    Row("from-family", "appui_dac",
        fields(DAC, poly="oui", isolement="oui", role="famille", profession=None), "eligible",
        sender="fille.martin@gmail.com", notify=True,
        also=evidence("dac_requester", "demandeur", "famille")),
    Row("from-professional", "appui_dac", fields(DAC, poly="oui", isolement="oui"), "eligible",
        notify=False, also=evidence("dac_requester", "demandeur", "professionnel")),
]

MEDECIN_REFERENT_ROWS = [
    Row("ald-in-list-dsp-active", "medecin_referent", MR, "eligible", action="return_outcome"),
    Row("ald-out-of-list", "medecin_referent", MR, "ineligible", failed=("ald_in_list",),
        extra_programmes=ALD_1_TO_4),
    Row("ald-in-restricted-list", "medecin_referent", fields(MR, ald="ALD 4"), "eligible",
        extra_programmes=ALD_1_TO_4),
    Row("one-of-several-ald-in-list", "medecin_referent", fields(MR, ald="ALD 4, ALD 9"),
        "eligible", extra_programmes=ALD_1_TO_4),
    Row("dsp-not-active", "medecin_referent", fields(MR, dsp="non"), "ineligible",
        failed=("dsp_active",)),
    Row("dsp-not-stated", "medecin_referent", fields(MR, dsp=None), "incomplete",
        missing=("dsp_active",)),
    Row("ald-not-stated", "medecin_referent", fields(MR, ald=None), "incomplete",
        missing=("ald_in_list",), blocking=("situation.ald.missing",)),
    Row("ald-out-and-dsp-off", "medecin_referent", fields(MR, dsp="non"), "ineligible",
        failed=("ald_in_list", "dsp_active"), extra_programmes=ALD_1_TO_4),
    Row("patient-mailbox", "medecin_referent", MR, "rejected",
        failed=("reporter_is_professional",), sender=PATIENT_MAILBOX),
]
# fmt: on


def _mt_email(data: dict[str, Any], expected: str) -> None:
    assert data["routing"]["medecin_traitant_email"] == expected
    assert data["routing"]["notify_medecin_traitant"] is True


ALL_ROWS = SIGNALEMENT_ROWS + TELE_EXPERTISE_ROWS + APPUI_DAC_ROWS + MEDECIN_REFERENT_ROWS


def _target_ids(data: dict[str, Any]) -> tuple[str, ...]:
    return tuple(t["rpps"] or t["email"] for t in data["routing"]["targets"])


@pytest.mark.parametrize("row", ALL_ROWS, ids=lambda r: f"{r.programme}:{r.id}")
def test_check_table(row: Row, tmp_path: Path) -> None:
    site = make_site(tmp_path, extra_programmes=row.extra_programmes, with_database=bool(row.seed))
    raw = eml(
        row.fields,
        sender=row.sender or DEFAULT_SENDER[row.programme],
        to=ADDRESSES[row.programme],
    )
    if row.seed is not None:
        key = patient_key(parse_message(raw).request)
        assert key is not None
        with session_for(site) as session:
            row.seed(session, key)
            session.commit()

    data = check_json(site, raw, "--at", row.at)

    decision = data["decision"]
    assert decision["programme"] == row.programme
    assert data["programme"] == row.programme
    assert decision["outcome"] == row.outcome, decision["reasons_fr"]
    assert sorted(decision["failed_rules"]) == sorted(row.failed), data["rules"]
    assert sorted(decision["missing_rules"]) == sorted(row.missing), data["rules"]
    failed_or_missing = {r["rule_id"] for r in data["rules"] if r["outcome"] != "passed"}
    assert failed_or_missing == set(row.failed) | set(row.missing)
    assert data["context"]["request_date"] == row.at
    assert data["context"]["database"] == ("lue" if row.seed else "absente")
    if row.outcome != "eligible":
        assert decision["reasons_fr"], "a refusal always says why, in French"
    if row.blocking is not None:
        assert set(row.blocking) <= set(decision["blocking_problems"])
    elif row.outcome == "eligible":
        assert decision["blocking_problems"] == []
    if row.action is not None:
        assert data["routing"]["action"] == row.action, data["routing"]
    if row.targets is not None:
        assert _target_ids(data) == row.targets, data["routing"]
    if row.notify is not None:
        assert decision["notify_medecin_traitant"] is row.notify
    if row.also is not None:
        row.also(data)


def test_named_requis_at_quota_is_not_among_the_group(tmp_path: Path) -> None:
    """The brief's story: a 5th TE for the same patient and requis goes to the others."""
    site = make_site(tmp_path, with_database=True)
    raw = eml(
        fields(TE, requis="Dr Marc Moreau"), sender=ROUX_EMAIL, to=ADDRESSES["tele_expertise"]
    )
    key = patient_key(parse_message(raw).request)
    assert key is not None
    with session_for(site) as session:
        te2_acts([date(2024, 6, 1), date(2024, 10, 1), date(2025, 1, 5), date(2025, 2, 1)])(
            session, key
        )
        session.commit()
    data = check_json(site, raw, "--at", AT)
    assert data["decision"]["outcome"] == "eligible"
    assert data["routing"]["action"] == "te_group"
    assert MOREAU not in _target_ids(data)
    assert "plafond" in data["routing"]["reason_fr"]
    assert data["context"]["te_acts_last_year_for_patient_and_requis"] == 4


def test_the_message_date_wins_over_at(tmp_path: Path) -> None:
    """Ages are computed on the request's own date when it has one (its Date header)."""
    site = make_site(tmp_path)
    raw = eml(
        fields(SIG, ddn="12/03/1955"),
        sender=NURSE,
        to=ADDRESSES["signalement"],
        sent_on=date(2025, 3, 13),
    )
    data = check_json(site, raw, "--at", "2025-03-12")
    assert data["context"]["request_date"] == "2025-03-13"
    assert data["context"]["request_date_source"] == "message"
    assert data["context"]["received_on"] == "2025-03-12"
    assert data["decision"]["outcome"] == "eligible"


def test_signalement_offers_follow_the_database_counters(tmp_path: Path) -> None:
    """Open offers and the round-robin cursor are read from the live database."""
    from gateway.storage.models import Offer, OfferKind, OfferStatus, RoutingCounter

    site = make_site(tmp_path, with_database=True)
    with session_for(site) as session:
        case_id = add_case(session, "AIG-2025-000001", programme="signalement")
        session.add(
            Offer(
                case_id=case_id,
                kind=OfferKind.SIGNALEMENT,
                doctor_rpps="10000000001",
                doctor_email="claire.martin@medecin.test",
                doctor_name="Dr Claire Martin",
                status=OfferStatus.PENDING,
            )
        )
        session.add(RoutingCounter(name="signalement_round_robin", value=0))
        session.commit()
    raw = eml(fields(SIG, ddn=ADULT, ald="ALD 8"), sender=NURSE, to=ADDRESSES["signalement"])
    data = check_json(site, raw, "--at", AT)
    # Dr Martin holds an open offer: Dr Bernard, who holds none, comes first.
    assert _target_ids(data) == ("10000000002", "10000000001")


def test_territory_not_configured_fails_safe(tmp_path: Path) -> None:
    site = make_site(tmp_path, programmes="")
    raw = eml(fields(SIG, ddn=ADULT, ald="ALD 8"), sender=NURSE, to=ADDRESSES["signalement"])
    data = check_json(site, raw, "--at", AT)
    assert data["decision"]["outcome"] == "ineligible"
    assert data["decision"]["failed_rules"] == ["patient_in_territory"]
    assert "n'est pas encore configuré" in data["decision"]["reasons_fr"][0]
    # As the daemon does: no refusal is sent, a coordinator takes the case.
    assert data["routing"]["action"] == "escalate" and data["routing"]["targets"] == []


def test_dac_without_team_address_escalates(tmp_path: Path) -> None:
    site = make_site(tmp_path, dac_team=None)
    raw = eml(fields(DAC, poly="oui", isolement="oui"), sender=NURSE, to=ADDRESSES["appui_dac"])
    data = check_json(site, raw, "--at", AT)
    assert data["decision"]["outcome"] == "eligible"
    assert data["routing"]["action"] == "escalate"


# -- picking the programme ----------------------------------------------------------------


def _write(tmp_path: Path, raw: bytes) -> Path:
    path = tmp_path / "m.eml"
    path.write_bytes(raw)
    return path


@pytest.mark.parametrize(
    ("to", "options", "expected", "source"),
    [
        (ADDRESSES["appui_dac"], [], "appui_dac", "boîte dac (destinataire du message)"),
        (f"x@y.test, {ADDRESSES['medecin_referent']}", [], "medecin_referent", "boîte mr"),
        ("autre@cpts.test", [], "signalement", "boîte sig (première de la configuration)"),
        (ADDRESSES["appui_dac"], ["--mailbox", "te"], "tele_expertise", "boîte te"),
        (
            ADDRESSES["appui_dac"],
            ["--programme", "medecin_referent"],
            "medecin_referent",
            "--programme",
        ),
    ],
)
def test_programme_choice(
    tmp_path: Path, to: str, options: list[str], expected: str, source: str
) -> None:
    site = make_site(tmp_path)
    data = check_json(site, eml(MR, sender=LUX_DOCTOR, to=to), "--at", AT, *options)
    assert data["decision"]["programme"] == expected
    assert data["programme_source"].startswith(source)
    assert data["request"]["kind"] == expected


def test_without_config_the_request_kind_decides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = _write(
        tmp_path,
        eml(TE, sender=ROUX_EMAIL, to="x@y.test", subject="Demande de télé-expertise"),
    )
    code, out, err = run_cli("check", str(path), "--at", AT)
    assert code == 0, err
    import json

    data = json.loads(out)
    assert data["decision"]["programme"] == "tele_expertise"
    # No roster without a configuration: the requérant is unknown, and TE rejects unknowns.
    assert data["decision"]["outcome"] == "rejected"
    assert data["context"]["database"] == "absente"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.eml"]


def test_without_config_and_without_a_kind_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = _write(tmp_path, eml({"Bonjour": "rien"}, sender=NURSE, to="x@y.test", subject="?"))
    code, out, err = run_cli("check", str(path))
    assert code == 2
    assert out == ""
    assert "--programme" in err


# -- errors and side effects --------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{missing}"], "lecture impossible"),
        (["{eml}", "--config", "{missing}"], "cannot read configuration file"),
        (["{eml}", "--config", "{bad}"], "pipeline.workers"),
        (["{eml}", "--config", "{config}", "--at", "12-03-2025"], "date invalide"),
        (["{eml}", "--config", "{config}", "--at", "2025-02-30"], "date invalide"),
        (["{eml}", "--config", "{config}", "--mailbox", "nope"], "boîte aux lettres inconnue"),
        (["{eml}", "--config", "{config}", "--programme", "nope"], "programme inconnu"),
        (["{empty}", "--config", "{config}"], "est vide"),
        (["{eml}", "--config", "{badroster}"], "roster"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    site = make_site(tmp_path / "site")
    message_path = _write(tmp_path, eml(MR, sender=LUX_DOCTOR, to=ADDRESSES["medecin_referent"]))
    bad = tmp_path / "bad.toml"
    bad.write_text("[pipeline]\nworkers = 0\n")
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    broken_roster = tmp_path / "broken-roster.toml"
    broken_roster.write_text('[[doctors]]\nrpps = "123"\n')
    badroster = tmp_path / "badroster.toml"
    badroster.write_text(
        site.config.read_text().replace(str(site.directory / "roster.toml"), str(broken_roster))
    )
    names = {
        "missing": str(tmp_path / "absent.eml"),
        "eml": str(message_path),
        "bad": str(bad),
        "config": str(site.config),
        "empty": str(empty),
        "badroster": str(badroster),
    }
    code, out, err = run_cli("check", *(a.format(**names) for a in args))
    assert code == 2
    assert out == ""
    assert err.startswith("erreur : ")
    assert message in err


def test_check_never_creates_the_database(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    check_json(site, eml(MR, sender=LUX_DOCTOR, to=ADDRESSES["medecin_referent"]), "--at", AT)
    assert not site.database.exists()
    assert not any(p.name.startswith("aiguilleur.db") for p in tmp_path.iterdir())


def test_check_writes_nothing_to_an_existing_database(tmp_path: Path) -> None:
    site = make_site(tmp_path, with_database=True)
    before = hashlib.sha256(site.database.read_bytes()).hexdigest()
    tables = ("cases", "case_event", "outbound_message", "offer", "rule_result", "inbound_message")

    def counts() -> dict[str, int]:
        with sqlite3.connect(site.database) as db:
            names = {r[0] for r in db.execute("select name from sqlite_master")}
            return {
                t: db.execute(f"select count(*) from {t}").fetchone()[0]
                for t in tables
                if t in names
            }

    start = counts()
    for programme, base in (
        ("signalement", fields(SIG, ddn=ADULT, ald="ALD 8")),
        ("tele_expertise", TE),
    ):
        data = check_json(
            site,
            eml(base, sender=DEFAULT_SENDER[programme], to=ADDRESSES[programme]),
            "--at",
            AT,
        )
        assert data["decision"]["outcome"] == "eligible"
        assert data["context"]["database"] == "lue"
    assert counts() == start
    assert hashlib.sha256(site.database.read_bytes()).hexdigest() == before


def test_check_output_is_stable_json(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    raw = eml(fields(SIG, ddn=ADULT, ald="ALD 8"), sender=NURSE, to=ADDRESSES["signalement"])
    path = _write(tmp_path, raw)
    runs = [run_cli("check", str(path), "--config", str(site.config), "--at", AT) for _ in range(2)]
    assert runs[0] == runs[1]
    out = runs[0][1]
    assert "é" in out  # ensure_ascii=False: French reads as French
    import json

    data = json.loads(out)
    assert list(data) == [
        "programme",
        "programme_source",
        "request",
        "problems",
        "rules",
        "conflicts",
        "decision",
        "routing",
        "context",
    ]
    assert "provenance" not in data["request"]
    assert set(data["decision"]) >= {
        "programme",
        "outcome",
        "reasons_fr",
        "notify_medecin_traitant",
    }
    assert set(data["routing"]) >= {"action", "reason_fr", "targets"}
    assert all(set(t) == {"rpps", "name", "email"} for t in data["routing"]["targets"])
    assert all(
        set(r) == {"rule_id", "outcome", "reason_fr", "evidence", "evidence_text"}
        for r in data["rules"]
    )
    situation = next(r for r in data["rules"] if r["rule_id"] == "situation_eligible")
    ald = next(e for e in situation["evidence_text"] if e["field"] == "situation.ald")
    assert ald["text"] == "ALD 8" and ald["value"] == "8" and "ALD" in ald["locator"]
    assert [r["rule_id"] for r in data["rules"]] == [
        "sender_verified",
        "reporter_is_professional",
        "patient_in_territory",
        "no_medecin_traitant",
        "situation_eligible",
    ]
    assert data["context"]["sender"]["address"] == NURSE


def test_each_rule_shows_the_words_it_rests_on(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    body = (
        "Bonjour,\n\nJe vous signale Mme Jeanne THIRIET, née le 02/03/1948, domiciliée 3 rue du "
        "Lac 88400 Gérardmer. Elle n'a plus de médecin traitant depuis le départ en retraite du "
        "Dr Voirin. Pas d'ALD, mais elle sort d'hospitalisation et nécessite un suivi.\n"
    )
    raw = build_mail(subject="Signalement", body=body, sender=NURSE, to=ADDRESSES["signalement"])
    data = check_json(site, raw, "--at", AT)
    rules = {r["rule_id"]: r for r in data["rules"]}
    mt = {e["field"]: e for e in rules["no_medecin_traitant"]["evidence_text"]}
    assert mt["patient.has_medecin_traitant"]["span"] == "médecin traitant"
    assert "négation" in mt["patient.has_medecin_traitant"]["qualifiers"]
    assert "départ en retraite" in mt["patient.has_medecin_traitant"]["text"]
    situation = {e["field"]: e for e in rules["situation_eligible"]["evidence_text"]}
    assert situation["situation.ald_declared"]["value"] == "non"
    assert situation["situation.ald_declared"]["qualifiers"] == ["négation"]
    assert situation["situation.sortie_hospitalisation"]["value"] == "oui"
    assert situation["patient.birth_date"]["span"] == "née le 02/03/1948"
    territory = {e["field"]: e for e in rules["patient_in_territory"]["evidence_text"]}
    assert territory["patient.postal_code"]["value"] == "88400"
    assert data["decision"]["outcome"] == "eligible"


def test_at_defaults_to_today_in_paris(tmp_path: Path) -> None:
    from datetime import datetime

    from gateway.cli.commands.check import PARIS

    site = make_site(tmp_path)
    raw = eml(fields(SIG, ddn=ADULT, ald="ALD 8"), sender=NURSE, to=ADDRESSES["signalement"])
    data = check_json(site, raw)
    assert data["context"]["received_on"] == datetime.now(PARIS).date().isoformat()


def test_french_date_format_for_at(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    raw = eml(fields(SIG, ddn="12/03/1955", **NO_OTHER), sender=NURSE, to=ADDRESSES["signalement"])
    assert check_json(site, raw, "--at", "13/03/2025")["decision"]["outcome"] == "eligible"
    assert check_json(site, raw, "--at", "12/03/2025")["decision"]["outcome"] == "ineligible"


def test_messages_the_daemon_ignores_are_flagged(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    base = fields(SIG, ddn=ADULT, ald="ALD 8")
    plain = check_json(site, eml(base, sender=NURSE, to=ADDRESSES["signalement"]), "--at", AT)
    assert plain["context"]["ignored_reason"] is None
    auto = eml(
        base,
        sender=NURSE,
        to=ADDRESSES["signalement"],
        headers={"Auto-Submitted": "auto-replied"},
    )
    data = check_json(site, auto, "--at", AT)
    assert data["context"]["ignored_reason"] == "auto-submitted: auto-replied"


def test_programme_from_a_cc_address(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    raw = eml(
        fields(DAC, poly="oui", isolement="oui"),
        sender=NURSE,
        to="secretariat@cabinet.test",
        headers={"Cc": f"Appui DAC <{ADDRESSES['appui_dac'].upper()}>"},
    )
    data = check_json(site, raw, "--at", AT)
    assert data["decision"]["programme"] == "appui_dac"
    assert data["programme_source"] == "boîte dac (destinataire du message)"
