"""The composition root: builds every component from the configuration and runs them.

One ``TaskGroup`` holds one task per mailbox, the pipeline workers and the outbox sender.
Shutdown stops ingest first, lets the pipeline finish what it claimed, then lets the outbox
deliver what is due, so a SIGTERM loses nothing and leaves nothing half-done.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import structlog
from sqlalchemy import Engine

from gateway.cases.services import RoutingServices
from gateway.cases.timers import Timers
from gateway.config import Config, transport_warnings
from gateway.heap import limit_malloc_arenas
from gateway.ingest.leases import MailboxLeases
from gateway.ingest.maildir_source import MaildirSource
from gateway.ingest.readers import Readers, Source
from gateway.ingest.store import RawStore
from gateway.metrics import Metrics
from gateway.outbox import Outbox, Transport, build_transport
from gateway.outbox.journal import SentJournal
from gateway.pipeline.parse_pool import ParsePool
from gateway.pipeline.worker import Pipeline
from gateway.replies.compose import ReplyRenderer
from gateway.storage import repo
from gateway.storage.db import is_postgres, make_engine
from gateway.storage.instance_lock import InstanceLock, sqlite_path
from gateway.tls import size_tls_read_buffers
from parsers import ParsedMessage, ParseLimits
from parsers.request import RequestKind

__all__ = ["Components", "build_components", "run_daemon"]

log = structlog.get_logger("aiguilleur.app")


@dataclass
class Components:
    config: Config
    engine: Engine
    pool: ParsePool
    pipeline: Pipeline
    outbox: Outbox
    store: RawStore
    services: RoutingServices
    timers: Timers
    metrics: Metrics
    sources: list[Source] = field(default_factory=list)

    def close(self) -> None:
        self.pool.close()
        self.outbox.close()
        self.engine.dispose()


def parse_limits(config: Config) -> ParseLimits:
    return ParseLimits(
        max_message_bytes=config.limits.max_message_bytes,
        max_attachments=config.limits.max_attachments,
    )


def make_parse_fn(
    pool: ParsePool, limits: ParseLimits, timeout: float
) -> Callable[[bytes, RequestKind | None], Awaitable[ParsedMessage]]:
    async def parse(raw: bytes, default_kind: RequestKind | None) -> ParsedMessage:
        return await pool.parse(raw, limits=limits, default_kind=default_kind, timeout=timeout)

    return parse


def build_components(config: Config, *, transport: Transport | None = None) -> Components:
    engine = make_engine(config.database.url, echo=config.database.echo)
    with repo.session_for(engine) as session:
        repo.release_own_leases(session, config.instance)
        session.commit()
    renderer = ReplyRenderer(
        from_address=config.smtp.from_address,
        from_name=config.smtp.from_name,
        limit_bytes=config.limits.max_message_bytes,
    )
    metrics = Metrics()  # one per daemon: the pipeline and outbox feed it, /metrics reads it
    # Extra connections for SMTP only (a given transport, in tests, or a Maildir is one lane).
    lanes = config.smtp.connections if transport is None and config.smtp.transport == "smtp" else 1
    database = sqlite_path(config.database.url)
    outbox = Outbox(
        config=config.smtp,
        engine=engine,
        transport=transport or build_transport(config.smtp),
        owner=config.instance,
        metrics=metrics,
        extra_transports=[build_transport(config.smtp) for _ in range(lanes - 1)],
        journal=SentJournal(database.with_name(database.name + ".sent")) if database else None,
        loops=metrics.loops,
    )
    pool = ParsePool(
        max_workers=config.pipeline.parse_processes, memory_mb=config.pipeline.parse_memory_mb
    )
    metrics.watch_parse_workers(pool)
    services = RoutingServices.load(config, metrics.loops)
    pipeline = Pipeline(
        config=config,
        engine=engine,
        parse=make_parse_fn(pool, parse_limits(config), config.pipeline.parse_timeout),
        renderer=renderer,
        services=services,
        owner=config.instance,
        outbox_wakeup=outbox.wakeup,
        metrics=metrics,
        loops=metrics.loops,
    )
    timers = Timers(
        engine=engine,
        services=services,
        renderer=renderer,
        outbox_wakeup=outbox.wakeup,
        loops=metrics.loops,
    )
    store = RawStore(engine, on_stored=pipeline.wakeup.set)
    sources: list[Source] = []
    for mailbox in config.mailboxes:
        if mailbox.kind == "maildir":
            sources.append(MaildirSource(mailbox, store))
        else:
            from gateway.ingest.imap_source import ImapSource

            sources.append(ImapSource(mailbox, store))
    return Components(
        config, engine, pool, pipeline, outbox, store, services, timers, metrics, sources
    )


async def run_daemon(config: Config, *, stop: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for warning in transport_warnings(config):  # keys and hosts only, never a secret
        log.warning("config_warning", warning=warning)
    # Database work runs in threads, several of which may wait for the SQLite writer at once
    # (ingest, claims, sent marks, the decide batch): the default pool (cores + 4) would queue
    # the outbox's claim behind them.
    limit_malloc_arenas()  # before those threads first allocate
    loop.set_default_executor(ThreadPoolExecutor(max_workers=32, thread_name_prefix="db"))
    size_tls_read_buffers()  # one buffer per watched mailbox's connection

    database = sqlite_path(config.database.url)
    lock = InstanceLock(database) if database is not None else None
    if lock is not None:
        lock.acquire()  # before any mailbox is opened: a second daemon reads nothing
    try:
        await _run(config, stop, loop)
    finally:
        if lock is not None:
            lock.release()


async def _run(config: Config, stop: asyncio.Event, loop: asyncio.AbstractEventLoop) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    components = build_components(config)
    ingest_stop, pipeline_stop, outbox_stop = asyncio.Event(), asyncio.Event(), asyncio.Event()
    names = [mailbox.name for mailbox in config.mailboxes]
    leases = (
        MailboxLeases(
            components.engine,
            config.instance,
            names,
            lease_seconds=config.replicas.lease_seconds,
        )
        if is_postgres(components.engine)
        else None  # SQLite: this daemon is the only one (InstanceLock)
    )
    readers = Readers(
        dict(zip(names, components.sources, strict=True)),
        leases,
        renew_seconds=config.replicas.renew_seconds,
        loops=components.metrics.loops,
    )
    try:
        await readers.start()
    except BaseException:
        components.close()
        raise
    log.info("daemon_started", mailboxes=len(config.mailboxes), instance=config.instance)
    try:
        async with asyncio.TaskGroup() as group:
            readers_task = group.create_task(readers.run(ingest_stop), name="readers")
            pipeline_task = group.create_task(components.pipeline.run(pipeline_stop))
            outbox_task = group.create_task(components.outbox.run(outbox_stop))
            timers_task = group.create_task(components.timers.run(pipeline_stop))
            if config.web.enabled:  # stops last, so /readyz answers while the daemon drains
                from gateway.web.server import serve

                group.create_task(
                    serve(
                        config,
                        components.engine,
                        outbox_stop,
                        components.metrics,
                        components.services,
                    ),
                    name="web",
                )
            await stop.wait()
            log.info("daemon_draining")
            ingest_stop.set()
            await readers_task
            pipeline_stop.set()
            await pipeline_task
            await timers_task
            outbox_stop.set()
            await outbox_task
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        components.close()
        log.info("daemon_stopped")
