"""`aiguilleur process FILE.eml`: one message through the pipeline, or a dry run."""

from __future__ import annotations

import hashlib
from typing import Any

from gateway.app import build_components
from gateway.cases.services import RoutingServices
from gateway.config import Config
from gateway.pipeline.parse_budget import parse_within
from gateway.pipeline.parse_pool import failed_parse
from gateway.storage import repo
from gateway.storage.db import upgrade
from gateway.storage.models import Case, InboundMessage, OutboundMessage
from gateway.storage.repo import IncomingRaw
from parsers import parse_message
from parsers.loop_guard import no_reply_reason
from parsers.request import RequestKind

__all__ = ["ProcessError", "process_file"]


class ProcessError(Exception):
    """The message cannot go through: the command prints ``error: …`` and exits 2."""


async def process_file(
    config: Config, raw: bytes, *, mailbox: str | None, dry_run: bool
) -> dict[str, Any]:
    box = (
        config.mailbox(mailbox) if mailbox else (config.mailboxes[0] if config.mailboxes else None)
    )
    if mailbox and box is None:
        known = ", ".join(m.name for m in config.mailboxes) or "none"
        raise ProcessError(f"unknown mailbox {mailbox!r} (configured: {known})")
    if dry_run:
        programmes = RoutingServices.load(config).programmes
        spec = programmes.get(box.programme) if box else None
        kind = RequestKind(spec.kind) if spec else None
        parsed = parse_within(  # the daemon's budgets: a hostile file must not hang this
            lambda: parse_message(raw, default_kind=kind),
            lambda code: failed_parse(raw, None, code),
            seconds=config.pipeline.parse_timeout,
            memory_mb=config.pipeline.parse_memory_mb,
        )
        return {
            "programme": box.programme if box else None,
            "no_reply_reason": no_reply_reason(parsed.envelope, config.own_addresses()),
            "report_kind": parsed.report_kind,
            "request": parsed.request.model_dump(mode="json"),
        }
    if box is None:
        raise ProcessError("no mailbox configured")
    upgrade(config.database.url)
    components = build_components(config)
    try:
        key = "cli:" + hashlib.sha256(raw).hexdigest()[:32]
        await components.store.commit(
            [IncomingRaw(box.name, raw, source_key=key)], mailbox=box.name
        )
        await components.pipeline.drain()
        sent = await components.outbox.deliver_due()
        with repo.session_for(components.engine) as session:
            from sqlmodel import select

            row = session.exec(
                select(InboundMessage).where(
                    InboundMessage.mailbox == box.name, InboundMessage.source_key == key
                )
            ).one()
            case = session.get(Case, row.case_id) if row.case_id else None
            replies = session.exec(
                select(OutboundMessage).where(OutboundMessage.inbound_id == row.id)
            ).all()
            return {
                "inbound_id": row.id,
                "status": row.status,
                "error": row.error,
                "case": case.reference if case else None,
                "case_status": case.status if case else None,
                "replies": [
                    {"kind": r.kind, "status": r.status, "to": r.recipient} for r in replies
                ],
                "delivered_now": sent,
            }
    finally:
        components.close()
