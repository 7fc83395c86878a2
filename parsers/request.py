"""The normalised request: what every parser produces and every rule reads.

Values are plain typed fields; where each value came from is kept in
``Request.provenance``, keyed by the dotted field path (``patient.birth_date``).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

__all__ = [
    "Attachment",
    "Conflict",
    "Patient",
    "Problem",
    "Provenance",
    "Reporter",
    "Request",
    "RequestKind",
    "Situation",
    "TeleExpertise",
]


class RequestKind(StrEnum):
    SIGNALEMENT = "signalement"
    TELE_EXPERTISE = "tele_expertise"
    APPUI_DAC = "appui_dac"
    MEDECIN_REFERENT = "medecin_referent"
    STATUS_QUERY = "status_query"
    DOCTOR_ANSWER = "doctor_answer"
    UNKNOWN = "unknown"


SourceKind = Literal["header", "body", "docx", "pdf", "cda", "xdm", "config"]


class Provenance(BaseModel):
    """Where a value was read: the file, and the place inside it."""

    source: str  # file name, or "body" / "headers"
    kind: SourceKind
    locator: str = ""  # table cell, form field name, XPath, line number
    raw: str | None = None  # the text as written, before normalisation
    # Read in prose: the words matched, and what qualifies them ("négation", ...).
    span: str | None = None
    qualifiers: list[str] = Field(default_factory=list)


class Problem(BaseModel):
    """Something missing or invalid, with a stable code and a French message."""

    code: str  # stable, e.g. "patient.birth_date.missing", "zip.bomb"
    message_fr: str
    field: str | None = None  # dotted path of the field concerned, if any
    severity: Literal["error", "warning", "info"] = "error"
    source: str | None = None


class Conflict(BaseModel):
    """Two sources disagree on a field; the kept value follows precedence."""

    field: str
    kept: str
    kept_from: Provenance
    other: str
    other_from: Provenance


class Reporter(BaseModel):
    """The signaleur / requérant: the professional who sends the request."""

    family_name: str | None = None
    given_name: str | None = None
    rpps: str | None = None  # 11 digits
    profession_code: str | None = None  # TRE_G15, e.g. "10" (médecin)
    profession_label: str | None = None
    speciality_code: str | None = None  # TRE_R38, e.g. "SM54"
    organisation: str | None = None
    email: str | None = None
    phone: str | None = None  # E.164
    declared_role: Literal["professional", "patient", "family"] | None = None


class Patient(BaseModel):
    family_name: str | None = None  # used name
    birth_name: str | None = None
    given_names: list[str] = Field(default_factory=list)
    sex: Literal["M", "F", "U"] | None = None
    birth_date: date | None = None
    age_years: int | None = None  # an age as written ("76 ans"), when no birth date is given
    age_months: int | None = None  # a young child's age as written ("14 mois")
    ins: str | None = None  # 15 characters, key checked
    ins_oid: str | None = None
    ins_kind: Literal["production", "test", "demo", "unqualified"] | None = None
    postal_code: str | None = None
    insee_code: str | None = None
    city: str | None = None
    address: str | None = None  # street line as written
    birthplace_insee: str | None = None  # INSEE code of the birth commune (INS trait)
    phone: str | None = None
    email: str | None = None
    has_medecin_traitant: bool | None = None
    medecin_traitant: str | None = None  # name or contact as written


class Situation(BaseModel):
    """Situation flags used by the programmes' rules. ``None`` means not stated."""

    ald: list[int] = Field(default_factory=list)  # ALD numbers (France 1-32, Luxembourg list)
    ald_declared: bool | None = None  # an ALD is ticked or stated, number unknown
    arret_travail: bool | None = None
    sortie_hospitalisation: bool | None = None
    # DAC: medical criteria
    polypathologie: bool | None = None
    pathologie_desequilibree: bool | None = None
    hospitalisations_repetees: bool | None = None
    # DAC: psycho-social criteria
    isolement_social: bool | None = None
    vulnerabilite_sociale: bool | None = None
    pratiques_inadaptees: bool | None = None
    dependance_multi_acteurs: bool | None = None
    # Médecin référent
    dsp_active: bool | None = None
    free_text: str | None = None  # motif / contexte as written


class TeleExpertise(BaseModel):
    filiere: str | None = None  # filière id ("orl"), or the folded name of an unknown one
    filiere_label: str | None = None  # the filière as written
    requis_name: str | None = None
    requis_rpps: str | None = None
    requis_email: str | None = None
    question: str | None = None
    consent: bool | None = None  # explicit yes only counts
    urgency: Literal["normale", "urgente"] | None = None


class Attachment(BaseModel):
    filename: str
    content_type: str
    size: int
    sha256: str
    kind: Literal["docx", "pdf", "cda", "xdm", "image", "tnef", "message", "other"] = "other"


class Request(BaseModel):
    kind: RequestKind = RequestKind.UNKNOWN
    request_date: date | None = None  # the date of the request (ages are computed on it)
    reference: str | None = None  # an AIG-YYYY-NNNNNN found in subject or body
    reporter: Reporter = Field(default_factory=Reporter)
    patient: Patient = Field(default_factory=Patient)
    situation: Situation = Field(default_factory=Situation)
    tele_expertise: TeleExpertise = Field(default_factory=TeleExpertise)
    attachments: list[Attachment] = Field(default_factory=list)
    provenance: dict[str, Provenance] = Field(default_factory=dict)
    conflicts: list[Conflict] = Field(default_factory=list)
    problems: list[Problem] = Field(default_factory=list)
