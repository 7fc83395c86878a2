"""A Pipeline on a test database, parsing in a thread (no worker processes), as the
pipeline, bounce and receipt tests build it; and a mail stored for it to drain."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import Engine

from gateway.config import Config
from gateway.pipeline.worker import Pipeline
from gateway.replies.compose import ReplyRenderer
from gateway.storage import repo
from gateway.storage.repo import IncomingRaw
from parsers import ParsedMessage, parse_message
from parsers.request import RequestKind
from tests.support.routing import demo_services

ParseFn = Callable[[bytes, RequestKind | None], Awaitable[ParsedMessage]]


async def parse_in_thread(raw: bytes, kind: RequestKind | None) -> ParsedMessage:
    return await asyncio.to_thread(parse_message, raw, default_kind=kind)


def renderer_for(config: Config) -> ReplyRenderer:
    return ReplyRenderer(
        from_address=config.smtp.from_address,
        from_name="CPTS",
        limit_bytes=config.limits.max_message_bytes,
    )


def pipeline_for(
    engine: Engine, config: Config, parse: ParseFn = parse_in_thread, **extra: Any
) -> Pipeline:
    """``extra``: the Pipeline's optional dependencies (metrics, loops, clock…)."""
    return Pipeline(
        config=config,
        engine=engine,
        parse=parse,
        renderer=renderer_for(config),
        services=demo_services(config),
        owner="t",
        **extra,
    )


def store_inbound(engine: Engine, raw: bytes, key: str) -> int:
    """``raw`` stored as fetched from the "sig" mailbox under ``key``: its inbound id."""
    with repo.session_for(engine) as s:
        ids = repo.store_inbound_batch(s, [IncomingRaw("sig", raw, source_key=key)])
        s.commit()
    return ids[0]
