"""The kinds of case event: what a case's timeline records.

Every kind written anywhere (``repo.add_event``, and the web UI's audited actions that
concern a case) is listed here; its French label is ``event.<kind>`` in
``gateway/wording/events.toml``. A test checks both, so a new kind cannot ship unlabelled.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["CaseEventKind"]


class CaseEventKind(StrEnum):
    # Intake and decision (gateway.cases.intake, gateway.cases.flow).
    CASE_OPENED = "case_opened"
    MESSAGE_RECEIVED = "message_received"
    RULES_EVALUATED = "rules_evaluated"
    SENDER_UNVERIFIED = "sender_unverified"
    FOLLOW_UP_RECEIVED = "follow_up_received"
    MEDECIN_TRAITANT_NOTIFIED = "medecin_traitant_notified"
    MEDECIN_TRAITANT_UNKNOWN = "medecin_traitant_unknown"
    REFERRED_TO_DAC = "referred_to_dac"
    ESCALATED = "escalated"
    # Offers and the doctors' answers (gateway.cases.offers, answers; pipeline.dispatch).
    OFFER_SENT = "offer_sent"
    OFFER_ACCEPTED = "offer_accepted"
    OFFER_REFUSED = "offer_refused"  # f"offer_{OfferStatus.REFUSED}"
    OFFER_EXPIRED = "offer_expired"  # f"offer_{OfferStatus.EXPIRED}"
    OFFER_BOUNCED = "offer_bounced"  # f"offer_{OfferStatus.BOUNCED}"
    OFFER_REMINDED = "offer_reminded"
    ANSWER_AMBIGUOUS = "answer_ambiguous"
    AVIS_RELAYED = "avis_relayed"
    ACTS_RECORDED = "acts_recorded"
    DOCTOR_MESSAGE = "doctor_message"
    STATUS_REQUESTED = "status_requested"
    # A coordinator's routing actions (gateway.cases.actions).
    ASSIGNED = "assigned"
    CLOSED = "closed"
    FIELD_CORRECTED = "field_corrected"
    # Mails (gateway.outbox.queue, gateway.outbox.sender).
    REPLY_QUEUED = "reply_queued"
    REPLY_SUPPRESSED = "reply_suppressed"
    REPLY_SENT = "reply_sent"
    REPLY_FAILED = "reply_failed"
    REPLY_RETRY = "reply_retry"  # named by the sender, which does not record retries today
    # Delivery reports that came back for a mail (gateway.cases.bounces).
    REPLY_BOUNCED = "reply_bounced"
    REPLY_DELAYED = "reply_delayed"
    # The web UI's audited actions on a case (gateway.web.audit.record).
    NOTE_ADDED = "note_added"
    MESSAGE_RELEASED = "message_released"
    MESSAGE_DISCARDED = "message_discarded"
    REPLY_RESENT = "reply_resent"
    ATTACHMENT_DOWNLOADED = "attachment_downloaded"
