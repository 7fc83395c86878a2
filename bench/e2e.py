"""End-to-end bench (issue 6): the daemon against the raw speed of its own mail servers.

Run: ``uv run python -m bench.e2e [--quick] [--n N] [--db sqlite|postgresql|both]
[--skip-scale] [--profile]``. It starts the dev mail stack (Dovecot + Postfix) in a temporary
directory, generates realistic requests (signalements with a DOCX form, télé-expertise mails
with a CDA or an IHE_XDM.ZIP) and submits them through Postfix. It measures:

- the raw loop (one thread, imaplib + smtplib, SEARCH UNSEEN, FETCH (RFC822) each, one
  reply per message on one persistent SMTP connection, STORE +FLAGS \\Seen);
- `aiguilleur run` on SQLite and on PostgreSQL: first submission → last acknowledgement
  delivered in the senders' Maildirs, the ratio to the raw loop, duplicate replies,
  CPU seconds per 1,000 requests and peak RSS of the daemon and its parse workers;
- latency SMTP 250 → acknowledgement delivered, at a steady 2 requests/s with IDLE;
- scale: a backlog waiting before start (drain time, peak RSS) and many IDLE mailboxes on
  one daemon (idle RSS and CPU, ack latency on random mailboxes).

Results go to ``bench/results/e2e-<date>[-quick].json``; a short table is printed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from bench.e2e_procs import (
    DaemonRun,
    ResourceSampler,
    machine_busy_seconds,
    percentile,
    raw_loop,
    tree_usage,
)
from bench.e2e_workload import MaildirWatcher, Request, RequestFactory, Submitter, count_files
from deploy.mailstack import MailStack, MailStackError, MailUser, check_prerequisites
from gateway.cli.demo_routing import DemoDoctor, write_routing_files

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PG_ADMIN = os.environ.get("AIGUILLEUR_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
MB = 2**20


@dataclass(frozen=True)
class Sizes:
    n: int  # requests per rate run
    latency_seconds: float
    latency_rate: float
    backlog: int
    mailboxes: int
    idle_seconds: float
    random_probes: int


FULL = Sizes(1000, 60.0, 2.0, 10_000, 200, 30.0, 20)
QUICK = Sizes(120, 8.0, 2.0, 200, 20, 5.0, 4)


class BenchStack(MailStack):
    """The dev stack with Dovecot's process limits raised: one IMAPS connection per watched
    mailbox holds an imap-login (TLS proxy) and an imap process, 2 x 200 for the scale case."""

    def _dovecot_conf(self, uid: int, gid: int) -> str:
        return (
            super()._dovecot_conf(uid, gid)
            + "default_process_limit = 1000\ndefault_client_limit = 10000\n"
        )


# ------------------------------------------------------------------------------ actors


@dataclass
class Cast:
    """The mailboxes of one phase: the gateway's, the senders', the doctors'."""

    tag: str
    gateways: list[MailUser]  # signalement mailboxes (one, or many in the scale case)
    te: MailUser
    senders: list[MailUser]
    gps: list[MailUser]
    derms: list[MailUser]

    @property
    def doctors(self) -> list[DemoDoctor]:
        roster = [
            DemoDoctor(f"1000000{i:04d}", f"Dr Généraliste {i}", gp.address, capacity=10**7)
            for i, gp in enumerate(self.gps)
        ]
        roster += _closed_doctors("1000001", "Dr Dermato", self.derms, "SM15", ("dermatologie",))
        # Senders are known professionals: télé-expertise requérants must be in the roster.
        roster += _closed_doctors("1000002", "Dr Requérant", self.senders)
        return roster

    def sender_folders(self, stack: MailStack) -> list[Path]:
        return [stack.maildir(s) for s in self.senders]

    def doctor_folders(self, stack: MailStack) -> list[Path]:
        return [stack.maildir(d) for d in (*self.gps, *self.derms)]

    def requests(self, factory: RequestFactory, n: int, kind: str | None = None) -> list[Request]:
        return factory.batch(
            n,
            [s.address for s in self.senders],
            self.gateways[0].address,
            self.te.address,
            kind=kind,
        )


def _closed_doctors(
    rpps_prefix: str,
    name: str,
    users: list[MailUser],
    speciality: str = "SM54",
    filieres: tuple[str, ...] = (),
) -> list[DemoDoctor]:
    """Roster entries for ``users`` that take no new patient and serve no commune."""
    return [
        DemoDoctor(
            f"{rpps_prefix}{i:04d}",
            f"{name} {i}",
            user.address,
            speciality,
            accepts_new_patients=False,
            capacity=0,
            communes=(),
            filieres=filieres,
        )
        for i, user in enumerate(users)
    ]


def new_cast(stack: MailStack, tag: str, *, gateways: int = 1, senders: int = 10) -> Cast:
    def user(local: str, domain: str) -> MailUser:
        return stack.add_user(f"{local}@{domain}", uuid.uuid4().hex)

    return Cast(
        tag=tag,
        gateways=[user(f"{tag}-sig{i:03d}", "cpts.test") for i in range(gateways)],
        te=user(f"{tag}-te", "cpts.test"),
        senders=[user(f"{tag}-dr{i:02d}", "medecin.test") for i in range(senders)],
        gps=[user(f"{tag}-gp{i}", "medecin.test") for i in range(2)],
        derms=[user(f"{tag}-derm{i}", "medecin.test") for i in range(2)],
    )


def spread(total: int, n: int) -> list[int]:
    """``n`` whole numbers, each 1 or more, summing to ``total`` as evenly as they can."""
    total = max(total, n)
    return [(total * (k + 1)) // n - (total * k) // n for k in range(n)]


def offers_expected(requests: Sequence[Request], derms: int) -> int:
    """Mail to doctors: one offer per signalement, the filière group per télé-expertise."""
    return sum(1 if r.kind == "signalement" else derms for r in requests)


# ------------------------------------------------------------------------------ daemon


def mailbox_toml(stack: MailStack, name: str, programme: str, user: MailUser) -> str:
    """A ``[[mailboxes]]`` table: ``user``'s IMAPS box on ``stack``, watched with IDLE."""
    return f"""
[[mailboxes]]
name = "{name}"
address = "{user.address}"
programme = "{programme}"
host = "{stack.host}"
port = {stack.imaps_port}
tls = "implicit"
ca_file = "{stack.ca_path}"
username = "{user.login}"
password = "{user.password}"
processed_folder = "Traites"
idle = true
"""


def write_config(workdir: Path, stack: MailStack, cast: Cast, db_url: str) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    programmes, roster = write_routing_files(workdir / "routing", cast.doctors)

    boxes = "".join(
        mailbox_toml(stack, f"sig{i:03d}", "signalement", u) for i, u in enumerate(cast.gateways)
    )
    boxes += mailbox_toml(stack, "te", "tele_expertise", cast.te)
    path = workdir / "aiguilleur.toml"
    # Product defaults everywhere (pipeline, outbox, fetch batch), except what a bench
    # needs: the reply rate limit per sender is off, since ten senders send thousands.
    path.write_text(
        f"""
instance = "bench-{cast.tag}"
[database]
url = "{db_url}"
{boxes}
[routing]
programmes_path = "{programmes}"
roster_path = "{roster}"
[smtp]
host = "{stack.host}"
port = {stack.smtp_port}
tls = "starttls"
ca_file = "{stack.ca_path}"
from_address = "ne-pas-repondre@cpts.test"
from_name = "CPTS bench"
[replies]
structure_name = "CPTS bench"
rate_limit_per_hour = 0
[logging]
level = "info"
""",
        encoding="utf-8",
    )
    return path


def _pg_admin() -> str:
    return PG_ADMIN


@contextlib.contextmanager
def database(
    kind: str,
    workdir: Path,
    *,
    admin: Callable[[], str] = _pg_admin,
    prefix: str = "aig_bench",
    migrate: Callable[[str], None] | None = None,
) -> Iterator[str]:
    """A migrated, empty database: a SQLite file, or a throwaway PostgreSQL database.

    ``admin`` is only called for PostgreSQL (the chaos bench may start a server for it).
    ``migrate`` brings it to the schema of the daemon that will run on it (by default,
    this tree's).
    """
    from gateway.storage.db import upgrade as this_trees

    upgrade = migrate or this_trees
    if kind == "sqlite":
        workdir.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{workdir / 'aiguilleur.db'}"
        upgrade(url)
        yield url
        return
    import psycopg
    from psycopg import sql

    admin_url = admin()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = admin_url.rpartition("/")[0] + "/" + name
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@dataclass
class Bench:
    stack: MailStack
    workdir: Path
    sizes: Sizes
    profile: bool = False
    factory: RequestFactory = field(default_factory=RequestFactory)
    notes: list[str] = field(default_factory=list)
    run_tag: str = ""  # added to the rate runs' mailbox names: one stack, several benches

    def submitter(self) -> Submitter:
        return Submitter(self.stack.host, self.stack.smtp_port)

    def migrate(self, url: str) -> None:
        """The schema of the daemon this bench runs (``bench.interleaved``: another tree's)."""
        from gateway.storage.db import upgrade

        upgrade(url)

    def daemon(self, name: str, config: Path, *, profile: bool = False) -> DaemonRun:
        profile_path = self.workdir / f"{name}.pyspy" if profile else None
        return DaemonRun(config, self.workdir / f"{name}.log", profile_path=profile_path)

    # -------------------------------------------------------------------- the raw loop

    def raw(self, *, plan: Sequence[int] = (), workload: str | None = None) -> dict[str, Any]:
        """The raw loop; with ``plan``, the equal-work one (``plan[k]`` mails for message k)."""
        n = self.sizes.n
        cast = new_cast(self.stack, "raw")
        # The same mix, all to the one mailbox the raw loop reads.
        box = cast.gateways[0].address
        requests = self.factory.batch(n, [s.address for s in cast.senders], box, box, kind=workload)
        # The raw runs share one cast: count only this run's mails.
        watcher = MaildirWatcher(cast.sender_folders(self.stack)).baseline().start()
        others = MaildirWatcher(cast.doctor_folders(self.stack), interval=0.1).baseline().start()
        extras = sum(plan) - len(plan)
        ready = threading.Event()
        answered: list[int] = []
        loop = threading.Thread(
            target=lambda: answered.append(
                raw_loop(
                    self.stack,
                    cast.gateways[0],
                    n,
                    reply_from=cast.gateways[0].address,
                    timeout=600,
                    ready=ready,
                    plan=plan,
                    others=[d.address for d in cast.gps],
                )
            ),
            name="raw-loop",
            daemon=True,
        )
        loop.start()
        ready.wait(30)
        busy0, own0 = machine_busy_seconds(), time.process_time()
        started = time.time()
        thread, _ = self.submitter().submit_in_thread(requests)
        thread.join()
        submitted = time.time()
        loop.join(timeout=600)
        watcher.wait_for([r.message_id for r in requests], timeout=60)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and others.total() < extras:
            time.sleep(0.05)
        busy, own = machine_busy_seconds() - busy0, time.process_time() - own0
        watcher.stop()
        others.stop()
        ids = [r.message_id for r in requests]
        last = max((watcher.first_reply_at(i) or 0.0) for i in ids)
        seconds = last - started
        all_out = max(last, others.last_at()) - started
        return {
            "requests": n,
            "answered": answered[0] if answered else 0,
            "mails_sent": n + others.total(),
            "seconds": round(seconds, 3),
            "rate_per_s": round(n / seconds, 2),
            "all_mail_out_s": round(all_out, 3),
            "submission_rate_per_s": round(n / (submitted - started), 2),
            "duplicate_replies": watcher.duplicates(ids),
            "mean_request_bytes": round(sum(len(r.raw) for r in requests) / n),
            # Every process on the machine (mail servers, submitter, loop): who is the limit.
            "machine_cpu_s_per_1000": round(busy / n * 1000, 2),
            "machine_cpu_busy_percent": round(100 * busy / seconds / (os.cpu_count() or 1), 1),
            # The machine less this process (submitter, loop, watcher): Postfix and Dovecot.
            "servers_cpu_s_per_1000": round((busy - own) / n * 1000, 2),
        }

    # ------------------------------------------------------------------ aiguilleur rate

    def rate(self, kind: str, *, latency: bool, workload: str | None = None) -> dict[str, Any]:
        n = self.sizes.n
        tag = f"{kind[:2]}-{workload or 'mix'}".replace("_", "")
        cast = new_cast(self.stack, f"rate-{tag}{self.run_tag}")
        work = self.workdir / f"rate-{tag}"
        work.mkdir(parents=True, exist_ok=True)
        with database(kind, work, migrate=self.migrate) as url:
            config = write_config(work, self.stack, cast, url)
            # One profile per workload (the ack-only run once wrote over the full one's).
            daemon = self.daemon(f"rate-{tag}", config, profile=self.profile and kind == "sqlite")
            daemon.start()
            try:
                startup = daemon.wait_connected(len(cast.gateways) + 1)
                warm_up = self.warm_up(cast, workload)
                sampler = ResourceSampler(daemon.pid).start()
                requests = cast.requests(self.factory, n, kind=workload)
                ids = [r.message_id for r in requests]
                acks = MaildirWatcher(cast.sender_folders(self.stack)).baseline().start()
                offers = (
                    MaildirWatcher(cast.doctor_folders(self.stack), interval=0.1).baseline().start()
                )
                usage0 = tree_usage(daemon.pid)
                cpu0, main0 = usage0.cpu_seconds, usage0.main_cpu_seconds
                sys0 = usage0.sys_cpu_seconds
                busy0, own0 = machine_busy_seconds(), time.process_time()
                started = time.time()
                thread, _ = self.submitter().submit_in_thread(requests)
                thread.join()
                submitted = time.time()
                complete = acks.wait_for(ids, timeout=max(300.0, n * 0.5))
                want_offers = (
                    0 if workload == "ack_only" else offers_expected(requests, len(cast.derms))
                )
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline and offers.total() < want_offers:
                    time.sleep(0.1)
                mail_out = time.time()
                usage1 = tree_usage(daemon.pid)
                cpu1, main1 = usage1.cpu_seconds, usage1.main_cpu_seconds
                sys1 = usage1.sys_cpu_seconds
                busy, own = machine_busy_seconds() - busy0, time.process_time() - own0
                sampler.stop()
                usage = tree_usage(daemon.pid)
                last = max((acks.first_reply_at(i) or 0.0) for i in ids)
                seconds = last - started
                result: dict[str, Any] = {
                    "requests": n,
                    "complete": complete,
                    "acknowledged": acks.answered(ids),
                    "startup_s": round(startup, 2),
                    "warm_up_s": round(warm_up, 2),
                    "seconds": round(seconds, 3),
                    "rate_per_s": round(n / seconds, 2),
                    "submission_rate_per_s": round(n / (submitted - started), 2),
                    "all_mail_out_s": round(mail_out - started, 3),
                    "doctor_mails": offers.total(),
                    "doctor_mails_expected": want_offers,
                    # Counted, not assumed: what the equal-work raw loop must send.
                    "mails_per_request": round((acks.total() + offers.total()) / n, 3),
                    "duplicate_replies": acks.duplicates(ids),
                    "duplicate_message_ids": duplicate_ids(acks, offers),
                    "cpu_s_per_1000": round((cpu1 - cpu0) / n * 1000, 2),
                    "sys_cpu_s_per_1000": round((sys1 - sys0) / n * 1000, 2),
                    # The main process alone (one core at most for its Python work: the GIL).
                    "main_cpu_s_per_1000": round((main1 - main0) / n * 1000, 2),
                    "main_cpu_busy_percent": round(100 * (main1 - main0) / (mail_out - started), 1),
                    "machine_cpu_s_per_1000": round(busy / n * 1000, 2),
                    "machine_cpu_busy_percent": round(
                        100 * busy / (mail_out - started) / (os.cpu_count() or 1), 1
                    ),
                    "servers_cpu_s_per_1000": round((busy - own - (cpu1 - cpu0)) / n * 1000, 2),
                    "peak_rss_mb": round(sampler.peak_rss / MB, 1),
                    "peak_pss_mb": round(sampler.peak_pss / MB, 1),
                    "sum_vmhwm_mb": round(usage.hwm_bytes / MB, 1),
                    "daemon_vmhwm_mb": round(usage.main_hwm_bytes / MB, 1),
                    "processes": usage.pids,
                }
                if latency:
                    result["latency"] = self.latency(daemon, cast)
                acks.stop()
                offers.stop()
                result["duplicate_replies"] = acks.duplicates(ids)
            finally:
                result_code = daemon.stop()
            result["exit_code"] = result_code
        return result

    def warm_up(self, cast: Cast, workload: str | None, count: int = 8) -> float:
        """A few requests of the run's own kind, answered before measuring: the parse
        workers start and load the NLP pipeline with the first messages, a one-off cost of
        several CPU seconds that a run of a few hundred requests would otherwise spread over
        its per-request figures. Returns how long it took."""
        started = time.monotonic()
        requests = cast.requests(self.factory, count, kind=workload)
        acks = MaildirWatcher(cast.sender_folders(self.stack)).start()
        thread, _ = self.submitter().submit_in_thread(requests)
        thread.join()
        acks.wait_for([r.message_id for r in requests], timeout=300)
        acks.stop()
        # Their offers too: stable doctors' Maildirs for a second.
        folders = cast.doctor_folders(self.stack)
        seen, stable_since = -1, time.monotonic()
        while time.monotonic() - stable_since < 1.0 and time.monotonic() - started < 300:
            now = count_files(folders)
            if now != seen:
                seen, stable_since = now, time.monotonic()
            time.sleep(0.1)
        return time.monotonic() - started

    # ------------------------------------------------------------------------- latency

    def latency(self, daemon: DaemonRun, cast: Cast) -> dict[str, Any]:
        """Steady light load on a running daemon (IDLE): SMTP 250 → ack delivered."""
        time.sleep(2.0)  # let the rate run's tail (offers) settle
        count = max(1, int(self.sizes.latency_seconds * self.sizes.latency_rate))
        requests = cast.requests(self.factory, count)
        ids = [r.message_id for r in requests]
        watcher = MaildirWatcher(cast.sender_folders(self.stack), interval=0.01).start()
        cpu0 = tree_usage(daemon.pid).cpu_seconds
        accepted = self.submitter().submit(requests, rate=self.sizes.latency_rate)
        watcher.wait_for(ids, timeout=60)
        cpu1 = tree_usage(daemon.pid).cpu_seconds
        watcher.stop()
        delays = [at - accepted[i] for i in ids if (at := watcher.first_reply_at(i)) is not None]
        return {
            "requests": count,
            "rate_per_s": self.sizes.latency_rate,
            "acknowledged": len(delays),
            **_latency_summary(delays),
            "cpu_s_per_1000": round((cpu1 - cpu0) / count * 1000, 2),
            "duplicate_replies": watcher.duplicates(ids),
        }

    # --------------------------------------------------------------------------- scale

    def backlog(self) -> dict[str, Any]:
        m = self.sizes.backlog
        cast = new_cast(self.stack, "backlog", senders=20)
        work = self.workdir / "backlog"
        work.mkdir(parents=True, exist_ok=True)
        requests = cast.requests(self.factory, m)
        ids = [r.message_id for r in requests]
        started = time.time()
        self.submitter().submit(requests)
        submitted = time.time() - started
        folders = [self.stack.maildir(cast.gateways[0]), self.stack.maildir(cast.te)]
        deadline = time.monotonic() + max(120.0, m * 0.05)
        while time.monotonic() < deadline and count_files(folders) < m:
            time.sleep(0.5)
        waiting = count_files(folders)
        with database("sqlite", work) as url:
            config = write_config(work, self.stack, cast, url)
            acks = MaildirWatcher(cast.sender_folders(self.stack), interval=0.25).start()
            daemon = self.daemon("backlog", config)
            t0 = time.time()
            daemon.start()
            sampler = ResourceSampler(daemon.pid, interval=0.5).start()
            try:
                complete = acks.wait_for(ids, timeout=max(600.0, m * 0.3))
                drained = max((acks.first_reply_at(i) or 0.0) for i in ids) - t0
                sampler.stop()
                usage = tree_usage(daemon.pid)
                acks.stop()
            finally:
                code = daemon.stop()
        return {
            "messages": m,
            "waiting_at_start": waiting,
            "submission_s": round(submitted, 1),
            "complete": complete,
            "acknowledged": acks.answered(ids),
            "drain_s": round(drained, 1),
            "drain_rate_per_s": round(m / drained, 2),
            "peak_rss_mb": round(sampler.peak_rss / MB, 1),
            "peak_pss_mb": round(sampler.peak_pss / MB, 1),
            "daemon_vmhwm_mb": round(usage.main_hwm_bytes / MB, 1),
            "sum_vmhwm_mb": round(usage.hwm_bytes / MB, 1),
            "rss_timeline_mb": sampler.timeline_mb(),
            "cpu_s_per_1000": round(usage.cpu_seconds / m * 1000, 2),
            "duplicate_replies": acks.duplicates(ids),
            "exit_code": code,
        }

    def mailboxes(self) -> dict[str, Any]:
        count = self.sizes.mailboxes
        cast = new_cast(self.stack, "many", gateways=count)
        work = self.workdir / "mailboxes"
        with database("sqlite", work) as url:
            config = write_config(work, self.stack, cast, url)
            daemon = self.daemon("mailboxes", config)
            daemon.start()
            try:
                startup = daemon.wait_connected(count + 1, timeout=300)
                time.sleep(2.0)  # the last connections finish their first sync
                before = tree_usage(daemon.pid)
                time.sleep(self.sizes.idle_seconds)
                after = tree_usage(daemon.pid)
                idle_cpu = after.cpu_seconds - before.cpu_seconds
                watcher = MaildirWatcher(cast.sender_folders(self.stack), interval=0.01).start()
                rng = random.Random(6)
                delays: list[float] = []
                for _ in range(self.sizes.random_probes):
                    target = rng.choice(cast.gateways)
                    request = self.factory.make(
                        rng.choice(cast.senders).address,
                        target.address,
                        cast.te.address,
                        kind="signalement",
                    )
                    accepted = self.submitter().submit([request])
                    watcher.wait_for([request.message_id], timeout=30)
                    at = watcher.first_reply_at(request.message_id)
                    if at is not None:
                        delays.append(at - accepted[request.message_id])
                    time.sleep(0.5)
                watcher.stop()
                end = tree_usage(daemon.pid)
            finally:
                code = daemon.stop()
        return {
            "mailboxes": count + 1,
            "startup_s": round(startup, 1),
            "idle_seconds": self.sizes.idle_seconds,
            "idle_rss_mb": round(after.rss_bytes / MB, 1),
            "idle_pss_mb": round(after.pss_bytes / MB, 1),
            "idle_cpu_s": round(idle_cpu, 3),
            "idle_cpu_percent": round(100 * idle_cpu / self.sizes.idle_seconds, 2),
            "rss_after_probes_mb": round(end.rss_bytes / MB, 1),
            "pss_after_probes_mb": round(end.pss_bytes / MB, 1),
            "processes_after_probes": end.pids,
            "probes": len(delays),
            **_latency_summary(delays),
            "exit_code": code,
        }


def duplicate_ids(*watchers: MaildirWatcher) -> int:
    seen: dict[str, int] = {}
    for watcher in watchers:
        for items in watcher.replies.values():
            for item in items:
                seen[item.message_id] = seen.get(item.message_id, 0) + 1
    return sum(c - 1 for c in seen.values() if c > 1)


def _latency_summary(delays: Sequence[float]) -> dict[str, float | None]:
    if not delays:
        return {"p50_s": None, "p95_s": None, "p99_s": None, "max_s": None}
    return {
        "p50_s": round(percentile(delays, 0.50), 3),
        "p95_s": round(percentile(delays, 0.95), 3),
        "p99_s": round(percentile(delays, 0.99), 3),
        "max_s": round(max(delays), 3),
    }


# ------------------------------------------------------------------------------ report


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem = int(Path("/proc/meminfo").read_text().split()[1]) // 1024
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "memory_mb": mem,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "note": "2 cores shared with other work: figures are noisy, ratios are the point",
    }


def fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if value < 10 else f"{value:.1f}"
    return str(value)


def table(results: dict[str, Any]) -> str:
    rows: list[tuple[str, str]] = []
    raw = results.get("raw_loop") or {}
    rows.append(("raw loop rate (msg/s)", fmt(raw.get("rate_per_s"))))
    rows.append(("  machine CPU busy % (raw loop)", fmt(raw.get("machine_cpu_busy_percent"))))
    for kind in ("sqlite", "postgresql"):
        run = results.get("aiguilleur", {}).get(kind)
        if not run:
            continue
        rows.append((f"aiguilleur {kind} rate (req/s)", fmt(run.get("rate_per_s"))))
        rows.append((f"  ratio to raw loop ({kind})", fmt(run.get("ratio_to_raw"))))
        rows.append((f"  duplicate replies ({kind})", fmt(run.get("duplicate_replies"))))
        rows.append((f"  CPU s / 1000 req ({kind})", fmt(run.get("cpu_s_per_1000"))))
        rows.append((f"    of which kernel ({kind})", fmt(run.get("sys_cpu_s_per_1000"))))
        rows.append((f"  main process CPU % ({kind})", fmt(run.get("main_cpu_busy_percent"))))
        rows.append((f"  machine CPU busy % ({kind})", fmt(run.get("machine_cpu_busy_percent"))))
        rows.append((f"  peak RSS MB ({kind})", fmt(run.get("peak_rss_mb"))))
    for kind in ("sqlite", "postgresql"):
        run = results.get("aiguilleur", {}).get(kind)
        if run and "equal_work_ratio" in run:
            rows.append((f"  equal-work ratio ({kind})", fmt(run["equal_work_ratio"])))
            rows.append((f"  mails per request ({kind})", fmt(run.get("mails_per_request"))))
    ack = (results.get("ack_only") or {}).get("aiguilleur")
    if ack:
        raw_ack = results["ack_only"]["raw_loop"]
        rows.append(
            (
                "ack-only: aiguilleur / raw (req/s)",
                f"{fmt(ack['rate_per_s'])} / {fmt(raw_ack['rate_per_s'])}",
            )
        )
        rows.append(("  ack-only ratio", fmt(ack.get("ack_only_ratio"))))
        rows.append(("  ack-only CPU ms / request", fmt(ack.get("cpu_s_per_1000"))))
        rows.append(("  ack-only mails per request", fmt(ack.get("mails_per_request"))))
    lat = results.get("latency") or {}
    if lat:
        rows.append(
            (
                f"latency @{lat.get('rate_per_s')} req/s p50/p95/p99 (s)",
                "/".join(fmt(lat.get(k)) for k in ("p50_s", "p95_s", "p99_s")),
            )
        )
    backlog = results.get("scale", {}).get("backlog")
    if backlog:
        rows.append((f"backlog {backlog['messages']} drain (s)", fmt(backlog["drain_s"])))
        rows.append(("  backlog peak RSS / PSS MB", _pair(backlog, "peak_rss_mb", "peak_pss_mb")))
    many = results.get("scale", {}).get("mailboxes")
    if many:
        rows.append((f"{many['mailboxes']} IDLE mailboxes RSS MB", fmt(many["idle_rss_mb"])))
        loaded = _pair(many, "rss_after_probes_mb", "pss_after_probes_mb")
        rows.append(("  with loaded workers RSS / PSS MB", loaded))
        rows.append(("  idle CPU %", fmt(many["idle_cpu_percent"])))
        probes = f"{fmt(many['p50_s'])}/{fmt(many['max_s'])}"
        rows.append(("  random-mailbox ack p50/max (s)", probes))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def _pair(run: dict[str, Any], first: str, second: str) -> str:
    return f"{fmt(run.get(first))} / {fmt(run.get(second))}"


def run(args: argparse.Namespace) -> dict[str, Any]:
    sizes = QUICK if args.quick else FULL
    if args.n:
        sizes = Sizes(args.n, *[getattr(sizes, f) for f in list(Sizes.__dataclass_fields__)[1:]])
    if args.backlog:
        sizes = Sizes(**{**sizes.__dict__, "backlog": args.backlog})
    if args.mailboxes:
        sizes = Sizes(**{**sizes.__dict__, "mailboxes": args.mailboxes})
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    check_prerequisites()
    base = Path(tempfile.mkdtemp(prefix="aig-bench-e2e-"))
    base.chmod(0o755)  # Dovecot's unprivileged mail processes traverse it
    stack = BenchStack(base / "stack")
    results: dict[str, Any] = {
        "bench": "e2e",
        "date": date.today().isoformat(),
        "mode": "quick" if args.quick else "full",
        "machine": machine(),
        "sizes": sizes.__dict__,
        "workload": "2 signalements (DOCX form) for 1 télé-expertise (CDA or IHE_XDM.ZIP); "
        "each signalement is acknowledged and offered to a GP, each télé-expertise "
        "acknowledged and broadcast to a 2-doctor filière group",
    }
    try:
        stack.start()
        bench = Bench(stack, base / "work", sizes, profile=args.profile)
        started = time.monotonic()
        results["raw_loop"] = bench.raw()
        results["aiguilleur"] = {}
        for kind in kinds:
            run_result = bench.rate(kind, latency=kind == kinds[0])
            latency = run_result.pop("latency", None)
            if latency is not None:
                results["latency"] = {**latency, "database": kind}
            run_result["ratio_to_raw"] = round(
                run_result["rate_per_s"] / results["raw_loop"]["rate_per_s"], 3
            )
            results["aiguilleur"][kind] = run_result
        # Equal work (issue 15), alternating with the runs above so that drift shows: the raw
        # loop sending as many mails per request as the first run delivered, then an ack-only
        # burst (one reply per request on both sides) against a plain raw loop.
        first = results["aiguilleur"][kinds[0]]
        equal = bench.raw(plan=spread(round(first["mails_per_request"] * sizes.n), sizes.n))
        results["equal_work"] = {"raw_loop": equal, "database": kinds[0]}
        for run_result in results["aiguilleur"].values():
            run_result["equal_work_ratio"] = round(
                equal["all_mail_out_s"] / run_result["all_mail_out_s"], 3
            )
        ack_only = bench.rate(kinds[0], latency=False, workload="ack_only")
        ack_raw = bench.raw(workload="ack_only")
        ack_only["ack_only_ratio"] = round(ack_only["rate_per_s"] / ack_raw["rate_per_s"], 3)
        results["ack_only"] = {"aiguilleur": ack_only, "raw_loop": ack_raw, "database": kinds[0]}
        results["scale"] = {}
        if not args.skip_scale:
            results["scale"]["backlog"] = bench.backlog()
            results["scale"]["mailboxes"] = bench.mailboxes()
        results["duration_s"] = round(time.monotonic() - started, 1)
        if args.profile:
            results["profile_files"] = [str(p) for p in (base / "work").glob("*.pyspy")]
    finally:
        with contextlib.suppress(MailStackError):
            stack.stop()
        if not args.keep and not args.profile:
            shutil.rmtree(base, ignore_errors=True)
    return results


def save_results(results: dict[str, Any], output: Path | None, name: str) -> Path:
    """Write ``results`` as JSON to ``output``, else to bench/results/``name``."""
    out = output or RESULTS / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


def finish(
    results: dict[str, Any],
    output: Path | None,
    name: str,
    table: Callable[[dict[str, Any]], str],
) -> int:
    """A bench's last step: save its results, print their table and where they went."""
    out = save_results(results, output, name)
    print(table(results))
    print(f"results: {out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="End-to-end bench of the daemon (issue 6).")
    parser.add_argument("--quick", action="store_true", help="a few hundred messages, <2 min")
    parser.add_argument("--n", type=int, default=0, help="requests per rate run")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--skip-scale", action="store_true", help="no backlog / mailboxes cases")
    parser.add_argument("--backlog", type=int, default=0, help="backlog size (scale case)")
    parser.add_argument("--mailboxes", type=int, default=0, help="IDLE mailboxes (scale case)")
    parser.add_argument("--profile", action="store_true", help="py-spy the SQLite rate run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--output", type=Path, default=None, help="results file")
    args = parser.parse_args(argv)
    results = run(args)
    suffix = "-quick" if args.quick else ""
    return finish(results, args.output, f"e2e-{results['date']}{suffix}.json", table)


if __name__ == "__main__":
    sys.exit(main())
