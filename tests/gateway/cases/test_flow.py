"""Case stories through the real pipeline, timers and database, in process (no mail servers).

The end-to-end versions, through Dovecot and Postfix, are in tests/e2e/test_routing_stories.py.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlmodel import select

from gateway.cases.timers import Timers
from gateway.cli.demo_routing import DEMO_DOCTORS, DemoDoctor
from gateway.config import Config, parse_config
from gateway.pipeline.worker import Pipeline
from gateway.replies.compose import ReplyRenderer
from gateway.storage import repo
from gateway.storage.models import (
    Case,
    CaseEvent,
    InboundMessage,
    Offer,
    OutboundMessage,
    RuleResultRow,
    TeleExpertiseAct,
)
from gateway.storage.repo import IncomingRaw
from parsers import ParsedMessage, parse_message
from parsers.request import Request, RequestKind
from rules.programmes import programmes_from_mapping
from tests.support.mail_rows import raw_of
from tests.support.routing import demo_services

FROM = "ne-pas-repondre@cpts.test"
BOXES = {
    "sig": ("signalement", "signalement@cpts.test"),
    "te": ("tele_expertise", "te@cpts.test"),
    "dac": ("appui_dac", "appui@dac.test"),
    "mr": ("medecin_referent", "mr@cpts.test"),
}
COORDINATOR = "coordination@cpts.test"
DAC_TEAM = "equipe@dac.test"
IDE = "ide@infirmier.test"
REQUERANT = "anne.roux@medecin.mssante.test"  # in the demo roster
ORL_A = DemoDoctor(
    "10000000011", "Dr Alice Orl", "alice.orl@medecin.test", "SM39", False, 0, (), ("orl",)
)
ORL_B = DemoDoctor(
    "10000000012", "Dr Bruno Orl", "bruno.orl@medecin.test", "SM39", False, 0, (), ("orl",)
)
SIGNALEMENT = (
    "Nom : DURAND\nPrénom : Jeanne\nDate de naissance : 12/03/1948\n"
    "Code postal : 88400\nCommune : Gérardmer\nMédecin traitant : non\nALD : oui\n"
)
TE_ORL = (
    "Filière : ORL\nNom du patient : BLANC\nPrénom : Paul\nDate de naissance : 02/06/1985\n"
    "INS : 185067512345689\nAccord du patient : oui\n"
    "Question : otite séreuse persistante depuis 3 mois, faut-il des aérateurs ?\n"
)
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _config() -> Config:
    return parse_config(
        {
            "mailboxes": [
                {"name": n, "address": a, "programme": p, "host": "x"}
                for n, (p, a) in BOXES.items()
            ],
            "smtp": {"from_address": FROM},
            "pipeline": {"retry_delay": 0},
            "replies": {"rate_limit_per_hour": 0},
            "routing": {
                "coordinator_addresses": [COORDINATOR],
                "dac_team_address": DAC_TEAM,
                "offer_deadline_hours": 72,
                "reminder_after_hours": 24,
            },
        },
        environ={},
    )


def mail(
    body: str,
    *,
    sender: str,
    to: str,
    subject: str = "Demande",
    in_reply_to: str | None = None,
    files: tuple[tuple[str, str, bytes], ...] = (),
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(T0)
    msg["Message-ID"] = make_msgid(idstring=uuid.uuid4().hex[:8], domain="test")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg.set_content(body)
    for name, ctype, data in files:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(msg)


async def _parse(raw: bytes, kind: RequestKind | None) -> ParsedMessage:
    return await asyncio.to_thread(parse_message, raw, default_kind=kind)


@dataclass
class World:
    engine: Engine
    doctors: tuple[DemoDoctor, ...] = DEMO_DOCTORS
    now: datetime = T0
    keys: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        config = self.config = _config()
        services = demo_services(config, self.doctors)
        renderer = ReplyRenderer(from_address=FROM, from_name="CPTS", limit_bytes=10_000_000)
        self.pipeline = Pipeline(
            config=config,
            engine=self.engine,
            parse=_parse,
            renderer=renderer,
            services=services,
            owner="t",
            clock=lambda: self.now,
        )
        self.timers = Timers(
            engine=self.engine, services=services, renderer=renderer, clock=lambda: self.now
        )

    def receive(self, raw: bytes, box: str = "sig") -> None:
        self.keys.append(uuid.uuid4().hex)
        with repo.session_for(self.engine) as s:
            (stored,) = repo.store_inbound_batch(
                s, [IncomingRaw(box, raw, source_key=self.keys[-1])]
            )
            row = s.get(InboundMessage, stored)
            assert row is not None
            row.received_at = row.next_attempt_at = self.now  # on the test's clock
            s.commit()
        asyncio.run(self.pipeline.drain())

    def all(self, model: type) -> list:  # type: ignore[type-arg]
        with repo.session_for(self.engine) as s:
            return list(s.exec(select(model).order_by(model.id)).all())  # type: ignore[attr-defined]

    def raw(self, mail: OutboundMessage) -> bytes:
        with repo.session_for(self.engine) as s:
            return raw_of(s, mail)

    def case(self) -> Case:
        (case,) = self.all(Case)
        return case  # type: ignore[no-any-return]

    def mails(self, to: str | None = None, kind: str | None = None) -> list[OutboundMessage]:
        return [
            m
            for m in self.all(OutboundMessage)
            if (to is None or m.recipient == to) and (kind is None or m.kind == kind)
        ]

    def only(self, to: str, kind: str) -> EmailMessage:
        (found,) = self.mails(to, kind)
        msg = email.message_from_bytes(self.raw(found), policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        return msg

    def answer(
        self,
        doctor: str,
        body: str,
        kind: str = "offer",
        files: tuple[tuple[str, str, bytes], ...] = (),
    ) -> None:
        """The doctor hits "Reply" on the latest mail of that kind we sent them."""
        last = self.mails(doctor, kind)[-1]
        offer = email.message_from_bytes(self.raw(last), policy=email.policy.default)
        assert isinstance(offer, EmailMessage)
        box = next(n for n, (_, a) in BOXES.items() if a == offer["Reply-To"])
        self.receive(
            mail(
                body + "\n\n> " + "\n> ".join(text(offer).splitlines()),
                sender=doctor,
                to=offer["Reply-To"],
                subject=f"Re: {offer['Subject']}",
                in_reply_to=offer["Message-ID"],
                files=files,
            ),
            box,
        )

    def events(self) -> list[str]:
        return [e.kind for e in self.all(CaseEvent)]


def text(msg: EmailMessage) -> str:
    body = msg.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


CLAIRE, HUGO = DEMO_DOCTORS[0].email, DEMO_DOCTORS[1].email


def test_signalement_refused_then_accepted(engine: Engine) -> None:
    world = World(engine)
    world.receive(mail(SIGNALEMENT, sender=IDE, to=BOXES["sig"][1]))
    offer = world.only(CLAIRE, "offer")
    assert offer["Reply-To"] == BOXES["sig"][1]
    offered = text(offer)
    assert "ACCEPTE ou REFUSE" in offered and "88400" in offered
    assert "DURAND" not in offered  # no identity before the doctor is involved
    world.answer(CLAIRE, "Désolée, je ne peux pas, patientèle complète.")
    assert world.case().status == "routed"
    world.answer(HUGO, "ACCEPTE, avec plaisir.")
    case = world.case()
    assert case.status == "completed" and case.doctor_name == "Dr Hugo Bernard"
    told = world.only(IDE, "accepted")
    assert "Dr Hugo Bernard" in text(told) and HUGO in text(told)
    confirmed = text(world.only(HUGO, "offer_confirmed"))
    assert "DURAND" in confirmed and IDE in confirmed
    statuses = [(o.doctor_email, o.status) for o in world.all(Offer)]
    assert statuses == [(CLAIRE, "refused"), (HUGO, "accepted")]
    rules = world.all(RuleResultRow)
    assert {r.rule_id for r in rules} >= {"patient_in_territory", "situation_eligible"}
    assert all(r.outcome == "passed" for r in rules)
    # The IDE is in neither the directory nor the roster: accepted, but flagged.
    assert "sender_unverified" in world.events()


def test_deadline_moves_the_offer_on_then_escalates(engine: Engine) -> None:
    world = World(engine)
    world.receive(mail(SIGNALEMENT, sender=IDE, to=BOXES["sig"][1]))
    world.now = T0 + timedelta(hours=25)
    assert world.timers.run_once().reminded == 1
    assert "Nous n'avons pas encore reçu votre réponse" in text(world.only(CLAIRE, "reminder"))
    world.now = T0 + timedelta(hours=71, minutes=59)
    assert world.timers.run_once().expired == 0
    world.now = T0 + timedelta(hours=72)
    assert world.timers.run_once().expired == 1
    world.only(HUGO, "offer")  # the next GP
    world.now = T0 + timedelta(hours=145)
    report = world.timers.run_once()
    assert report.expired == 1
    case = world.case()
    assert case.status == "waiting_coordinator"
    assert "coordinateur" in text(world.only(IDE, "no_solution"))
    assert "demande l'intervention" in text(world.only(COORDINATOR, "coordinator_alert"))
    assert [o.status for o in world.all(Offer)] == ["expired", "expired"]
    assert world.timers.run_once().total == 0  # nothing left due


def test_ambiguous_answer_goes_to_a_coordinator(engine: Engine) -> None:
    world = World(engine)
    world.receive(mail(SIGNALEMENT, sender=IDE, to=BOXES["sig"][1]))
    world.answer(CLAIRE, "Pouvez-vous m'appeler pour en parler ?")
    assert world.case().status == "waiting_coordinator"
    alert = text(world.only(COORDINATOR, "coordinator_alert"))
    assert "n'a pas pu être interprétée" in alert and "m'appeler" in alert
    world.only(CLAIRE, "answer_forwarded")
    (offer,) = world.all(Offer)
    assert offer.status == "pending"  # still hers to take


def test_no_gp_for_the_commune_escalates_at_once(engine: Engine) -> None:
    body = SIGNALEMENT.replace("88400", "88100").replace("Gérardmer", "Saint-Dié")
    far = [d for d in DEMO_DOCTORS if "88100" not in d.communes or not d.accepts_new_patients]
    world = World(
        engine,
        doctors=(*far, DemoDoctor("1" * 11, "Dr X", "x@m.test", communes=("88400",))),
    )
    world.receive(mail(body, sender=IDE, to=BOXES["sig"][1]))
    assert world.case().status == "waiting_coordinator"
    assert world.mails(kind="offer") == []
    world.only(IDE, "no_solution")


def test_te_broadcast_first_acceptance_wins_and_avis_is_relayed(engine: Engine) -> None:
    world = World(engine, doctors=(*DEMO_DOCTORS, ORL_A, ORL_B))
    world.receive(mail(TE_ORL, sender=REQUERANT, to=BOXES["te"][1]), "te")
    assert "sender_unverified" not in world.events()  # the requérant is in the roster
    targets = sorted(m.recipient for m in world.mails(kind="te_request"))
    assert targets == sorted(["ines.petit@medecin.test", ORL_A.email, ORL_B.email])
    request_mail = world.only(ORL_A.email, "te_request")
    assert any(p.get_filename().endswith(".eml") for p in request_mail.iter_attachments())  # type: ignore[union-attr]
    # Ranked in the order they were made, counted by the transaction that opened the case.
    assert [o.rank for o in sorted(world.all(Offer), key=lambda o: o.id or 0)] == [1, 2, 3]
    world.answer(ORL_A.email, "J'accepte.", kind="te_request")
    assert world.case().status == "accepted"
    world.only(ORL_B.email, "offer_withdrawn")
    assert ORL_A.email in text(world.only(REQUERANT, "accepted"))
    # The avis, with a PDF, in the same thread.
    pdf = b"%PDF-1.4\n% avis ORL\n%%EOF\n"
    world.answer(
        ORL_A.email,
        "Avis : pose d'aérateurs trans-tympaniques recommandée. Compte rendu joint.",
        kind="offer_confirmed",
        files=(("avis-orl.pdf", "application/pdf", pdf),),
    )
    case = world.case()
    assert case.status == "completed"
    avis = world.only(REQUERANT, "avis")
    assert "aérateurs trans-tympaniques" in text(avis)
    relayed = {p.get_filename(): p.get_content() for p in avis.iter_attachments()}
    assert relayed["avis-orl.pdf"] == pdf
    acts = sorted((a.code, a.professional_email) for a in world.all(TeleExpertiseAct))
    assert acts == [("RQD", REQUERANT), ("TE2", ORL_A.email)]
    # A late acceptance from another requis gets a polite "already taken".
    world.answer(ORL_B.email, "ACCEPTE", kind="te_request")
    assert len(world.mails(ORL_B.email, "offer_withdrawn")) == 2


def test_te_named_requis_and_quota_fallback(engine: Engine) -> None:
    world = World(engine, doctors=(*DEMO_DOCTORS, ORL_A, ORL_B))
    named = TE_ORL + "Médecin requis : Dr Alice Orl\n"
    for round_no in range(5):
        world.receive(mail(named, sender=REQUERANT, to=BOXES["te"][1]), "te")
        latest = max(world.all(Case), key=lambda c: c.id)
        offers = [o for o in world.all(Offer) if o.case_id == latest.id]
        if round_no < 4:
            assert [(o.kind, o.doctor_email) for o in offers] == [("te_named", ORL_A.email)]
            # Alice answers with her avis straight away: the act counts for the quota.
            world.answer(ORL_A.email, "ACCEPTE", kind="te_request")
            world.answer(
                ORL_A.email, "Avis : " + "surveillance simple. " * 12, kind="offer_confirmed"
            )
        else:
            # Fifth request for the same patient within a year: Alice is at quota.
            assert {o.doctor_email for o in offers} == {"ines.petit@medecin.test", ORL_B.email}
            assert all(o.kind == "te_group" for o in offers)
    quota = [r for r in world.all(RuleResultRow) if r.rule_id == "te_quota_per_patient"]
    assert "4 télé-expertises" in quota[-1].reason_fr


def test_status_query_by_party_and_by_stranger(engine: Engine) -> None:
    world = World(engine)
    world.receive(mail(SIGNALEMENT, sender=IDE, to=BOXES["sig"][1]))
    reference = world.case().reference
    world.receive(mail("", sender=IDE, to=BOXES["sig"][1], subject=f"STATUT {reference}"))
    status = text(world.only(IDE, "status"))
    assert "Orientation en cours" in status
    world.receive(
        mail("", sender="curieux@ailleurs.test", to=BOXES["sig"][1], subject=f"STATUT {reference}")
    )
    neutral = world.only("curieux@ailleurs.test", "status_neutral")
    assert reference not in text(neutral) and "DURAND" not in text(neutral)
    assert "status_requested" in world.events()


def test_dac_referral_with_medecin_traitant_notice(engine: Engine) -> None:
    world = World(engine)
    body = (
        "Nom : GARNIER\nPrénom : Louis\nDate de naissance : 04/11/1939\nCode postal : 88400\n"
        "Polypathologie : oui\nIsolement social : oui\nVous êtes : famille\n"
        "Médecin traitant : Dr Lenoir, lenoir@medecin.test\n"
    )
    world.receive(mail(body, sender="fille.garnier@gmail.test", to=BOXES["dac"][1]), "dac")
    case = world.case()
    assert case.status == "routed", [r.reason_fr for r in world.all(RuleResultRow)]
    referral = world.only(DAC_TEAM, "dac_referral")
    assert "GARNIER" in text(referral)
    assert any(p.get_filename().endswith(".eml") for p in referral.iter_attachments())  # type: ignore[union-attr]
    world.only("lenoir@medecin.test", "mt_notice")
    assert "informé" in text(world.only("fille.garnier@gmail.test", "transmitted"))


def test_a_daughter_writing_in_prose(engine: Engine) -> None:
    """Seed 003 refuses a signalement from the family; seed 004 takes a DAC request from it
    and tells the médecin traitant. Nothing here is labelled: it is all in sentences."""
    world = World(engine)
    body = (
        "Bonjour,\n\nJe vous écris pour ma mère, Mme Jeanne THIRIET, née le 02/03/1938, qui "
        "habite 3 rue du Lac 88400 Gérardmer. Elle a plusieurs pathologies (diabète, "
        "insuffisance cardiaque) et vit seule depuis le décès de mon père. Son médecin "
        "traitant est le Dr Lenoir, lenoir@medecin.test.\n\nMerci,\nSophie\n"
    )
    world.receive(mail(body, sender="sophie.t@gmail.test", to=BOXES["sig"][1]))
    assert world.case().status == "rejected"
    rejected = text(world.only("sophie.t@gmail.test", "rejected"))
    assert "professionnel" in rejected and "demande écrite par un proche" in rejected
    world.receive(mail(body, sender="sophie.t@gmail.test", to=BOXES["dac"][1]), "dac")
    cases = world.all(Case)
    assert cases[-1].status == "routed"
    world.only(DAC_TEAM, "dac_referral")


def test_dac_with_medical_criteria_only_is_ineligible(engine: Engine) -> None:
    world = World(engine)
    body = (
        "Nom : GARNIER\nPrénom : Louis\nDate de naissance : 04/11/1939\nPolypathologie : oui\n"
        "Isolement social : non\nVulnérabilité sociale : non\nPratiques inadaptées : non\n"
        "Dépendance : non\n"
    )
    world.receive(mail(body, sender=IDE, to=BOXES["dac"][1]), "dac")
    assert world.case().status == "ineligible"
    reply = world.only(IDE, "ineligible")
    assert "ne peut pas être retenue" in text(reply)
    assert world.mails(DAC_TEAM) == []


def test_dac_with_psycho_social_side_unsaid_is_incomplete(engine: Engine) -> None:
    world = World(engine)
    body = "Nom : GARNIER\nPrénom : Louis\nDate de naissance : 04/11/1939\nPolypathologie : oui\n"
    world.receive(mail(body, sender=IDE, to=BOXES["dac"][1]), "dac")
    assert world.case().status == "incomplete"
    world.only(IDE, "incomplete")
    assert world.mails(DAC_TEAM) == []


def test_the_acknowledgement_says_what_was_understood(engine: Engine) -> None:
    world = World(engine)
    body = (
        "Bonjour,\n\nJe vous signale Mme Jeanne THIRIET, 76 ans, domiciliée 3 rue du Lac 88400 "
        "Gérardmer. Elle est en ALD 8 (diabète) et n'a plus de médecin traitant depuis le départ "
        "en retraite du Dr Voirin.\n\nCordialement,\nClaire Colin, IDE\n"
    )
    world.receive(mail(body, sender=IDE, to=BOXES["sig"][1]))
    assert world.case().status == "routed"
    ack = text(world.only(IDE, "ack"))
    assert (
        "Nous avons compris : patiente de 76 ans, en ALD (diabète), sans médecin traitant, "
        "résidant à Gérardmer (88400)."
    ) in ack
    assert "répondez à ce message en corrigeant" in ack


def test_patient_mailbox_is_rejected(engine: Engine) -> None:
    world = World(engine)
    world.receive(mail(SIGNALEMENT, sender="jeanne.durand@patient.mssante.fr", to=BOXES["sig"][1]))
    assert world.case().status == "rejected"
    world.only("jeanne.durand@patient.mssante.fr", "rejected")
    assert world.mails(kind="offer") == []


def test_unconfigured_territory_goes_to_a_coordinator_not_to_a_refusal(engine: Engine) -> None:
    world = World(engine)
    world.pipeline._services = replace(
        world.pipeline._services,
        programmes=programmes_from_mapping({}),
    )
    world.receive(mail(SIGNALEMENT, sender=IDE, to=BOXES["sig"][1]))
    case = world.case()
    # The case shows what the sender was told: a coordinator decides, not "ineligible".
    assert case.status == "waiting_coordinator" and case.decision == "coordinator"
    assert "pas encore configuré" in text(world.only(IDE, "no_solution"))
    world.only(COORDINATOR, "coordinator_alert")
    assert world.mails(kind="ineligible") == []


def test_only_an_eligible_request_reads_offers_and_the_round_robin(engine: Engine) -> None:
    """A refused request costs no offer query and takes no round-robin lock; every case
    still gets the year's next reference."""
    world = World(engine)
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement.lower())

    event.listen(engine, "before_cursor_execute", record)
    try:
        outside = SIGNALEMENT.replace("88400", "75011").replace("Gérardmer", "Paris")
        world.receive(mail(outside, sender=IDE, to=BOXES["sig"][1]))
        refused = list(seen)
        seen.clear()
        world.receive(mail(SIGNALEMENT, sender=IDE, to=BOXES["sig"][1]))
        routed = list(seen)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert [c.status for c in world.all(Case)] == ["ineligible", "routed"]
    assert [c.reference for c in world.all(Case)] == ["AIG-2026-000001", "AIG-2026-000002"]

    def reads(statements: list[str], table: str) -> bool:
        return any(s.startswith("select") and f"from {table}" in s for s in statements)

    assert not reads(refused, "offer") and not reads(refused, "routing_counter")
    assert reads(routed, "offer") and reads(routed, "routing_counter")
    # A case opened by this very transaction has been offered to nobody: not asked.
    offered_to = re.compile(r"^select offer\.doctor_rpps\s+from offer\s+where offer\.case_id")
    assert not any(offered_to.match(s) for s in routed)
    # Nor for the rank of its first offer.
    its_offers = re.compile(r"^select offer\.id,.*\s+from offer\s+where offer\.case_id", re.S)
    assert not any(its_offers.match(s) for s in routed)


def test_a_new_request_is_not_read_back_from_its_case(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The rules, the acknowledgement's facts and the offer all want the case's request: the
    # transaction that opens the case wrote its text from the parsed request, and uses that.
    reads: list[str] = []
    validate = Request.model_validate_json

    def counted(data: str | bytes, **kwargs: Any) -> Request:
        reads.append(str(data)[:20])
        return validate(data, **kwargs)

    monkeypatch.setattr(Request, "model_validate_json", counted)
    world = World(engine)
    raw = mail(SIGNALEMENT, sender=IDE, to=BOXES["sig"][1])
    world.receive(raw)
    world.only(CLAIRE, "offer")
    world.only(IDE, "ack")
    assert reads == []
    (case,) = world.all(Case)
    used = parse_message(raw, default_kind=RequestKind.SIGNALEMENT).request
    assert validate(case.request_json) == used  # what was used is what was stored


def test_a_routed_case_is_written_once_after_it_is_opened(engine: Engine) -> None:
    # Opened (INSERT, for its id), then routed: its final state goes in one UPDATE, not one
    # per step (the offer's INSERT would otherwise write the half-way state first).
    updates: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.startswith("UPDATE cases"):
            updates.append(statement)

    world = World(engine)
    event.listen(engine, "before_cursor_execute", seen)
    try:
        world.receive(mail(SIGNALEMENT, sender=IDE, to=BOXES["sig"][1]))
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    world.only(CLAIRE, "offer")
    assert world.case().status == "routed"
    assert len(updates) == 1


def test_an_offer_records_the_message_id_its_mail_goes_out_with(engine: Engine) -> None:
    # A doctor's "Re:" is matched to the offer by this id: the offer row and its mail agree,
    # and the mail's cause names the offer.
    world = World(engine)
    world.receive(mail(SIGNALEMENT, sender=IDE, to=BOXES["sig"][1]))
    (offer,) = world.all(Offer)
    (sent,) = world.mails(CLAIRE, "offer")
    assert offer.message_id is not None and offer.message_id == sent.message_id
    assert sent.cause_key == f"offer:{offer.id}"
    assert world.only(CLAIRE, "offer")["Message-ID"] == offer.message_id
    assert (offer.status, offer.rank, offer.doctor_email) == ("pending", 1, CLAIRE)
