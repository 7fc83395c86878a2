"""Three daemons on one PostgreSQL database, six mailboxes, real Dovecot and Postfix.

A burst of signalements is spread over the six mailboxes; the leases spread the mailboxes
over the three replicas. One replica is SIGKILLed mid-run. Then every request is
acknowledged, no reply or offer goes out twice under different Message-IDs, the killed
replica's mailboxes are taken over within 30 s, and none of its processes is left behind.

Work the killed replica had claimed (stored messages, queued mails) is free for the others
only once its claim lapses. When such a claim outlasts the wait for the acknowledgements, the
test fails at once with the figures instead of waiting for the timeout.
"""

from __future__ import annotations

import contextlib
import email.policy
import os
import signal
import smtplib
import subprocess
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from deploy.mailstack import MailStack, MailUser
from gateway.cli.demo_routing import DemoDoctor
from gateway.storage.db import make_engine
from tests.e2e.harness import AIGUILLEUR, Gateway, signalement_mail, wait_until
from tests.e2e.test_replicas import replicas

pytestmark = pytest.mark.e2e

REQUESTS = 600
MAILBOXES = 6
REPLICAS = ("replica-1", "replica-2", "replica-3")
# Short leases, so a dead replica's mailboxes are free again within lease + renew seconds.
LEASE_SECONDS = 8.0
RENEW_SECONDS = 2.0
TAKEOVER_LIMIT = 30.0  # the promise
SMTP_CONNECTIONS = 2  # each replica's; a crash may re-send what was in flight on each
DOCTORS = 3
DOCTOR_CAPACITY = 200  # open offers each GP holds: every case is offered
KILL_AFTER_ACKS = REQUESTS // 3
SPREAD_TIMEOUT = 90.0
ALL_ACKS_TIMEOUT = 240.0
CHILDREN_EXIT_TIMEOUT = 15.0  # parse workers check for their parent every second

_HEADERS = BytesHeaderParser(policy=email.policy.compat32)


class Daemon(Gateway):
    """``Gateway.start`` in a session of its own: its process group is its pid, and stays
    so after a SIGKILL, which tells its leftovers apart from the test run's processes."""

    def start(self, failpoints: str = "") -> None:
        assert self.proc is None or self.proc.poll() is not None
        self.write_config()
        env = {**os.environ, **self.extra_env, "AIGUILLEUR_FAILPOINTS": failpoints}
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(AIGUILLEUR), "run", "--config", str(self.config_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        self.starts += 1

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid


# -- processes, from /proc (procps may be absent) -------------------------------------------


@dataclass(frozen=True)
class _Proc:
    pid: int
    state: str
    ppid: int
    pgrp: int
    start: int  # clock ticks after boot: with the pid, who the process is

    @property
    def key(self) -> tuple[int, int]:
        return self.pid, self.start


def _processes() -> Iterator[_Proc]:
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = raw.rsplit(")", 1)[1].split()
        # Fields 3, 4, 5 and 22 of proc(5), counted from the state.
        yield _Proc(int(entry), fields[0], int(fields[1]), int(fields[2]), int(fields[19]))


def _living(procs: Iterator[_Proc]) -> list[_Proc]:
    return [p for p in procs if p.state not in ("Z", "X")]


def _descendants(root: int) -> set[tuple[int, int]]:
    """(pid, start) of every descendant of ``root``."""
    children: dict[int, list[_Proc]] = defaultdict(list)
    for proc in _processes():
        children[proc.ppid].append(proc)
    found: set[tuple[int, int]] = set()
    todo = [root]
    while todo:
        for child in children[todo.pop()]:
            if child.key not in found:
                found.add(child.key)
                todo.append(child.pid)
    return found


def _leftovers(groups: set[int], procs: set[tuple[int, int]]) -> list[_Proc]:
    """Living processes of these process groups, or among these (pid, start)."""
    return _living(p for p in _processes() if p.pgrp in groups or p.key in procs)


# -- mail, read from the Maildirs (headers only, each file once) ----------------------------


@dataclass(frozen=True)
class _Delivered:
    message_id: str
    in_reply_to: str
    to: str
    reference: str


class _Maildir:
    """The deliveries of one INBOX, read incrementally: a delivery is a file, so a mail that
    went out twice with one Message-ID shows as two deliveries."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._seen: dict[str, _Delivered] = {}

    def deliveries(self) -> list[_Delivered]:
        for sub in ("new", "cur"):
            try:
                entries = list(os.scandir(self.root / sub))
            except FileNotFoundError:
                continue
            for entry in entries:
                key = entry.name.split(":", 1)[0]  # new/ → cur/ adds ":2,<flags>"
                if key in self._seen:
                    continue
                try:
                    data = Path(entry.path).read_bytes()
                except FileNotFoundError:  # moved to cur/ meanwhile: found there next time
                    continue
                head = _HEADERS.parsebytes(data.split(b"\n\n", 1)[0] + b"\n\n")
                self._seen[key] = _Delivered(
                    message_id=str(head["Message-ID"] or "").strip(),
                    in_reply_to=str(head["In-Reply-To"] or "").strip(),
                    to=str(head["To"] or "").strip().lower(),
                    reference=str(head["X-Aiguilleur-Reference"] or "").strip(),
                )
        return list(self._seen.values())


# -- the shared database ---------------------------------------------------------------------


class _Shared:
    def __init__(self, url: str) -> None:
        self.engine: Engine = make_engine(url)

    def holders(self) -> dict[str, str]:
        """mailbox → replica holding a live lease on it (on the database's clock)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT mailbox, holder FROM mailbox_lease "
                    "WHERE holder IS NOT NULL AND expires_at > now()"
                )
            ).all()
        return {str(mailbox): str(holder) for mailbox, holder in rows}

    def outbound(self) -> list[tuple[str, str, str, str]]:
        """(kind, message_id, recipient, status) of every queued mail."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT kind, message_id, recipient, status FROM outbound_message")
            ).all()
        return [(str(k), str(m), str(r), str(s)) for k, m, r, s in rows]

    def inbound(self) -> list[tuple[str, str]]:
        """(message_id, status) of every stored message."""
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT message_id, status FROM inbound_message")).all()
        return [(str(m), str(s)) for m, s in rows]

    def unfinished(self, table: str) -> str:
        """Rows of ``table`` (inbound_message, outbound_message) not done yet, by status and
        claim holder, with how long the claim has to run."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    f"SELECT status, lease_owner, count(*), "
                    f"extract(epoch FROM max(lease_until) - now()) FROM {table} "
                    f"WHERE status NOT IN ('processed', 'sent') GROUP BY status, lease_owner"
                )
            ).all()
        return ", ".join(
            f"{n} {status} claimed by {owner}"
            + (f" for {float(left):.0f}s more" if left is not None and left > 0 else "")
            for status, owner, n, left in rows
        )

    def stranded(self, table: str, owner: str, seconds: float) -> tuple[int, float]:
        """Rows of ``table`` not done that ``owner`` claimed for more than ``seconds`` yet:
        how many, and the longest claim left, in seconds."""
        with self.engine.connect() as conn:
            n, left = conn.execute(
                text(
                    f"SELECT count(*), extract(epoch FROM max(lease_until) - now()) FROM {table} "
                    f"WHERE status NOT IN ('processed', 'sent') AND lease_owner = :owner "
                    f"AND lease_until > now() + make_interval(secs => :seconds)"
                ),
                {"owner": owner, "seconds": seconds},
            ).one()
        return int(n), float(left or 0)

    def offers_per_case_and_doctor(self) -> Counter[tuple[int, str]]:
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT case_id, doctor_email FROM offer")).all()
        return Counter((int(c), str(d).lower()) for c, d in rows)


class _StrandedError(AssertionError):
    """Work that cannot be done before the wait ends: no use waiting."""


def _wait(predicate: Callable[[], bool], timeout: float, what: Callable[[], str]) -> None:
    """``wait_until``, its message computed when it times out (with the figures then)."""
    try:
        wait_until(predicate, timeout=timeout, what="")
    except _StrandedError:
        raise
    except AssertionError:
        raise AssertionError(f"timed out after {timeout}s waiting for {what()}") from None


def _not_stranded(shared: _Shared, dead: str, deadline: float, tables: tuple[str, ...]) -> None:
    """Fail now if the dead replica's claims keep work from anyone until past ``deadline``."""
    for table in tables:
        n, left = shared.stranded(table, dead, deadline - time.monotonic())
        if n:
            raise _StrandedError(
                f"{n} rows of {table} claimed by the killed replica {dead} stay claimed for "
                f"{left:.0f}s more: no survivor may take them before the wait ends "
                f"({table}: {shared.unfinished(table)})"
            )


def _burst(stack: MailStack, requests: list[tuple[str, str]], sender: str) -> dict[str, str]:
    """Send every (mailbox name, address) request over one SMTP connection; returns
    Message-ID → mailbox name."""
    sent: dict[str, str] = {}
    with smtplib.SMTP(stack.host, stack.smtp_port, timeout=30) as smtp:
        for name, address in requests:
            msg = signalement_mail(sender, address)
            smtp.send_message(msg)
            sent[str(msg["Message-ID"])] = name
    return sent


def test_three_replicas_burst_one_sigkilled(
    mail_stack: MailStack, pg_url: str, tmp_path: Path, professional: MailUser
) -> None:
    started = time.monotonic()
    tag = uuid.uuid4().hex[:8]
    boxes = [
        (
            "signalement" if i == 0 else f"signalement-{i + 1}",
            mail_stack.add_user(f"signalement{i + 1}-{tag}@cpts.test", "gateway-secret"),
        )
        for i in range(MAILBOXES)
    ]
    gps = [mail_stack.add_user(f"gp{i + 1}-{tag}@medecin.test") for i in range(DOCTORS)]
    roster = [
        DemoDoctor(
            str(10000000001 + i), f"Dr Médecin {i + 1}", gp.address, capacity=DOCTOR_CAPACITY
        )
        for i, gp in enumerate(gps)
    ]
    env = {
        "AIGUILLEUR__REPLICAS__LEASE_SECONDS": str(LEASE_SECONDS),
        "AIGUILLEUR__REPLICAS__RENEW_SECONDS": str(RENEW_SECONDS),
        "AIGUILLEUR__SMTP__CONNECTIONS": str(SMTP_CONNECTIONS),
        "AIGUILLEUR__REPLIES__RATE_LIMIT_PER_HOUR": "0",  # one sender, 600 requests
        "AIGUILLEUR__LOGGING__LEVEL": "info",
    }
    others = [(box, "signalement", user) for box, user in boxes[1:]]
    daemons = replicas(
        Daemon,
        REPLICAS,
        tmp_path,
        mail_stack,
        pg_url,
        boxes[0][1],
        roster,
        env=env,
        extra_mailboxes=others,
    )
    shared = _Shared(pg_url)
    acks = _Maildir(mail_stack.maildir(professional))
    offers = [_Maildir(mail_stack.maildir(gp)) for gp in gps]
    groups: set[int] = set()
    try:
        for daemon in daemons.values():
            daemon.start()
            groups.add(daemon.pid)

        def spread() -> bool:
            per = Counter(shared.holders().values())
            return sorted(per.items()) == [(name, MAILBOXES // len(REPLICAS)) for name in REPLICAS]

        _wait(spread, SPREAD_TIMEOUT, lambda: f"the mailboxes spread: {shared.holders()}")
        ready = time.monotonic()

        sent = _burst(
            mail_stack,
            [(boxes[i % MAILBOXES][0], boxes[i % MAILBOXES][1].address) for i in range(REQUESTS)],
            professional.address,
        )
        burst_done = time.monotonic()

        def acknowledged() -> set[str]:
            return {d.in_reply_to for d in acks.deliveries()} & sent.keys()

        _wait(
            lambda: len(acknowledged()) >= KILL_AFTER_ACKS,
            ALL_ACKS_TIMEOUT,
            lambda: f"{KILL_AFTER_ACKS} acknowledgements, got {len(acknowledged())}",
        )
        assert all(d.alive() for d in daemons.values()), "a replica exited"

        # The replica holding the most mailboxes dies without a word.
        holders = shared.holders()
        victim_name, held = Counter(holders.values()).most_common(1)[0]
        assert held >= 1 and victim_name in daemons, holders
        victim, survivors = (
            daemons[victim_name],
            [d for n, d in daemons.items() if n != victim_name],
        )
        victim_boxes = {box for box, holder in holders.items() if holder == victim_name}
        children = _descendants(victim.pid)
        assert children, "the replica had no parse worker"
        acks_at_kill = len(acknowledged())
        victim.kill()  # SIGKILL to the main process only, then reaped
        killed = time.monotonic()

        def taken_over() -> bool:
            now = shared.holders()
            return all(now.get(box) not in (None, victim_name) for box in victim_boxes)

        _wait(
            taken_over,
            TAKEOVER_LIMIT + 30,
            lambda: f"{sorted(victim_boxes)} held again, holders {shared.holders()}",
        )
        takeover = time.monotonic() - killed
        assert takeover <= TAKEOVER_LIMIT, f"takeover took {takeover:.1f}s"
        # Its parse workers notice their parent is gone and exit on their own.
        _wait(
            lambda: not _leftovers({victim.pid}, children),
            CHILDREN_EXIT_TIMEOUT,
            lambda: f"the killed replica's processes to exit: {_leftovers({victim.pid}, children)}",
        )

        # Every request acknowledged. Work the dead replica had claimed waits for its claim
        # to lapse; a claim that outlasts the wait fails the test at once, saying so.
        deadline = time.monotonic() + ALL_ACKS_TIMEOUT

        def all_acknowledged() -> bool:
            if len(acknowledged()) == REQUESTS:
                return True
            _not_stranded(shared, victim_name, deadline, ("inbound_message",))
            return False

        _wait(
            all_acknowledged,
            ALL_ACKS_TIMEOUT,
            lambda: (
                f"every request acknowledged, got {len(acknowledged())}/{REQUESTS} "
                f"({acks_at_kill} at the kill, {time.monotonic() - killed:.0f}s ago); "
                f"not processed: {shared.unfinished('inbound_message') or 'none'}; "
                f"not sent: {shared.unfinished('outbound_message') or 'none'}"
            ),
        )
        all_acked = time.monotonic()

        def everything_delivered() -> bool:
            rows = shared.outbound()
            delivered = {d.message_id for box in (acks, *offers) for d in box.deliveries()}
            if (
                all(status == "sent" for *_, status in rows)
                and {message_id for _, message_id, _, _ in rows} <= delivered
            ):
                return True
            _not_stranded(shared, victim_name, deadline, ("inbound_message", "outbound_message"))
            return False

        deadline = time.monotonic() + ALL_ACKS_TIMEOUT
        _wait(
            everything_delivered,
            ALL_ACKS_TIMEOUT,
            lambda: (
                f"every mail sent and delivered; not sent: {shared.unfinished('outbound_message')}"
            ),
        )
        drained = time.monotonic()

        # Each request stored once and processed.
        inbound = shared.inbound()
        ours = [(m, s) for m, s in inbound if m in sent]
        assert len(ours) == REQUESTS and len({m for m, _ in ours}) == REQUESTS, len(ours)
        assert Counter(s for _, s in ours) == {"processed": REQUESTS}, Counter(s for _, s in ours)

        outbound = shared.outbound()
        kind_of = {message_id: kind for kind, message_id, _, _ in outbound}
        # One Message-ID per (request, kind) and per (case, doctor): a re-sent mail is the
        # same mail, never a second one.
        replies: dict[tuple[str, str], set[str]] = defaultdict(set)
        for d in acks.deliveries():
            replies[(d.in_reply_to, kind_of.get(d.message_id, "unrecorded"))].add(d.message_id)
        twice = {key: ids for key, ids in replies.items() if len(ids) > 1}
        assert not twice, f"replies with several Message-IDs: {twice}"
        unrecorded = [key for key in replies if key[1] == "unrecorded"]
        assert not unrecorded, f"replies no outbound row accounts for: {unrecorded}"
        ack_ids = {request: replies.get((request, "ack"), set()) for request in sent}
        assert all(len(ids) == 1 for ids in ack_ids.values()), Counter(
            len(ids) for ids in ack_ids.values()
        )
        unacked_victim = [r for r, box in sent.items() if box in victim_boxes and not ack_ids[r]]
        assert not unacked_victim, f"{len(unacked_victim)} requests to the killed replica's boxes"

        offered: dict[tuple[str, str], set[str]] = defaultdict(set)
        for box in offers:
            for d in box.deliveries():
                assert kind_of.get(d.message_id) == "offer", d
                offered[(d.reference, d.to)].add(d.message_id)
        assert offered, "no offer went out"
        twice = {key: ids for key, ids in offered.items() if len(ids) > 1}
        assert not twice, f"offers with several Message-IDs: {twice}"
        per_pair = shared.offers_per_case_and_doctor()
        assert max(per_pair.values()) == 1, [k for k, n in per_pair.items() if n > 1]

        # Same-ID re-sends: what the killed replica had handed to Postfix but not yet marked
        # sent goes out again, with its Message-ID; at most one mail per SMTP connection.
        deliveries = [d.message_id for box in (acks, *offers) for d in box.deliveries()]
        resent = len(deliveries) - len(set(deliveries))
        assert resent <= SMTP_CONNECTIONS, (
            f"{resent} same-ID re-sends, more than the killed replica's {SMTP_CONNECTIONS} "
            f"SMTP connections: {[m for m, n in Counter(deliveries).items() if n > 1]}"
        )

        for daemon in survivors:
            assert daemon.terminate(timeout=60) == 0
        leftovers = _leftovers(groups, children)
        assert not leftovers, f"processes left behind: {leftovers}"
        print(
            f"\nthree replicas: {REQUESTS} requests, {len(offered)} offers; "
            f"ready {ready - started:.1f}s, burst sent in {burst_done - ready:.1f}s, "
            f"killed {victim_name} ({sorted(victim_boxes)}) at {acks_at_kill} acks, "
            f"{killed - ready:.1f}s after ready; takeover {takeover:.1f}s; "
            f"all acks {all_acked - killed:.1f}s after the kill; "
            f"drained {drained - ready:.1f}s after ready; same-ID re-sends {resent}; "
            f"total {time.monotonic() - started:.1f}s"
        )
    finally:
        for daemon in daemons.values():
            daemon.kill()
        for proc in _leftovers(groups, set()):  # only what our own daemons started
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
        shared.engine.dispose()
