"""The coordinator UI speaks French: the English codes it must never show, a database that
holds every one of them somewhere, and the text a page shows.

The codes come from the enums (and ``Literal`` types) that define them, so a new value
is looked for as soon as it exists. A few are left out because they are French words too,
or words the UI rightly shows for another reason: ``EXCLUDED`` says which and why.
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from html.parser import HTMLParser
from itertools import cycle

from sqlalchemy import Engine
from sqlmodel import Session

from gateway.cases.actions import CLOSE_OUTCOMES
from gateway.replies.facts import ReplyKind
from gateway.routing.answers import Answer
from gateway.routing.plan import PlanAction
from gateway.storage import repo
from gateway.storage.events import CaseEventKind
from gateway.storage.models import (
    Case,
    CaseStatus,
    InboundStatus,
    Offer,
    OfferKind,
    OfferStatus,
    OutboundStatus,
    RuleResultRow,
    utcnow,
)
from gateway.storage.web_models import AuditEntry, CaseNote, Role
from gateway.web.audit import AuditAction
from gateway.web.labels import DETAIL_KEYS, ENUMERATIONS, HEALTH_CHECKS, TARGET_KINDS
from parsers.request import (
    Patient,
    Problem,
    Provenance,
    Reporter,
    Request,
    RequestKind,
    TeleExpertise,
)
from rules.engine import DecisionOutcome
from rules.result import Outcome
from tests.support.mail_rows import add_inbound, add_outbound
from tests.support.web import request_mail, request_provenance

__all__ = [
    "EXCLUDED",
    "SEED_CLIENT",
    "Seeded",
    "english_codes",
    "raw_codes",
    "seed_every_state",
    "visible_text",
]

# The enums whose values the UI shows, each by name.
ENUMS: tuple[type[StrEnum], ...] = (
    CaseStatus,
    OfferStatus,
    OfferKind,
    InboundStatus,
    OutboundStatus,
    CaseEventKind,
    ReplyKind,
    Role,
    Outcome,
    AuditAction,
    RequestKind,
)
LITERALS: Mapping[str, object] = {
    "DecisionOutcome": DecisionOutcome,
    "PlanAction": PlanAction,
    "Answer": Answer,
}

# Codes not looked for, and why: each is also a French word (or the same in both languages),
# or a word the UI shows for another reason than the enumeration.
EXCLUDED: Mapping[str, str] = {
    "patient": "French word (Reporter.declared_role); 'Patient' heads the request's fields",
    "signalement": "French word (OfferKind, RequestKind): the programme is named so",
    "avis": "French word (ReplyKind, doctor answer): 'Avis de télé-expertise'",
    "refuse": "French word (doctor answer): 'il refuse'",
    "annule": "French word (a close outcome's code): 'il annule'",
    "programme": "French word (detail key): the 'Programme' column",
    "plan": "French word (detail key)",
    "codes": "French word (detail key)",
    "absences": "French word (detail key): the roster lists a doctor's absences",
    "note": "French word (audit target): the 'Notes' section",
    "user": "audit target, and the account command the accounts page quotes: 'aiguilleur user add'",
    "test": "same word in French (patient.ins_kind)",
    "production": "same word in French (patient.ins_kind)",
    "rpps": "the French identifier's acronym (detail key, audit target): 'RPPS 10000000001'",
    "to": "the mail header's name, which provenance quotes: 'destinataire (To)', 'Reply-To'",
    "M": "a letter, not a word (patient.sex)",
    "F": "a letter, not a word (patient.sex)",
    "U": "a letter, not a word (patient.sex)",
}


def english_codes() -> dict[str, str]:
    """Every code the UI must not show as it is, with the enumeration it belongs to."""
    found: dict[str, str] = {}

    def add(codes: Iterable[str], source: str) -> None:
        for code in codes:
            if code not in EXCLUDED:
                found.setdefault(code, source)

    for enum in ENUMS:
        add((member.value for member in enum), enum.__name__)
    for name, alias in LITERALS.items():
        add(typing.get_args(alias), name)
    # Built from the same enums, plus what no enum lists (detail keys, targets, checks).
    for name, enumeration in ENUMERATIONS.items():
        add(enumeration.codes, name)
    add(DETAIL_KEYS, "detail")
    add(TARGET_KINDS, "audit_target")
    add(HEALTH_CHECKS, "health_check")
    return found


def _pattern(codes: Iterable[str]) -> re.Pattern[str]:
    words = sorted(set(codes), key=lambda c: (-len(c), c))
    alternatives = "|".join(re.escape(w) for w in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def raw_codes(text: str, codes: Mapping[str, str] | None = None) -> list[str]:
    """The codes ``text`` shows as whole words, each with a little context."""
    known = codes if codes is not None else english_codes()
    hits = []
    for match in _pattern(known).finditer(text):
        code = match.group(0)
        source = known.get(code) or known.get(code.lower(), "?")
        start, end = max(0, match.start() - 40), match.end() + 40
        context = " ".join(text[start:end].split())
        hits.append(f"{code!r} ({source}) in «{context}»")
    return hits


class _Visible(HTMLParser):
    """The text of <body> a browser shows: no tags, attributes, scripts or styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._body = False
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self._body = True
        elif tag in ("script", "style", "template"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if self._body and not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    parser.close()
    return " ".join(" ".join(parser.parts).split())


# --- A database with every state ------------------------------------------------------------

DOCTORS = (
    ("10000000001", "Dr Claire Martin", "claire.martin@medecin.test"),
    ("10000000002", "Dr Hugo Bernard", "hugo.bernard@medecin.test"),
    ("10000000003", "Dr Inès Petit", "ines.petit@medecin.test"),
)
PROGRAMMES = ("signalement", "tele_expertise", "appui_dac", "medecin_referent")
FAMILIES = ("DURAND", "LEROY", "FAURE", "GIRARD", "MOREL", "FOURNIER", "LAMBERT", "BONNET")
PREVIOUS_ERROR = "550 5.1.1 <dr.absent@medecin.test> : adresse inconnue"
SEED_CLIENT = "192.0.2.10"  # the seeded audit entries' address (TEST-NET-1)


@dataclass(frozen=True)
class Seeded:
    references: list[str]
    quarantined_inbound: int  # a quarantined message, for the release action
    failed_outbound: int  # a failed reply on ``references[0]``, for the resend action
    notes: int


def _mail(number: int, family: str) -> bytes:
    return request_mail(
        "Dr Sophie Garnier <sophie.garnier@medecin.test>",
        f"Demande pour Mme {family}",
        f"<demande-{number}@medecin.test>",
        "Bonjour, patiente sans médecin traitant depuis le départ du sien.",
    )


def _values(alias: object) -> tuple[str, ...]:
    return tuple(str(v) for v in typing.get_args(alias))


def _request(number: int, family: str, kind: RequestKind) -> Request:
    roles = ENUMERATIONS["reporter_role"].codes
    sexes = ENUMERATIONS["sex"].codes
    ins_kinds = ENUMERATIONS["ins_kind"].codes
    return Request(
        kind=kind,
        request_date=date(2026, 3, 2),
        reporter=Reporter(
            family_name="GARNIER",
            given_name="Sophie",
            email="sophie.garnier@medecin.test",
            declared_role=roles[number % len(roles)],
        ),
        patient=Patient(
            family_name=family,
            given_names=["Jeanne"],
            sex=sexes[number % len(sexes)],
            birth_date=date(1948, 3, 12),
            ins="248031234567890",
            ins_kind=ins_kinds[number % len(ins_kinds)],
            postal_code="88400",
            city="Gérardmer",
            has_medecin_traitant=False,
        ),
        tele_expertise=TeleExpertise(filiere="orl", consent=True, urgency="normale"),
        provenance={
            **request_provenance(),
            "reporter.email": Provenance(source="headers", kind="header", locator="From"),
        },
        problems=[
            Problem(
                code="patient.phone.missing",
                message_fr="Le téléphone du patient n'est pas indiqué.",
                field="patient.phone",
                severity="warning",
            )
        ],
    )


def _details(inbound: int, offer: int, outbound: int) -> dict[str, list[dict[str, object]]]:
    """Each event kind with the details its writers give it, once per value they take."""
    decisions = _values(DecisionOutcome)
    plans = _values(PlanAction)
    return {
        CaseEventKind.CASE_OPENED: [{"programme": p} for p in PROGRAMMES],
        CaseEventKind.MESSAGE_RECEIVED: [
            {"inbound_id": inbound, "kind": k.value, "problems": 1} for k in RequestKind
        ],
        CaseEventKind.RULES_EVALUATED: [
            {
                "outcome": outcome,
                "failed": ["patient_in_territory"],
                "missing": ["no_medecin_traitant"],
                "plan": plan,
            }
            for outcome, plan in zip(cycle(decisions), plans, strict=False)
        ],
        CaseEventKind.SENDER_UNVERIFIED: [
            {"policy": p} for p in ENUMERATIONS["sender_policy"].codes
        ],
        CaseEventKind.FOLLOW_UP_RECEIVED: [{"inbound_id": inbound, "remaining_problems": 0}],
        CaseEventKind.REFERRED_TO_DAC: [{"to": "equipe@dac-vosges.test"}],
        CaseEventKind.ESCALATED: [{"reason": "Aucun médecin disponible n'a accepté."}],
        CaseEventKind.OFFER_SENT: [
            {"offer_id": offer, "rpps": DOCTORS[0][0], "kind": k.value, "rank": 1}
            for k in OfferKind
        ],
        CaseEventKind.OFFER_ACCEPTED: [{"offer_id": offer, "rpps": DOCTORS[0][0]}],
        CaseEventKind.OFFER_REFUSED: [{"offer_id": offer, "rpps": DOCTORS[0][0]}],
        CaseEventKind.OFFER_EXPIRED: [{"offer_id": offer, "rpps": DOCTORS[0][0]}],
        CaseEventKind.OFFER_BOUNCED: [{"offer_id": offer, "rpps": DOCTORS[0][0]}],
        CaseEventKind.OFFER_REMINDED: [{"offer_id": offer}],
        CaseEventKind.ANSWER_AMBIGUOUS: [{"offer_id": offer, "inbound_id": inbound}],
        CaseEventKind.AVIS_RELAYED: [{"offer_id": offer, "inbound_id": inbound, "attachments": 1}],
        CaseEventKind.ACTS_RECORDED: [{"codes": ["TE2", "RQD"]}],
        CaseEventKind.DOCTOR_MESSAGE: [
            {"inbound_id": inbound, "taken_as": t} for t in ENUMERATIONS["doctor_answer"].codes
        ],
        CaseEventKind.STATUS_REQUESTED: [{"inbound_id": inbound}],
        CaseEventKind.ASSIGNED: [{"rpps": DOCTORS[1][0], "offer_id": offer}],
        CaseEventKind.CLOSED: [{"outcome": o} for o in CLOSE_OUTCOMES],
        CaseEventKind.FIELD_CORRECTED: [{"field": "patient.city"}],
        CaseEventKind.REPLY_QUEUED: [
            {"kind": k.value, "to": "sophie.garnier@medecin.test", "message_id": f"<r{i}@cpts>"}
            for i, k in enumerate(ReplyKind)
        ],
        CaseEventKind.REPLY_SUPPRESSED: [
            {"reason": r} for r in ENUMERATIONS["suppression_reason"].codes
        ],
        CaseEventKind.REPLY_SENT: [
            {"kind": k.value, "message_id": f"<s{i}@cpts>", "error": None}
            for i, k in enumerate(ReplyKind)
        ],
        CaseEventKind.REPLY_FAILED: [
            {"kind": ReplyKind.ACK.value, "message_id": "<f@cpts>", "error": PREVIOUS_ERROR}
        ],
        **{
            kind: [
                {
                    "kind": ReplyKind.OFFER.value,
                    "to": "claire.martin@medecin.test",
                    "message_id": "<b@cpts>",
                    "delivery_status": status,
                    "error": f"smtp; {PREVIOUS_ERROR}",
                }
            ]
            for kind, status in (
                (CaseEventKind.REPLY_BOUNCED, "5.1.1"),
                (CaseEventKind.REPLY_DELAYED, "4.4.1"),
            )
        },
        CaseEventKind.NOTE_ADDED: [{"target": "note:1"}],
        CaseEventKind.MESSAGE_RELEASED: [
            {"target": f"inbound:{inbound}", "previous_error": "ValueError: pièce illisible"}
        ],
        CaseEventKind.MESSAGE_DISCARDED: [{"target": f"inbound:{inbound}", "reason": "doublon"}],
        CaseEventKind.REPLY_RESENT: [
            {"target": f"outbound:{outbound}", "previous_error": PREVIOUS_ERROR}
        ],
        CaseEventKind.ATTACHMENT_DOWNLOADED: [{"target": f"inbound:{inbound}/0"}],
    }


def _audit(inbound: int, offer: int, outbound: int) -> dict[str, tuple[str, dict[str, object]]]:
    """Each audit action with the target and detail its writer gives it."""
    return {
        AuditAction.LOGIN: ("", {}),
        AuditAction.LOGOUT: ("", {}),
        AuditAction.USER_ADDED: ("user:lea", {}),
        AuditAction.PASSWORD_CHANGED: ("user:lea", {}),
        AuditAction.USER_DISABLED: ("user:lea", {}),
        AuditAction.ROSTER_EDITED: (
            f"rpps:{DOCTORS[2][0]}",
            {"accepts_new_patients": [None, True], "filieres": [None, ["orl"]], "absences": 1},
        ),
        AuditAction.CASE_ASSIGNED: (f"offer:{offer}", {"rpps": DOCTORS[1][0]}),
        AuditAction.CASE_CLOSED: ("outcome:sans_solution", {"outcome": "sans_solution"}),
        AuditAction.FIELD_CORRECTED: ("field:patient.city", {"reply": ReplyKind.INCOMPLETE.value}),
        AuditAction.NOTE_ADDED: ("note:1", {}),
        AuditAction.MESSAGE_RELEASED: (f"inbound:{inbound}", {"previous_error": "ValueError"}),
        AuditAction.MESSAGE_DISCARDED: (f"inbound:{inbound}", {"reason": "doublon"}),
        AuditAction.REPLY_RESENT: (f"outbound:{outbound}", {"previous_error": PREVIOUS_ERROR}),
        AuditAction.ATTACHMENT_DOWNLOADED: (f"inbound:{inbound}/0", {}),
    }


def seed_every_state(engine: Engine, actor: str = "claire") -> Seeded:
    """One case per status, and across them every value the UI shows: decisions, offers
    of every kind and status, messages in every state, mails of every kind and status,
    every rule outcome, every event kind with its details, every audit action."""
    now = utcnow()
    references: list[str] = []
    quarantined = failed = note_id = 0
    inbound_states = cycle(InboundStatus)
    outbound_states = cycle(OutboundStatus)
    reply_kinds = cycle(ReplyKind)
    offer_kinds = cycle(OfferKind)
    offer_states = list(OfferStatus)
    decisions = cycle(_values(DecisionOutcome))
    outcomes = list(Outcome)
    request_kinds = cycle(RequestKind)
    with Session(engine, expire_on_commit=False) as db:
        for number, status in enumerate(CaseStatus, start=1):
            family = FAMILIES[number % len(FAMILIES)]
            programme = PROGRAMMES[number % len(PROGRAMMES)]
            doctor = DOCTORS[number % len(DOCTORS)]
            case = Case(
                reference=f"AIG-2026-{700 + number:06d}",
                programme=programme,
                status=status,
                mailbox="sig",
                sender="sophie.garnier@medecin.test",
                request_json=_request(number, family, next(request_kinds)).model_dump_json(),
                opened_at=now - timedelta(minutes=number),
                decision=next(decisions),
                doctor_rpps=doctor[0],
                doctor_name=doctor[1],
                patient_family_name=family,
                patient_ins="248031234567890",
            )
            db.add(case)
            db.flush()
            assert case.id is not None
            references.append(case.reference)
            raw = _mail(number, family)
            inbound = add_inbound(
                db,
                raw,
                mailbox="sig",
                source_key=f"tous-etats-{number}",
                content_sha256=f"{number:064d}",
                status=next(inbound_states),
                case_id=case.id,
                received_at=case.opened_at,
            )
            if inbound.status == InboundStatus.QUARANTINED:
                inbound.attempts, inbound.error = 3, "ValueError: pièce jointe illisible"
            for position, outcome in enumerate(outcomes):
                row = RuleResultRow(
                    case_id=case.id,
                    rule_id=("patient_in_territory", "no_medecin_traitant", "sender_verified")[
                        position % 3
                    ],
                    outcome=outcome,
                    reason_fr="Le critère a été examiné.",
                )
                row.position = position
                db.add(row)
            offers = []
            for rank, offer_status in enumerate(offer_states, start=1):
                offer = Offer(
                    case_id=case.id,
                    kind=next(offer_kinds),
                    rank=rank,
                    doctor_rpps=doctor[0],
                    doctor_name=doctor[1],
                    doctor_email=doctor[2],
                    status=offer_status,
                    deadline_at=now - timedelta(hours=1),  # some overdue on the dashboard
                )
                db.add(offer)
                offers.append(offer)
            mails = []
            for index in range(3 if number > 1 else len(ReplyKind)):
                kind = next(reply_kinds)
                mail = add_outbound(
                    db,
                    b"Subject: x\r\n\r\nx",
                    case_id=case.id,
                    cause_key=f"tous-etats:{number}:{index}",
                    kind=kind,
                    recipient="sophie.garnier@medecin.test",
                    message_id=f"<tous-etats-{number}-{index}@cpts.test>",
                    subject=f"[{case.reference}] Réponse",
                    status=next(outbound_states),
                    attempts=1,
                )
                if mail.status == OutboundStatus.FAILED:
                    mail.attempts, mail.last_error = 12, PREVIOUS_ERROR
                mails.append(mail)
            note = CaseNote(case_id=case.id, author=actor, text="Rappeler la patiente lundi.")
            db.add(note)
            db.flush()
            assert inbound.id is not None and offers[0].id is not None and note.id is not None
            if number == 1:
                failed = next(m.id for m in mails if m.status == OutboundStatus.FAILED) or 0
                note_id = note.id
            if inbound.status == InboundStatus.QUARANTINED:
                quarantined = inbound.id
            outbound_id = mails[0].id or 0
            # Every event kind, every value of its details, on the first case; one each elsewhere.
            for event, details in _details(inbound.id, offers[0].id, outbound_id).items():
                for detail in details if number == 1 else details[:1]:
                    repo.add_event(db, case.id, event, detail, actor=actor)
            if number == 1:
                audit = _audit(inbound.id, offers[0].id, outbound_id)
                for action, (target, detail) in audit.items():
                    entry = AuditEntry(
                        actor=actor,
                        action=action,
                        case_id=case.id if target else None,
                        target=target or None,
                        client=SEED_CLIENT,
                        detail_json=json.dumps(detail, ensure_ascii=False),
                    )
                    db.add(entry)
        db.commit()
    assert quarantined and failed
    return Seeded(references, quarantined, failed, note_id)
