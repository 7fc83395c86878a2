"""Coordinator actions: each changes state, and lands in the case timeline and the audit log."""

from __future__ import annotations

import html
import json

import pytest
from sqlmodel import Session, select

from gateway.cases.actions import MAX_NOTE_LENGTH
from gateway.outbox.queue import NotFailedError, resend
from gateway.pipeline.quarantine import NotQuarantinedError, discard, release
from gateway.storage import repo
from gateway.storage.events import CaseEventKind
from gateway.storage.models import CaseEvent, InboundMessage, OutboundMessage, utcnow
from gateway.storage.web_models import AuditEntry, CaseNote
from gateway.wording import label
from tests.gateway.web.conftest import Web
from tests.support.mail_rows import raw_of
from tests.support.web import csrf_of, login, seed_case


def _audit(web: Web) -> list[AuditEntry]:
    with Session(web.engine) as db:
        return [a for a in db.exec(select(AuditEntry)).all() if a.action not in ("login",)]


def _events(web: Web, case_id: int) -> list[CaseEvent]:
    with Session(web.engine) as db:
        return list(db.exec(select(CaseEvent).where(CaseEvent.case_id == case_id)).all())


def test_note_is_shown_audited_and_in_the_timeline(web: Web) -> None:
    seeded = seed_case(web.engine, 1)
    client = web.client()
    login(client, "coord")
    page = client.get(f"/cases/{seeded.reference}")
    response = client.post(
        f"/cases/{seeded.reference}/notes",
        data={"csrf": csrf_of(page.text), "text": "Rappeler le Dr House lundi"},
    )
    assert response.status_code == 200 and "Rappeler le Dr House lundi" in response.text
    with Session(web.engine) as db:
        (note,) = db.exec(select(CaseNote)).all()
    assert note.author == "coord" and note.case_id == seeded.case_id
    (entry,) = _audit(web)
    assert (entry.actor, entry.action, entry.case_id) == ("coord", "note_added", seeded.case_id)
    assert "Rappeler" not in entry.detail_json  # the audit log keeps no free text
    assert _events(web, seeded.case_id)[-1].kind == "note_added"


def test_release_puts_a_quarantined_message_back_in_the_pipeline(web: Web) -> None:
    seeded = seed_case(web.engine, 1, quarantined=True)
    client = web.client()
    login(client, "coord")
    token = csrf_of(client.get("/quarantine").text)
    response = client.post(f"/messages/{seeded.inbound_id}/release", data={"csrf": token})
    assert response.status_code == 200
    with Session(web.engine) as db:
        message = db.get(InboundMessage, seeded.inbound_id)
    assert message is not None and message.status == "received" and message.attempts == 0
    (entry,) = _audit(web)
    assert entry.action == "message_released" and entry.target == f"inbound:{seeded.inbound_id}"
    assert json.loads(entry.detail_json)["previous_error"].startswith("RuntimeError")
    event = _events(web, seeded.case_id)[-1]
    assert event.kind == "message_released" and event.actor == "coord"
    # Released once: it is no longer quarantined, so a second release is refused.
    again = client.post(f"/messages/{seeded.inbound_id}/release", data={"csrf": token})
    assert again.status_code == 409


def test_discard_keeps_the_message_but_takes_it_out_of_quarantine(web: Web) -> None:
    seeded = seed_case(web.engine, 1, quarantined=True)
    client = web.client()
    login(client, "coord")
    token = csrf_of(client.get("/quarantine").text)
    client.post(f"/messages/{seeded.inbound_id}/discard", data={"csrf": token, "reason": "spam"})
    with Session(web.engine) as db:
        message = db.get(InboundMessage, seeded.inbound_id)
        kept = raw_of(db, message) if message is not None else b""
    assert message is not None and message.status == "ignored" and kept
    assert message.error == "discarded by coord: spam"
    assert [a.action for a in _audit(web)] == ["message_discarded"]
    assert "Aucun message en quarantaine" in client.get("/quarantine").text


def test_resend_puts_a_failed_reply_back_to_pending(web: Web) -> None:
    seeded = seed_case(web.engine, 1)
    client = web.client()
    login(client, "coord")
    page = client.get(f"/cases/{seeded.reference}")
    assert f"/outbound/{seeded.outbound_failed_id}/resend" in page.text
    client.post(f"/outbound/{seeded.outbound_failed_id}/resend", data={"csrf": csrf_of(page.text)})
    with Session(web.engine) as db:
        out = db.get(OutboundMessage, seeded.outbound_failed_id)
    assert out is not None and out.status == "pending" and out.attempts == 0
    assert [a.action for a in _audit(web)] == ["reply_resent"]
    assert _events(web, seeded.case_id)[-1].kind == "reply_resent"


def test_attachment_download_is_audited(web: Web) -> None:
    seeded = seed_case(web.engine, 1)
    client = web.client()
    login(client, "coord")
    response = client.get(f"/messages/{seeded.inbound_id}/attachments/0")
    assert response.status_code == 200 and response.content == b"%PDF-1.4 fiche"
    assert 'filename="fiche.pdf"' in response.headers["content-disposition"]
    assert client.get(f"/messages/{seeded.inbound_id}/attachments/5").status_code == 404
    assert [a.action for a in _audit(web)] == ["attachment_downloaded"]


def test_case_page_shows_provenance_conflicts_rules_offers_and_delivery(web: Web) -> None:
    seeded = seed_case(web.engine, 1)
    client = web.client()
    login(client, "viewer")
    page = client.get(f"/cases/{seeded.reference}").text
    assert "Informations contradictoires" in page and "1948-03-21" in page
    assert 'class="conflict"' in page and "fiche.pdf (pdf, nom)" in page
    assert "Le médecin traitant n&#39;est pas précisé." in page
    assert "claire.martin@medecin.test" in page
    assert "550 mailbox unavailable" in page and "échec" in page
    assert "Dossier ouvert" in page


def test_note_outside_the_length_limits_is_refused(web: Web) -> None:
    seeded = seed_case(web.engine, 1)
    client = web.client()
    login(client, "coord")
    token = csrf_of(client.get(f"/cases/{seeded.reference}").text)
    url = f"/cases/{seeded.reference}/notes"
    for text in ("   ", "x" * (MAX_NOTE_LENGTH + 1)):
        response = client.post(url, data={"csrf": token, "text": text})
        assert response.status_code == 400 and "entre 1 et 5000 caractères" in response.text
    assert client.post("/cases/AIG-2026-999999/notes", data={"csrf": token}).status_code == 404
    with Session(web.engine) as db:
        assert db.exec(select(CaseNote)).all() == []
    assert _audit(web) == []


def test_release_discard_and_resend_are_plain_functions(web: Web) -> None:
    seeded = seed_case(web.engine, 1, quarantined=True)
    other = seed_case(web.engine, 2, quarantined=True)
    now = utcnow()
    with Session(web.engine) as db:
        released = release(db, seeded.inbound_id, now=now)
        assert (released.status, released.attempts, released.lease_owner) == ("received", 0, None)
        assert released.error == "RuntimeError: parser exploded"  # why it was kept, still
        with pytest.raises(NotQuarantinedError):
            release(db, seeded.inbound_id, now=now)
        with pytest.raises(NotQuarantinedError):
            discard(db, 999_999, by="coord", reason="", now=now)
        discarded = discard(db, other.inbound_id, by="coord", reason="", now=now)
        assert (discarded.status, discarded.error) == ("ignored", "discarded by coord")
        out = resend(db, seeded.outbound_failed_id, now=now)
        assert (out.status, out.attempts, out.last_error) == (
            "pending",
            0,
            "550 mailbox unavailable",
        )
        with pytest.raises(NotFailedError):
            resend(db, seeded.outbound_failed_id, now=now)
        db.commit()
    # None of them writes the audit log or the timeline: the web handler does.
    assert _audit(web) == []
    assert [e.kind for e in _events(web, seeded.case_id)] == ["case_opened"]


def test_the_timeline_labels_every_event_in_french(web: Web) -> None:
    seeded = seed_case(web.engine, 1)
    with Session(web.engine) as db:
        for kind in CaseEventKind:
            repo.add_event(db, seeded.case_id, kind, {})
        db.commit()
    client = web.client()
    login(client, "viewer")
    page = html.unescape(client.get(f"/cases/{seeded.reference}").text)
    for kind in CaseEventKind:
        assert f"<strong>{label('event', kind)}</strong>" in page, kind
        assert f"<strong>{kind.value}</strong>" not in page
