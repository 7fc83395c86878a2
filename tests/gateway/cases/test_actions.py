"""Coordinator actions on real cases: assign, close, correct and re-run."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from gateway.cases.actions import (
    MAX_NOTE_LENGTH,
    ActionError,
    add_note,
    assign_case,
    close_case,
    correct_and_rerun,
)
from gateway.cases.flow import CaseFlow
from gateway.outbox.queue import Mailer
from gateway.replies.compose import ReplyRenderer
from gateway.storage import repo
from gateway.storage.models import Case, CaseEvent, Offer
from gateway.storage.web_models import CaseNote
from tests.gateway.cases.test_flow import (
    BOXES,
    CLAIRE,
    FROM,
    HUGO,
    IDE,
    SIGNALEMENT,
    World,
    mail,
    text,
)
from tests.support.routing import demo_services


def _act(world: World, action, *args: object) -> object:  # type: ignore[no-untyped-def]
    """Run one action in its own transaction, as the web UI does."""
    config = world.pipeline._config
    renderer = ReplyRenderer(from_address=FROM, from_name="CPTS", limit_bytes=10_000_000)
    with repo.session_for(world.engine) as session:
        flow = CaseFlow(
            session,
            demo_services(config, world.doctors),
            Mailer(session, renderer, config, world.now),
        )
        case = repo.lock_case(session, world.case())
        result = action(flow, case, *args)
        session.commit()
    return result


def _refused(world: World, match: str, action: Callable[..., object], *args: object) -> None:
    """The action is refused with an ``ActionError`` whose message matches ``match``."""
    with pytest.raises(ActionError, match=match):
        _act(world, action, *args)


def _world(engine: Engine, signalement: str = SIGNALEMENT) -> World:
    """A world that has received ``signalement`` from the IDE in the signalement mailbox."""
    world = World(engine)
    world.receive(mail(signalement, sender=IDE, to=BOXES["sig"][1]))
    return world


def test_reassign_withdraws_the_pending_offer_and_offers_to_the_chosen_gp(engine: Engine) -> None:
    world = _world(engine)
    _act(world, assign_case, "10000000002", "coord:alice")
    assert [(o.doctor_email, o.status, o.created_by) for o in world.all(Offer)] == [
        (CLAIRE, "withdrawn", "aiguilleur"),
        (HUGO, "pending", "coord:alice"),
    ]
    assert "réattribué" in text(world.only(CLAIRE, "offer_withdrawn"))
    world.only(HUGO, "offer")
    (assigned,) = [e for e in world.all(CaseEvent) if e.kind == "assigned"]
    assert assigned.actor == "coord:alice"
    _refused(world, "RPPS", assign_case, "99999999999", "coord:alice")


def test_close_sends_the_outcome_to_the_sender(engine: Engine) -> None:
    world = _world(engine)
    _act(world, close_case, "oriente_autrement", "Le patient est suivi par la MSP.", "coord:bob")
    case: Case = world.case()
    assert case.status == "closed" and case.closed_at is not None
    closed = world.only(IDE, "closed")
    assert "suivi par la MSP" in text(closed) and "autre solution" in text(closed)
    world.only(CLAIRE, "offer_withdrawn")
    _refused(world, "déjà clos", close_case, "annule", "", "coord:bob")
    _refused(world, "inconnue", close_case, "n_importe_quoi", "", "coord:bob")


def test_correct_a_field_and_rerun_the_rules(engine: Engine) -> None:
    # Outside the territory: ineligible.
    world = _world(engine, SIGNALEMENT.replace("88400", "75011"))
    assert world.case().status == "ineligible"
    reply = _act(world, correct_and_rerun, "patient.postal_code", "88400", "coord:carol")
    assert reply == "ack"
    assert world.case().status == "routed"
    world.only(CLAIRE, "offer")
    events = [(e.kind, e.actor) for e in world.all(CaseEvent)]
    assert ("field_corrected", "coord:carol") in events
    _refused(
        world, "déjà orienté", correct_and_rerun, "patient.postal_code", "88200", "coord:carol"
    )
    _refused(world, "ne peut pas", correct_and_rerun, "reporter.email", "x@y.z", "coord:carol")


def test_a_note_is_added_stripped_and_kept_within_its_length(engine: Engine) -> None:
    world = _world(engine)
    with repo.session_for(world.engine) as session:
        case = world.case()
        note = add_note(session, case, "  Rappeler le Dr House lundi \n", author="coord:alice")
        assert note.id is not None  # flushed: the caller's audit names it
        for text in ("", "  \n", "x" * (MAX_NOTE_LENGTH + 1)):
            with pytest.raises(ActionError, match=f"entre 1 et {MAX_NOTE_LENGTH} caractères"):
                add_note(session, case, text, author="coord:alice")
        session.commit()
    (kept,) = world.all(CaseNote)
    assert (kept.text, kept.author, kept.case_id) == (
        "Rappeler le Dr House lundi",
        "coord:alice",
        world.case().id,
    )
