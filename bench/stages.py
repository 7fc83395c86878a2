"""The daemon's own stages without mail servers: CPU per request, statements and commits.

Run: ``uv run python -m bench.stages [--n 300] [--db sqlite|postgresql] [--profile [ORDER]]``.
The end-to-end bench (``bench.e2e``) measures the daemon against its mail servers on a
shared 2-core machine, where the servers take half the CPU and every figure moves with the
load; this one isolates what the daemon itself spends, in one process and one thread:

- **store**: the ingest transaction (raw bytes, dedupe keys), per request;
- **parse**: ``parse_message`` in process (the daemon runs it in its worker processes);
- **decide**: the pipeline's decide stage in batches of ``--batch``, as the daemon runs it:
  case, rule results, routing, every reply composed and queued;
- **outbox**: claiming and marking sent (on SQLite through the sent journal, as the daemon
  does), the SMTP transport replaced by one that only counts.

The requests are the e2e bench's (signalements with a DOCX form, télé-expertise mails with a
CDA or an IHE_XDM.ZIP), against the same roster. ``--profile`` prints the top of a cProfile
of the decide stage. Results go to ``bench/results/stages-<date>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import pstats
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from bench.e2e import Cast, database, machine, save_results
from bench.e2e_workload import Request, RequestFactory
from deploy.mailstack import MailUser
from gateway.cases.services import RoutingServices
from gateway.cli.demo_routing import write_routing_files
from gateway.config import Config, parse_config
from gateway.observability import configure_logging
from gateway.outbox import Outbox, SmtpEnvelope
from gateway.outbox.journal import SentJournal
from gateway.pipeline.worker import Pipeline, _Prepared
from gateway.replies.compose import ReplyRenderer
from gateway.storage import repo
from gateway.storage.db import make_engine
from gateway.storage.instance_lock import sqlite_path
from gateway.storage.repo import IncomingRaw
from parsers import ParsedMessage, parse_message
from parsers.request import RequestKind

FROM = "ne-pas-repondre@cpts.test"


@dataclass
class Counters:
    statements: int = 0
    commits: int = 0

    def watch(self, engine: Engine) -> None:
        def statement(*_: object) -> None:
            self.statements += 1

        def commit(*_: object) -> None:
            self.commits += 1

        event.listen(engine, "before_cursor_execute", statement)
        event.listen(engine, "commit", commit)


class CountingTransport:
    """Stands for the SMTP server: accepts every mail at once."""

    def __init__(self) -> None:
        self.sent = 0

    async def send(self, item: SmtpEnvelope) -> None:
        self.sent += 1

    async def close(self) -> None:
        return None


def _user(address: str) -> MailUser:
    return MailUser(login=address, password="-", address=address)


def _cast() -> Cast:
    return Cast(
        tag="stages",
        gateways=[_user("sig@cpts.test")],
        te=_user("te@cpts.test"),
        senders=[_user(f"dr{i:02d}@medecin.test") for i in range(10)],
        gps=[_user(f"gp{i}@medecin.test") for i in range(2)],
        derms=[_user(f"derm{i}@medecin.test") for i in range(2)],
    )


def _config(workdir: Path, url: str, cast: Cast) -> Config:
    programmes, roster = write_routing_files(workdir / "routing", cast.doctors)
    box = {"host": "127.0.0.1"}
    return parse_config(
        {
            "instance": "stages",
            "database": {"url": url},
            "mailboxes": [
                {"name": "sig", "address": "sig@cpts.test", "programme": "signalement", **box},
                {"name": "te", "address": "te@cpts.test", "programme": "tele_expertise", **box},
            ],
            "routing": {"programmes_path": str(programmes), "roster_path": str(roster)},
            "smtp": {"from_address": FROM},
            "replies": {"rate_limit_per_hour": 0},  # ten senders send hundreds
        },
        environ={},
    )


def _mailbox(request: Request) -> str:
    return "sig" if request.kind == "signalement" else "te"


@contextlib.contextmanager
def _timed(results: dict[str, Any], name: str, n: int, counters: Counters) -> Iterator[None]:
    statements, commits = counters.statements, counters.commits
    cpu, wall = time.process_time(), time.perf_counter()
    yield
    results[name] = {
        "cpu_ms_per_request": round(1000 * (time.process_time() - cpu) / n, 3),
        "wall_ms_per_request": round(1000 * (time.perf_counter() - wall) / n, 3),
        "statements_per_request": round((counters.statements - statements) / n, 2),
        "commits_per_request": round((counters.commits - commits) / n, 3),
    }


def run(
    n: int, kind: str, batch: int, profile: str | None, workload: str | None = None
) -> dict[str, Any]:
    cast = _cast()
    requests = cast.requests(RequestFactory(), n, kind=workload)
    results: dict[str, Any] = {
        "bench": "stages",
        "date": date.today().isoformat(),
        "machine": machine(),
        "database": kind,
        "workload": workload or "mix",
        "requests": n,
        "decide_batch": batch,
    }
    with tempfile.TemporaryDirectory(prefix="aig-bench-stages-") as tmp:
        workdir = Path(tmp)
        with database(kind, workdir) as url:
            config = _config(workdir, url, cast)
            engine = make_engine(url)
            counters = Counters()
            counters.watch(engine)
            try:
                results.update(_stages(config, engine, counters, requests, batch, profile))
            finally:
                engine.dispose()
    return results


def _stages(
    config: Config,
    engine: Engine,
    counters: Counters,
    requests: Sequence[Request],
    batch: int,
    profile: str | None,  # a pstats sort order, or None: no profile
) -> dict[str, Any]:
    n = len(requests)
    out: dict[str, Any] = {}
    boxes = {m.name: m for m in config.mailboxes}
    with _timed(out, "store", n, counters), repo.session_for(engine) as session:
        ids: list[int] = []
        for start in range(0, n, 50):  # the IMAP source's fetch batch
            chunk = requests[start : start + 50]
            items = [
                IncomingRaw(_mailbox(r), r.raw, source_key=str(start + i))
                for i, r in enumerate(chunk)
            ]
            ids.extend(repo.store_inbound_batch(session, items))
            session.commit()
    parsed: list[ParsedMessage] = []
    # The workers' first parse loads the NLP pipeline: done before timing, as a worker would.
    parse_message(requests[0].raw, default_kind=RequestKind(boxes[_mailbox(requests[0])].programme))
    parse_profiler = cProfile.Profile() if profile else None
    with _timed(out, "parse", n, counters):
        if parse_profiler is not None:
            parse_profiler.enable()
        for request in requests:
            programme = boxes[_mailbox(request)].programme
            parsed.append(parse_message(request.raw, default_kind=RequestKind(programme)))
        if parse_profiler is not None:
            parse_profiler.disable()
    renderer = ReplyRenderer(
        from_address=FROM, from_name="CPTS bench", limit_bytes=config.limits.max_message_bytes
    )

    async def no_parse(raw: bytes, kind: RequestKind | None) -> ParsedMessage:
        raise AssertionError("parsed above")

    pipeline = Pipeline(
        config=config,
        engine=engine,
        parse=no_parse,
        renderer=renderer,
        services=RoutingServices.load(config),
        owner="stages",
    )
    prepared = [
        _Prepared(i, boxes[_mailbox(r)], parsed=p)
        for i, r, p in zip(ids, requests, parsed, strict=True)
    ]
    profiler = cProfile.Profile() if profile else None
    with _timed(out, "decide", n, counters):
        if profiler is not None:
            profiler.enable()
        for start in range(0, n, batch):
            for outcome in pipeline._decide_batch(prepared[start : start + batch]):
                if isinstance(outcome, Exception) or outcome.status != "processed":
                    raise RuntimeError(f"not processed: {outcome!r}")
        if profiler is not None:
            profiler.disable()
    transport = CountingTransport()
    # As the daemon has it (gateway/app.py): on SQLite each 250 is recorded in the sent journal,
    # and the database learns it in folds.
    database = sqlite_path(config.database.url)
    journal = SentJournal(database.with_name(database.name + ".sent")) if database else None
    outbox = Outbox(
        config=config.smtp, engine=engine, transport=transport, owner="stages", journal=journal
    )
    with _timed(out, "outbox", n, counters):
        asyncio.run(outbox.deliver_due())
    outbox.close()
    out["mails_per_request"] = round(transport.sent / n, 2)
    out["total_cpu_ms_per_request"] = round(
        sum(out[s]["cpu_ms_per_request"] for s in ("store", "parse", "decide", "outbox")), 3
    )
    for name, prof in (("parse", parse_profiler), ("decide", profiler)):
        if prof is not None:
            text = io.StringIO()
            pstats.Stats(prof, stream=text).sort_stats(profile or "cumulative").print_stats(40)
            print(f"--- {name} ---\n{text.getvalue()}")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The daemon's stages, without mail servers.")
    parser.add_argument("--n", type=int, default=300, help="requests")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--batch", type=int, default=16, help="messages per decide transaction")
    parser.add_argument(
        "--workload", choices=("mix", "ack_only"), default="mix", help="bench.e2e's workloads"
    )
    parser.add_argument(
        "--profile",
        nargs="?",
        const="cumulative",
        default=None,
        metavar="ORDER",
        help="cProfile parse and decide, sorted by ORDER (cumulative, tottime)",
    )
    parser.add_argument("--output", type=Path, default=None, help="results file")
    args = parser.parse_args(argv)
    workload = None if args.workload == "mix" else args.workload
    results = run(args.n, args.db, args.batch, args.profile, workload)
    suffix = "" if workload is None else f"-{workload}"
    out = save_results(results, args.output, f"stages-{results['date']}-{args.db}{suffix}.json")
    for stage in ("store", "parse", "decide", "outbox"):
        row = results[stage]
        print(
            f"{stage:7s} {row['cpu_ms_per_request']:7.2f} ms CPU/request  "
            f"{row['statements_per_request']:5.1f} statements  "
            f"{row['commits_per_request']:.3f} commits"
        )
    print(
        f"total   {results['total_cpu_ms_per_request']:7.2f} ms CPU/request, "
        f"{results['mails_per_request']} mails/request; results: {out}"
    )
    return 0


if __name__ == "__main__":
    # Only as a script: loggers cache their configuration on first use, so configuring here
    # inside another process (a test run) would silence that process's own logs for good.
    configure_logging("warning", "json", stream=io.StringIO())
    sys.exit(main())
