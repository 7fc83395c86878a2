"""Assign, close, correct: the routing actions from the case page, audited, one transaction."""

from __future__ import annotations

from sqlmodel import Session, select
from starlette.testclient import TestClient

from gateway.storage.models import Case, CaseEvent, Offer, OutboundMessage
from gateway.storage.web_models import AuditEntry
from tests.gateway.web.conftest import Web
from tests.support.web import csrf_of, login, seed_case

HUGO = "10000000002"


def _outbound(web: Web, kind: str) -> list[OutboundMessage]:
    with Session(web.engine) as db:
        return [m for m in db.exec(select(OutboundMessage)).all() if m.kind == kind]


def _audit(web: Web) -> list[AuditEntry]:
    with Session(web.engine) as db:
        return [a for a in db.exec(select(AuditEntry)).all() if a.action != "login"]


def _logged_in(web: Web, username: str, reference: str) -> tuple[TestClient, str]:
    """A client logged in as ``username``, and the CSRF token of the case page it opened."""
    client = web.client()
    login(client, username)
    return client, csrf_of(client.get(f"/cases/{reference}").text)


def test_case_page_offers_the_three_actions_to_a_coordinator(web: Web) -> None:
    seeded = seed_case(web.engine, 1)
    client = web.client()
    login(client, "coord")
    page = client.get(f"/cases/{seeded.reference}").text
    for form in ("assign-form", "close-form"):
        assert f'id="{form}"' in page
    assert "Dr Hugo Bernard" in page  # the roster in the assign list
    login_viewer = web.client()
    login(login_viewer, "viewer")
    assert 'id="assign-form"' not in login_viewer.get(f"/cases/{seeded.reference}").text


def test_reassign_withdraws_and_offers_to_the_chosen_doctor(web: Web) -> None:
    seeded = seed_case(web.engine, 1)
    client, token = _logged_in(web, "coord", seeded.reference)
    response = client.post(
        f"/cases/{seeded.reference}/assign",
        data={"csrf": token, "rpps": HUGO},
        follow_redirects=False,
    )
    assert response.status_code == 303
    with Session(web.engine) as db:
        offers = db.exec(select(Offer).order_by(Offer.id)).all()  # type: ignore[arg-type]
        events = db.exec(select(CaseEvent).where(CaseEvent.case_id == seeded.case_id)).all()
    assert [(o.doctor_rpps, o.status) for o in offers] == [
        ("10000000001", "withdrawn"),
        (HUGO, "pending"),
    ]
    (offer_mail,) = _outbound(web, "offer")
    assert offer_mail.recipient == "hugo.bernard@medecin.test"
    (entry,) = _audit(web)
    assert (entry.actor, entry.action) == ("coord", "case_assigned")
    assigned = [e for e in events if e.kind == "assigned"]
    assert len(assigned) == 1 and assigned[0].actor == "coord"
    assert not [e for e in events if e.kind == "case_assigned"]  # one timeline entry, not two


def test_close_queues_the_outcome_for_the_sender(web: Web) -> None:
    seeded = seed_case(web.engine, 1)
    client, token = _logged_in(web, "coord", seeded.reference)
    client.post(
        f"/cases/{seeded.reference}/close",
        data={"csrf": token, "outcome": "sans_solution", "message": "Nous vous rappelons."},
    )
    with Session(web.engine) as db:
        case = db.get(Case, seeded.case_id)
    assert case is not None and case.status == "closed"
    (reply,) = _outbound(web, "closed")
    assert reply.recipient == "dr.house@medecin.test"
    assert [a.action for a in _audit(web)] == ["case_closed"]
    again = client.post(
        f"/cases/{seeded.reference}/close", data={"csrf": token, "outcome": "annule"}
    )
    assert again.status_code == 409 and "déjà clos" in again.text


def test_correct_refused_on_a_routed_case_and_for_a_viewer(web: Web) -> None:
    seeded = seed_case(web.engine, 1)
    client, token = _logged_in(web, "coord", seeded.reference)
    refused = client.post(
        f"/cases/{seeded.reference}/correct",
        data={"csrf": token, "field": "patient.postal_code", "value": "88400"},
    )
    assert refused.status_code == 409 and "déjà orienté" in refused.text
    assert _audit(web) == []
    viewer, vtoken = _logged_in(web, "viewer", seeded.reference)
    forged = viewer.post(f"/cases/{seeded.reference}/assign", data={"csrf": vtoken, "rpps": HUGO})
    assert forged.status_code == 403
    assert _outbound(web, "offer") == []
