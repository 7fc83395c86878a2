from __future__ import annotations

import email
import email.policy
import json
import random
import string
from datetime import UTC, datetime
from email.message import EmailMessage

from fhir.resources.R4B.task import Task

from gateway.replies.compose import (
    _PLAIN,
    _WIRE,
    OutboundAttachment,
    ReplyRenderer,
    _header,
    deterministic_message_id,
)
from gateway.replies.facts import ReplyFacts, ReplyIssue, ReplyKind

WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _renderer() -> ReplyRenderer:
    return ReplyRenderer(
        from_address="signalement@cpts.test", from_name="CPTS", limit_bytes=25_000_000
    )


def _facts(kind: ReplyKind = ReplyKind.ACK, issues: list[ReplyIssue] | None = None) -> ReplyFacts:
    return ReplyFacts(
        kind=kind,
        reference="AIG-2026-000042",
        programme="signalement",
        task_status="received",
        business_status="recu",
        business_status_fr="Reçu",
        issues=issues or [],
        received_at=WHEN,
    )


def _compose(facts: ReplyFacts) -> EmailMessage:
    reply = _renderer().compose(
        facts,
        to_addr="dr.a@medecin.test",
        cause_key="inbound:7:ack",
        original_subject="Signalement DURAND",
        in_reply_to="<orig@medecin.test>",
        references=["<root@medecin.test>"],
        date=WHEN,
    )
    msg = email.message_from_bytes(reply.raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_ack_has_threading_headers_tag_and_loop_marker() -> None:
    msg = _compose(_facts())
    assert msg["Subject"].startswith("[AIG-2026-000042] Accusé de réception")
    assert msg["In-Reply-To"] == "<orig@medecin.test>"
    assert msg["References"] == "<root@medecin.test> <orig@medecin.test>"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["Message-ID"] == deterministic_message_id("inbound:7:ack", "cpts.test")
    body = msg.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "AIG-2026-000042" in text and "01/03/2026 à 10:30" in text  # Paris time


def test_task_attachment_is_valid_fhir_with_identifier() -> None:
    msg = _compose(_facts())
    parts = [p for p in msg.iter_attachments() if p.get_filename() == "aiguilleur-task.json"]
    assert len(parts) == 1 and parts[0].get_content_type() == "application/fhir+json"
    data = json.loads(parts[0].get_content())
    task = Task.model_validate(data)
    assert task.identifier is not None
    assert task.identifier[0].value == "AIG-2026-000042"
    assert task.status == "received"
    assert "contained" not in data


def test_incomplete_lists_each_issue_in_text_and_operation_outcome() -> None:
    issues = [
        ReplyIssue(
            code="patient.birth_date.missing",
            diagnostics_fr="La date de naissance du patient manque.",
            fhir_code="required",
        ),
        ReplyIssue(
            code="patient.ins.invalid_key",
            diagnostics_fr="Le N° INS est invalide (clé).",
            fhir_code="invalid",
        ),
    ]
    msg = _compose(_facts(ReplyKind.INCOMPLETE, issues))
    body = msg.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    for issue in issues:
        assert issue.diagnostics_fr in text
    part = next(p for p in msg.iter_attachments() if p.get_filename() == "aiguilleur-task.json")
    data = json.loads(part.get_content())
    outcome = data["contained"][0]
    assert outcome["resourceType"] == "OperationOutcome"
    assert [i["details"]["coding"][0]["code"] for i in outcome["issue"]] == [
        "patient.birth_date.missing",
        "patient.ins.invalid_key",
    ]


def test_message_id_is_deterministic_per_cause() -> None:
    a = deterministic_message_id("inbound:1:ack", "x.fr")
    assert a == deterministic_message_id("inbound:1:ack", "x.fr")
    assert a != deterministic_message_id("inbound:2:ack", "x.fr")


def test_non_ascii_names_and_relayed_files_survive_the_wire() -> None:
    renderer = ReplyRenderer(
        from_address="signalement@cpts.test", from_name="CPTS Épinal", limit_bytes=25_000_000
    )
    reply = renderer.compose(
        _facts(ReplyKind.AVIS),
        to_addr="dr.a@medecin.test",
        cause_key="offer:3:avis",
        original_subject="Demande de télé-expertise " + "dermatologie " * 12,
        in_reply_to=None,
        references=[],
        date=WHEN,
        attachments=[
            OutboundAttachment("compte-rendu é.pdf", "application/pdf", b"%PDF-1.4\x00\xff"),
            OutboundAttachment("demande.eml", "message/rfc822", b"From: a\r\n\r\nbody\r\n"),
        ],
    )
    assert reply.raw.isascii() and b"\r\n" in reply.raw  # 7-bit, CRLF, as SMTP wants
    assert all(len(line) <= 998 for line in reply.raw.split(b"\r\n"))
    msg = email.message_from_bytes(reply.raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage) and not msg.defects
    assert msg["From"].addresses[0].display_name == "CPTS Épinal"
    assert msg["Subject"] == reply.subject and "télé-expertise" in msg["Subject"]
    files = {p.get_filename(): p for p in msg.iter_attachments()}
    assert files["compte-rendu é.pdf"].get_content() == b"%PDF-1.4\x00\xff"
    assert files["demande.eml"].get_content_type() == "message/rfc822"
    assert files["demande.eml"].get_content().as_bytes() == b"From: a\n\nbody\n"
    body = msg.get_body(("plain",))
    assert body is not None and "AIG-2026-000042" in body.get_content()


def test_doctor_mail_without_files_is_a_single_text_part() -> None:
    msg = _compose(_facts(ReplyKind.OFFER))
    assert not msg.is_multipart() and msg.get_content_type() == "text/plain"
    assert msg["Auto-Submitted"] == "auto-generated"


def test_the_plain_header_shortcut_folds_exactly_as_compat32() -> None:
    """Short plain headers skip email.header; every other value still goes through it."""
    reference = email.policy.compat32.clone(linesep="\r\n")
    rng = random.Random(7)
    alphabet = string.printable[:95] + "  \t\u00e9"
    shortcut = 0
    for _ in range(20_000):
        name = rng.choice(["Subject", "To", "References", "X-Aiguilleur-Reference"])
        value = "".join(rng.choice(alphabet) for _ in range(rng.choice([8, 40, 66, 70, 90])))
        shortcut += bool(_PLAIN.fullmatch(value)) and len(name) + 2 + len(value) <= 78
        assert _WIRE.fold(name, value) == reference.fold(name, value), (name, value)
    assert shortcut > 1_000  # the shortcut itself was exercised
    # A long References chain still folds.
    chain = " ".join(f"<id{i}@medecin.test>" for i in range(11))
    assert _WIRE.fold("References", chain) == reference.fold("References", chain)
    assert "\r\n " in _WIRE.fold("References", chain)


def test_a_non_ascii_subject_is_written_as_short_encoded_words_that_read_back_whole() -> None:
    """Any text, cut between whole UTF-8 characters: each word at most 75 characters
    (RFC 2047), each line at most 78, and the subject read back exactly as written."""
    rng = random.Random(11)
    alphabet = string.ascii_letters + " -:[]éèàçœ€—’🩺"
    for length in [1, 5, 30, 41, 42, 43, 120, 400, *(rng.randrange(1, 300) for _ in range(300))]:
        text = "é" + "".join(rng.choice(alphabet) for _ in range(length))
        folded = _WIRE.fold("Subject", _header(text))
        lines = folded.split("\r\n")
        assert lines[-1] == "" and all(len(line) <= 78 for line in lines)
        words = folded.removeprefix("Subject: ").split()
        assert all(len(w) <= 75 and w.startswith("=?utf-8?b?") for w in words)
        parsed = email.message_from_bytes(
            (folded + "\r\n").encode("ascii"), policy=email.policy.default
        )
        assert parsed["Subject"] == text
    assert _header("Accuse de reception") == "Accuse de reception"  # ASCII stays as it is
