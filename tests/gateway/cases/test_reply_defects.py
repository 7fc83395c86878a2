"""Reply defects seen through the real pipeline and database (no mail servers): the
reception time, the Task's status over a case's life, the DAC referral, the forwarded
original, the requérant's name, an infant's situation and the structure's article.

The reply layer's own tests of the same defects are in tests/gateway/replies/test_reply_defects.py.
"""

from __future__ import annotations

import asyncio
import email
import json
from datetime import datetime, timedelta
from email.message import EmailMessage

from fhir.resources.R4B.task import Task
from sqlalchemy import Engine

from gateway.cli.demo_routing import DEMO_DOCTORS
from gateway.storage import repo
from gateway.storage.models import Case, InboundMessage
from gateway.storage.repo import IncomingRaw
from tests.gateway.cases.test_flow import (
    BOXES,
    DAC_TEAM,
    IDE,
    ORL_A,
    ORL_B,
    REQUERANT,
    SIGNALEMENT,
    T0,
    TE_ORL,
    World,
    mail,
)
from tests.gateway.cases.test_flow import text as _crlf_text


def text(msg: EmailMessage) -> str:
    return _crlf_text(msg).replace("\r\n", "\n")


def _task(msg: EmailMessage) -> dict[str, object]:
    part = next(p for p in msg.iter_attachments() if p.get_filename() == "aiguilleur-task.json")
    data = json.loads(part.get_content())
    assert isinstance(data, dict)
    Task.model_validate(data)  # a valid FHIR R4 Task
    return data


def _backlogged(world: World, raw: bytes, arrived: datetime, box: str = "sig") -> None:
    """The message was stored at ``arrived`` but is decided only at the world's clock."""
    with repo.session_for(world.engine) as s:
        (stored,) = repo.store_inbound_batch(s, [IncomingRaw(box, raw, source_key=str(arrived))])
        row = s.get(InboundMessage, stored)
        assert row is not None
        row.received_at = row.next_attempt_at = arrived
        s.commit()
    asyncio.run(world.pipeline.drain())


# 7. "Reçu le" and Task.authoredOn are when the mail arrived, not when the case was opened.


def test_reception_time_is_the_mails_arrival_after_a_backlog(engine: Engine) -> None:
    world = World(engine)
    incomplete = SIGNALEMENT.replace("Date de naissance : 12/03/1948\n", "")
    world.now = T0 + timedelta(hours=3)  # the daemon was behind by three hours
    _backlogged(world, mail(incomplete, sender=IDE, to=BOXES["sig"][1]), arrived=T0)
    (case,) = world.all(Case)
    assert case.opened_at == T0 + timedelta(hours=3)
    asked = world.only(IDE, "incomplete")
    assert "le 23/11/2026 à 10:00," in text(asked)  # T0 in Paris time, not 13:00
    assert datetime.fromisoformat(str(_task(asked)["authoredOn"])) == T0

    # The complement arrives the next day and waits an hour: the reply dates the complement,
    # while the Task stays authored when the request arrived.
    world.now = T0 + timedelta(days=1, hours=1)
    complement = mail(
        "Date de naissance : 12/03/1948\n",
        sender=IDE,
        to=BOXES["sig"][1],
        subject=f"Re: {asked['Subject']}",
        in_reply_to=asked["Message-ID"],
    )
    _backlogged(world, complement, arrived=T0 + timedelta(days=1))
    follow = world.only(IDE, "follow_up")
    assert "votre complément du 24/11/2026 à 10:00" in text(follow)
    assert datetime.fromisoformat(str(_task(follow)["authoredOn"])) == T0
    # A later mail about the case speaks of the request's arrival too.
    world.answer(DEMO_DOCTORS[0].email, "ACCEPTE")
    accepted = world.only(IDE, "accepted")
    assert datetime.fromisoformat(str(_task(accepted)["authoredOn"])) == T0


# 8. The Task's status over a case's life: received → in-progress → completed, never back.


def test_task_status_moves_forward_over_a_tele_expertise(engine: Engine) -> None:
    world = World(engine, doctors=(*DEMO_DOCTORS, ORL_A, ORL_B))
    world.receive(mail(TE_ORL, sender=REQUERANT, to=BOXES["te"][1]), "te")
    ack = _task(world.only(REQUERANT, "ack"))
    # As the README's mapping says: eligible and already offered, the Task is in progress.
    assert ack["status"] == "in-progress"
    assert ack["businessStatus"] == {
        "coding": [{"system": "urn:aiguilleur:business-status", "code": "oriente"}],
        "text": "Orientation en cours",
    }
    world.answer(ORL_A.email, "ACCEPTE", kind="te_request")
    taken = _task(world.only(REQUERANT, "accepted"))
    assert taken["status"] == "in-progress"  # not back to "accepted"
    assert taken["owner"] == {"display": ORL_A.name}
    world.answer(ORL_A.email, "Avis : " + "surveillance simple. " * 12, kind="offer_confirmed")
    assert _task(world.only(REQUERANT, "avis"))["status"] == "completed"


# 9. The DAC referral: a postal code is named as such, and the requester's address once.


def test_dac_referral_shows_a_postal_code_and_the_requester_once(engine: Engine) -> None:
    world = World(engine)
    body = (
        "Nom : GARNIER\nPrénom : Louis\nDate de naissance : 04/11/1939\nCode postal : 88400\n"
        "Polypathologie : oui\nIsolement social : oui\n"
    )
    sender = "assistante.sociale@ccas.test"
    world.receive(mail(body, sender=sender, to=BOXES["dac"][1]), "dac")
    referral = text(world.only(DAC_TEAM, "dac_referral"))
    assert "  Code postal : 88400\n" in referral and "Commune : 88400" not in referral
    assert referral.count(sender) == 1


# 10 and 11. The requis sees who asks, and gets the request as an embedded mail.


def test_te_request_names_the_requerant_and_embeds_the_original(engine: Engine) -> None:
    world = World(engine, doctors=(*DEMO_DOCTORS, ORL_A, ORL_B))
    raw = mail(TE_ORL, sender=REQUERANT, to=BOXES["te"][1])
    world.receive(raw, "te")
    request = world.only(ORL_A.email, "te_request")
    assert f"Dr Anne Roux ({REQUERANT}) sollicite un avis de télé-expertise" in text(request)
    (original,) = [p for p in request.iter_attachments() if p.get_filename().endswith(".eml")]  # type: ignore[union-attr]
    assert original.get_content_type() == "message/rfc822"
    inner = original.get_content()
    assert inner["From"] == REQUERANT
    assert inner["Message-ID"] == email.message_from_bytes(raw)["Message-ID"]


# 12 and 13. An infant's offer states the situation; the structure takes its article.


def test_infant_offer_states_the_situation_with_the_structures_article(engine: Engine) -> None:
    world = World(engine)  # its structure_name is the default, "CPTS"
    body = (
        "Nom : PETIT\nPrénom : Léa\nDate de naissance : 10/02/2026\n"
        "Code postal : 88400\nCommune : Gérardmer\nMédecin traitant : non\n"
    )
    world.receive(mail(body, sender=IDE, to=BOXES["sig"][1]))
    offer = text(world.only(DEMO_DOCTORS[0].email, "offer"))
    assert "  Âge : 9 mois\n" in offer
    assert "  Situation : enfant de 18 mois ou moins\n" in offer
    assert "  Commune : Gérardmer (88400)\n" in offer
    assert "\nLa CPTS recherche un médecin traitant" in offer
    assert "Aiguilleur, pour la CPTS\n" in offer
    assert "\n\n\n" not in offer
