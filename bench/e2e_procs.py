"""Processes of the end-to-end bench: the daemon under test, its resources, the raw loop.

Resources come from /proc for the daemon and every descendant (the parse workers' fork
server and the workers): resident memory sampled as a sum over the tree, both RSS and PSS
(a page shared by N processes counts 1/N in each: the forked workers share most of theirs),
each process's own high-water mark (VmHWM), and CPU time (utime + stime, plus what reaped
children left in cutime + cstime).
"""

from __future__ import annotations

import contextlib
import imaplib
import json
import os
import signal
import smtplib
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path

from deploy.mailstack import MailStack, MailUser

__all__ = [
    "DaemonRun",
    "ResourceSampler",
    "TreeUsage",
    "machine_busy_seconds",
    "raw_loop",
    "tree_usage",
]

AIGUILLEUR = Path(sys.executable).with_name("aiguilleur")
_CLK_TCK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")
PSS_INTERVAL = 2.0  # seconds between PSS samples


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            text = Path(f"/proc/{pid}/task/{tid}/children").read_text()
        except OSError:
            continue
        found.extend(int(c) for c in text.split())
    return found


def _tree(root: int) -> list[int]:
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(_children(pid))
    return pids


@dataclass(frozen=True)
class TreeUsage:
    pids: int
    rss_bytes: int  # sum of VmRSS now
    pss_bytes: int  # sum of Pss now: what the tree holds, shared pages counted once
    hwm_bytes: int  # sum of each process's VmHWM
    main_hwm_bytes: int
    cpu_seconds: float  # utime + stime + cutime + cstime of the live processes
    main_cpu_seconds: float = 0.0  # the daemon's own process (its threads), without children
    sys_cpu_seconds: float = 0.0  # the kernel's share of cpu_seconds (system calls, page faults)


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _cpu(pid: int, *, with_reaped: bool, kernel_only: bool = False) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # Fields after the command: state(0) ... utime(11) stime(12) cutime(13) cstime(14).
    ticks = int(fields[12]) + (0 if kernel_only else int(fields[11]))
    if with_reaped:
        ticks += int(fields[14]) + (0 if kernel_only else int(fields[13]))
    return ticks / _CLK_TCK


def _rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
    except OSError:
        return 0


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_usage(root: int) -> TreeUsage:
    pids = _tree(root)
    return TreeUsage(
        pids=len(pids),
        rss_bytes=sum(_rss(p) for p in pids),
        pss_bytes=sum(_pss(p) for p in pids),
        hwm_bytes=sum(_status_kb(p, "VmHWM:") for p in pids),
        main_hwm_bytes=_status_kb(root, "VmHWM:"),
        # The fork server reaps replaced workers: every process's cutime counts.
        cpu_seconds=sum(_cpu(p, with_reaped=True) for p in pids),
        main_cpu_seconds=_cpu(root, with_reaped=False),
        sys_cpu_seconds=sum(_cpu(p, with_reaped=True, kernel_only=True) for p in pids),
    )


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy since boot (every core, every process):
    the mail servers' share of a run is this minus the daemon's own."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / _CLK_TCK


class ResourceSampler:
    """Samples the tree's summed RSS and PSS; keeps the peaks and a short RSS timeline."""

    def __init__(self, root: int, interval: float = 0.25) -> None:
        self._root = root
        self._interval = interval
        self.peak_rss = 0
        self.peak_pss = 0
        self._pss_at = 0.0
        self.peak_hwm = 0
        self.timeline: list[tuple[float, int]] = []  # (seconds since start, rss bytes)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)
        self._started = time.monotonic()

    def _sample(self) -> None:
        pids = _tree(self._root)
        rss = sum(_rss(p) for p in pids)
        self.peak_rss = max(self.peak_rss, rss)
        now = time.monotonic()
        if now - self._pss_at >= PSS_INTERVAL:  # ~4 ms of kernel time per process read
            self._pss_at = now
            self.peak_pss = max(self.peak_pss, sum(_pss(p) for p in pids))
        self.timeline.append((time.monotonic() - self._started, rss))

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self._interval)

    def start(self) -> ResourceSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        with contextlib.suppress(Exception):
            self.peak_hwm = tree_usage(self._root).hwm_bytes

    def reset(self) -> None:
        """Forget the peak so far (e.g. start-up), keep sampling."""
        self.peak_rss = 0
        self.peak_pss = 0
        self.timeline.clear()
        self._started = time.monotonic()

    def timeline_mb(self, points: int = 20) -> list[list[float]]:
        if not self.timeline:
            return []
        step = max(1, len(self.timeline) // points)
        picked = self.timeline[::step]
        return [[round(t, 1), round(r / 2**20, 1)] for t, r in picked]


@dataclass
class DaemonRun:
    """One `aiguilleur run` against the stack; its config is written by the caller."""

    config_path: Path
    log_path: Path
    profile_path: Path | None = None  # run under py-spy, writing a flame/speedscope file
    proc: subprocess.Popen[bytes] | None = None
    profiler: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)
    # Its own process group, so kill_group() takes the parse workers down with it.
    start_new_session: bool = False

    def start(self) -> int:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [str(AIGUILLEUR), "run", "--config", str(self.config_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.env},
            start_new_session=self.start_new_session,
        )
        log.close()
        if self.profile_path is not None:
            spy = Path(sys.executable).with_name("py-spy")
            self.profiler = subprocess.Popen(
                [
                    str(spy),
                    "record",
                    "--pid",
                    str(self.proc.pid),
                    # The daemon's own process, threads holding the GIL only: what limits it.
                    "--gil",
                    "--rate",
                    "100",
                    "--format",
                    "raw",
                    "--output",
                    str(self.profile_path),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        return self.proc.pid

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def events(self, name: str) -> list[dict[str, object]]:
        found: list[dict[str, object]] = []
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return found
        needle = f'"{name}"'
        for line in text.splitlines():
            if needle not in line:
                continue
            with contextlib.suppress(ValueError):
                item = json.loads(line)
                if isinstance(item, dict) and item.get("event") == name:
                    found.append(item)
        return found

    def wait_connected(self, mailboxes: int, timeout: float = 120.0) -> float:
        """Until every mailbox logged in and selected (the source's own event)."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if not self.alive():
                raise RuntimeError(f"daemon exited during start-up; see {self.log_path}")
            connected = {e.get("mailbox") for e in self.events("imap_connected")}
            connected.discard(None)
            if len(connected) >= mailboxes:
                return time.monotonic() - started
            time.sleep(0.1)
        raise RuntimeError(f"daemon not connected to {mailboxes} mailboxes in {timeout}s")

    def kill_group(self, timeout: float = 10.0) -> int:
        """SIGKILL the daemon's whole process group (needs start_new_session); returns its
        exit code once the main process is reaped and the group is gone (or ``timeout``)."""
        assert self.proc is not None and self.start_new_session
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        code = self.proc.wait(timeout=timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.02)
        return code

    def stop(self, timeout: float = 120.0) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(timeout=10)
        if self.start_new_session:
            # Workers the main process left behind would outlive the run.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        if self.profiler is not None:
            try:
                self.profiler.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.profiler.send_signal(signal.SIGINT)
                self.profiler.wait(timeout=30)
        return code


_HEADERS = BytesHeaderParser(policy=compat32)


def raw_loop(
    stack: MailStack,
    user: MailUser,
    expected: int,
    *,
    reply_from: str,
    timeout: float,
    ready: threading.Event | None = None,
    plan: Sequence[int] = (),
    others: Sequence[str] = (),
) -> int:
    """The yardstick, exactly as issue 6 defines it: one thread, imaplib + smtplib,
    SEARCH UNSEEN then FETCH (RFC822) of each, one reply per message on one persistent
    SMTP connection, STORE +FLAGS \\Seen. Returns how many messages it answered.

    Equal work (issue 15): with ``plan``, the k-th message answered causes ``plan[k]`` mails,
    the reply to its sender and the rest to ``others`` in turn (as offers go to doctors)."""
    tls = ssl.create_default_context(cafile=str(stack.ca_path))
    imap = imaplib.IMAP4_SSL(stack.host, stack.imaps_port, ssl_context=tls)
    smtp = smtplib.SMTP(stack.host, stack.smtp_port, timeout=60)
    answered = 0
    deadline = time.monotonic() + timeout
    try:
        smtp.starttls(context=tls)
        imap.login(user.login, user.password)
        imap.select("INBOX")
        if ready is not None:
            ready.set()
        while answered < expected and time.monotonic() < deadline:
            _, data = imap.search(None, "UNSEEN")
            numbers = data[0].split() if data and data[0] else []
            if not numbers:
                imap.noop()
                time.sleep(0.02)
                continue
            for number in numbers:
                _, parts = imap.fetch(number.decode(), "(RFC822)")
                raw = next(p[1] for p in parts if isinstance(p, tuple))
                headers = _HEADERS.parsebytes(raw)
                sender = str(headers.get("From", "")).strip()
                reply = EmailMessage()
                reply["From"] = reply_from
                reply["To"] = sender
                reply["Subject"] = "Re: " + str(headers.get("Subject", ""))
                reply["In-Reply-To"] = str(headers.get("Message-ID", "")).strip()
                reply["Auto-Submitted"] = "auto-replied"
                reply.set_content("Bien reçu.\n")
                smtp.sendmail(reply_from, [sender], reply.as_bytes())
                for extra in range(plan[answered] - 1 if answered < len(plan) else 0):
                    to = others[(answered + extra) % len(others)]
                    del reply["To"]
                    reply["To"] = to
                    smtp.sendmail(reply_from, [to], reply.as_bytes())
                imap.store(number.decode(), "+FLAGS", "\\Seen")
                answered += 1
    finally:
        with contextlib.suppress(Exception):
            smtp.quit()
        with contextlib.suppress(Exception):
            imap.logout()
    return answered


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
