"""Peer bench (optional): Node-RED 4.x with node-red-node-email doing the ack-only job.

Run: ``uv run python -m bench.nodered [--n N] [--output PATH] [--scratch DIR] [--keep]``.
It installs ``node-red`` and ``node-red-node-email`` with npm into a scratch directory
(default /tmp/aig-nodered, reused when present), starts the dev mail stack (Dovecot + Postfix,
as ``bench.e2e`` does) and runs a three-node flow: "e-mail in" (IMAPS, IDLE, fetch UNSEEN,
mark read) → a function node building the acknowledgement (to the sender, subject
"Accusé de réception - Re: <subject>", In-Reply-To the request's Message-ID) → "e-mail"
(SMTP with STARTTLS to Postfix). It then submits N ack-only requests, the workload of
``bench.e2e``'s ack-only run, and measures first submission → last first reply delivered.
The plain raw loop runs right after on the same stack, so the ratio Node-RED / raw loop
is comparable with Aiguilleur's ``ack_only_ratio``.

Needs node and npm (and the npm registry on the first run). The test suite never runs it.
Results go to ``bench/results/nodered-<date>.json``; a short table is printed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from bench.e2e import QUICK, RESULTS, Bench, BenchStack, finish, fmt, machine, new_cast
from bench.e2e_procs import machine_busy_seconds, tree_usage
from bench.e2e_workload import MaildirWatcher, RequestFactory, Submitter
from deploy.mailstack import MailStackError, check_prerequisites

SCRATCH = Path("/tmp/aig-nodered")
PACKAGES = ("node-red", "node-red-node-email")
TAB_ID = "aig-tab"
IN_ID = "aig-imap-in"
ACK_ID = "aig-ack"
OUT_ID = "aig-smtp-out"
POLL_ID = "aig-poll"
FETCH_MODES = ("auto", "trigger")
# Poll interval of the trigger mode. 1 s is the editor's minimum. At 0.1 s node-red-node-email
# 5.2.5 crashed Node-RED ("Uncaught Exception: Not authenticated" in openBox): a finished
# poll's late 'end' event clears the node's busy flags while the next poll connects, a third
# connection replaces the shared `imap` variable, and the second one's 'ready' handler then
# opens the box on a connection not yet logged in.
POLL_S = 1.0
WARM_UP = 5
STALL_S = 60.0  # no new answer for this long: the rest will not come

# The function node: everything the acknowledgement needs comes from the "e-mail in" message
# (msg.from is the sender's address, msg.topic the subject, msg.header the parsed headers).
# A fresh message goes out, so the "e-mail" node's own reply logic (msg.header → "Re: ")
# does not apply and the subject is exactly ours.
ACK_FUNCTION = """\
const id = (msg.header && msg.header["message-id"]) || "";
if (!msg.from) { return null; }
return {
    to: msg.from,
    from: FROM,
    topic: "Accusé de réception - Re: " + (msg.topic || ""),
    inReplyTo: id,
    references: id,
    headers: { "Auto-Submitted": "auto-replied" },
    payload: "Bonjour,\\n\\nNous avons bien reçu votre message et le traitons.\\n\\n"
        + "Ce message est envoyé automatiquement, merci de ne pas y répondre.\\n",
};
"""


@dataclass(frozen=True)
class FlowTarget:
    """Where the flow reads and sends: the stack's ports and the gateway mailbox."""

    host: str
    imaps_port: int
    smtp_port: int
    login: str
    password: str
    reply_from: str


def build_flow(
    target: FlowTarget, fetch: str = "auto", poll: float = POLL_S
) -> tuple[list[dict[str, Any]], dict[str, dict[str, str]]]:
    """The flow (flows.json) and its credentials (flows_cred.json, unencrypted).

    ``fetch="auto"``: the node's default, one IMAP connection kept open, a SEARCH UNSEEN +
    FETCH on every IDLE notification. ``fetch="trigger"``: an inject node fires every ``poll``
    seconds and the node polls (connect, SEARCH UNSEEN, FETCH, mark read, log out); triggers that
    come while a poll runs are dropped by the node, so it polls back to back.
    """
    if fetch not in FETCH_MODES:
        raise ValueError(f"fetch must be one of {FETCH_MODES}, not {fetch!r}")
    func = f"const FROM = {json.dumps(target.reply_from)};\n" + ACK_FUNCTION
    flow: list[dict[str, Any]] = [
        {"id": TAB_ID, "type": "tab", "label": "Aiguilleur ack-only", "disabled": False},
        {
            "id": IN_ID,
            "type": "e-mail in",
            "z": TAB_ID,
            "name": "",
            "protocol": "IMAP",
            "server": target.host,
            "useSSL": True,  # implicit TLS on the IMAPS port
            "autotls": "never",
            "port": str(target.imaps_port),
            "authtype": "BASIC",
            "saslformat": True,
            "token": "",
            "box": "INBOX",
            "disposition": "Read",
            "criteria": "UNSEEN",
            "fetch": fetch,
            # In "auto" mode only the reconnect delay; 1.5 s is the node's floor.
            "repeat": "1.5",
            "inputs": 1 if fetch == "trigger" else 0,
            "x": 320,
            "y": 80,
            "wires": [[ACK_ID]],
        },
        {
            "id": ACK_ID,
            "type": "function",
            "z": TAB_ID,
            "name": "accusé de réception",
            "func": func,
            "outputs": 1,
            "timeout": 0,
            "noerr": 0,
            "initialize": "",
            "finalize": "",
            "libs": [],
            "x": 520,
            "y": 80,
            "wires": [[OUT_ID]],
        },
        {
            "id": OUT_ID,
            "type": "e-mail",
            "z": TAB_ID,
            # An empty name: a non-empty one would replace msg.to as the recipient.
            "name": "",
            "dname": "",
            "server": target.host,
            "port": str(target.smtp_port),
            # Postfix on loopback relays for mynetworks without AUTH (it offers none).
            "authtype": "NONE",
            "saslformat": True,
            "token": "",
            "secure": False,  # STARTTLS, as Aiguilleur's [smtp] tls = "starttls"
            "tls": True,  # rejectUnauthorized: verify Postfix's certificate
            "x": 720,
            "y": 80,
            "wires": [],
        },
    ]
    if fetch == "trigger":
        flow.insert(
            1,
            {
                "id": POLL_ID,
                "type": "inject",
                "z": TAB_ID,
                "name": "poll",
                "props": [{"p": "payload"}],
                "payload": "",
                "payloadType": "date",
                "topic": "",
                # The editor's shortest interval is 1 s; the flow file takes fractions, but
                # below that the node's reconnect race crashes Node-RED (see POLL_S).
                "repeat": f"{poll:g}",
                "crontab": "",
                "once": True,
                "onceDelay": 0.1,
                "x": 120,
                "y": 80,
                "wires": [[IN_ID]],
            },
        )
    credentials = {IN_ID: {"userid": target.login, "password": target.password}}
    return flow, credentials


def settings_js(user_dir: Path, port: int) -> str:
    """A settings file: no editor or admin API, HTTP on loopback only, plain credentials."""
    settings = {
        "userDir": str(user_dir),
        "flowFile": "flows.json",
        "flowFilePretty": True,
        # The flow holds a throwaway stack's passwords: no need for an encryption key.
        "credentialSecret": False,
        "uiHost": "127.0.0.1",
        "uiPort": port,
        "httpAdminRoot": False,
        "httpNodeRoot": False,
        "diagnostics": {"enabled": False, "ui": False},
        "telemetry": {"enabled": False, "updateNotification": False},
        "externalModules": {"autoInstall": False},
        # Product default, as Aiguilleur runs at its default "info" in bench.e2e.
        "logging": {"console": {"level": "info", "metrics": False, "audit": False}},
        "functionExternalModules": False,
    }
    return "module.exports = " + json.dumps(settings, indent=2) + ";\n"


def write_user_dir(
    user_dir: Path, target: FlowTarget, port: int, fetch: str, poll: float = POLL_S
) -> Path:
    """Write flows, credentials and settings; returns the settings path."""
    if user_dir.exists():
        shutil.rmtree(user_dir)
    user_dir.mkdir(parents=True)
    flow, credentials = build_flow(target, fetch, poll)
    (user_dir / "flows.json").write_text(json.dumps(flow, indent=2, ensure_ascii=False) + "\n")
    (user_dir / "flows_cred.json").write_text(json.dumps(credentials, indent=2) + "\n")
    settings = user_dir / "settings.js"
    settings.write_text(settings_js(user_dir, port))
    return settings


# ------------------------------------------------------------------------------ install


def _package_version(scratch: Path, name: str) -> str | None:
    try:
        data = json.loads((scratch / "node_modules" / name / "package.json").read_text())
    except (OSError, ValueError):
        return None
    version = data.get("version") if isinstance(data, dict) else None
    return str(version) if version else None


def install(scratch: Path) -> dict[str, str]:
    """npm-install Node-RED and the e-mail nodes into ``scratch`` unless already there."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} not found: this optional bench needs Node.js and npm")
    scratch.mkdir(parents=True, exist_ok=True)
    if any(_package_version(scratch, p) is None for p in PACKAGES):
        if not (scratch / "package.json").exists():
            (scratch / "package.json").write_text('{"name": "aig-nodered", "private": true}\n')
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", *PACKAGES],
            cwd=scratch,
            check=True,
            timeout=900,
        )
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True)
    versions = {"node": node.stdout.strip().lstrip("v")}
    for name in PACKAGES:
        versions[name] = _package_version(scratch, name) or "?"
    return versions


# ------------------------------------------------------------------------------ process


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class NodeRed:
    """One Node-RED process (its own session, so it is stopped as a group)."""

    scratch: Path
    user_dir: Path
    settings: Path
    log_path: Path
    ca_path: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> int:
        red = self.scratch / "node_modules" / "node-red" / "red.js"
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    "node",
                    str(red),
                    "--userDir",
                    str(self.user_dir),
                    "--settings",
                    str(self.settings),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                # Trust the stack's private CA, as Aiguilleur's ca_file does.
                env={**os.environ, "NODE_EXTRA_CA_CERTS": str(self.ca_path)},
                start_new_session=True,
            )
        return self.proc.pid

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def wait_started(self, timeout: float = 120.0) -> float:
        """Until the runtime says its flows started; returns how long it took."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"Node-RED exited during start-up; see {self.log_path}")
            if "Started flows" in self.log():
                return time.monotonic() - started
            time.sleep(0.1)
        raise RuntimeError(f"Node-RED flows not started in {timeout}s; see {self.log_path}")

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=timeout)
        # Anything left in its group (there should be nothing) goes too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        return self.proc.wait(timeout=10)


def log_counts(text: str) -> dict[str, int]:
    """Error and warning lines of the Node-RED log (send failures, IMAP errors)."""
    lines = text.splitlines()
    return {
        "errors": sum(1 for line in lines if "[error]" in line),
        "warnings": sum(1 for line in lines if "[warn]" in line),
        "uncaught": sum(1 for line in lines if "Uncaught Exception" in line),
    }


def log_errors(text: str, top: int = 5) -> dict[str, int]:
    """The most frequent error messages, e.g. {"[e-mail:…] Error: Greeting never received": 9}."""
    counts: dict[str, int] = {}
    for line in text.splitlines():
        if "[error]" in line:
            message = line.split("[error]", 1)[1].strip()[:160]
            counts[message] = counts.get(message, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1])[:top])


# ------------------------------------------------------------------------------ bench


def wait_quiet(watcher: MaildirWatcher, *, quiet: float = 3.0, limit: float = 120.0) -> None:
    """Until no new mail arrived for ``quiet`` seconds: late duplicates are counted too."""
    deadline = time.monotonic() + limit
    seen, since = watcher.total(), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < quiet:
        time.sleep(0.1)
        now = watcher.total()
        if now != seen:
            seen, since = now, time.monotonic()


@dataclass(frozen=True)
class Progress:
    """Clocks read when the last new answer was seen: a stalled run's figures stop there."""

    at: float  # time.time()
    busy: float  # machine_busy_seconds()
    own: float  # time.process_time()
    cpu: float  # Node-RED's tree CPU seconds

    @classmethod
    def now(cls, pid: int) -> Progress:
        return cls(
            time.time(), machine_busy_seconds(), time.process_time(), tree_usage(pid).cpu_seconds
        )


def wait_answers(
    watcher: MaildirWatcher,
    ids: Sequence[str],
    red: NodeRed,
    *,
    timeout: float,
    stall: float = STALL_S,
) -> tuple[str, Progress]:
    """Until every request is answered ("complete"), Node-RED exits ("exited"), no new
    request is answered for ``stall`` seconds ("stalled": the node marks a message read
    before sending its reply, so a failed send is never retried) or ``timeout``.
    Returns how it ended and the clocks at the last progress."""
    deadline = time.monotonic() + timeout
    count, since = watcher.answered(ids), time.monotonic()
    progress = Progress.now(red.pid)
    while count < len(ids):
        if not red.alive():
            return "exited", progress
        now = time.monotonic()
        if now > deadline:
            return "timeout", progress
        if now - since > stall:
            return "stalled", progress
        time.sleep(0.05)
        if (fresh := watcher.answered(ids)) != count:
            count, since = fresh, time.monotonic()
            progress = Progress.now(red.pid)
    return "complete", progress


def measure_nodered(
    stack: BenchStack,
    scratch: Path,
    workdir: Path,
    n: int,
    factory: RequestFactory,
    fetch: str,
    poll: float = POLL_S,
) -> dict[str, Any]:
    cast = new_cast(stack, f"nodered-{fetch}")
    gateway = cast.gateways[0]
    target = FlowTarget(
        stack.host,
        stack.imaps_port,
        stack.smtp_port,
        gateway.login,
        gateway.password,
        gateway.address,
    )
    user_dir = scratch / f"user-{fetch}"
    settings = write_user_dir(user_dir, target, free_port(), fetch, poll)
    log_path = workdir / f"node-red-{fetch}.log"
    red = NodeRed(scratch, user_dir, settings, log_path, stack.ca_path)
    submitter = Submitter(stack.host, stack.smtp_port)
    red.start()
    try:
        startup = red.wait_started()
        # Warm-up: the IMAP side is connected and a few acks went all the way round.
        t0 = time.monotonic()
        warm = cast.requests(factory, WARM_UP, kind="ack_only")
        acks = MaildirWatcher(cast.sender_folders(stack)).start()
        submitter.submit(warm)
        if not acks.wait_for([r.message_id for r in warm], timeout=120):
            raise RuntimeError(f"Node-RED answered no warm-up request; see {log_path}")
        wait_quiet(acks, quiet=1.0)
        acks.stop()
        warm_up = time.monotonic() - t0

        requests = cast.requests(factory, n, kind="ack_only")
        ids = [r.message_id for r in requests]
        acks = MaildirWatcher(cast.sender_folders(stack)).baseline().start()
        usage0 = tree_usage(red.pid)
        busy0, own0 = machine_busy_seconds(), time.process_time()
        started = time.time()
        thread, _ = submitter.submit_in_thread(requests)
        thread.join()
        submitted = time.time()
        timeout = max(300.0, n * 0.5)
        ended, progress = wait_answers(acks, ids, red, timeout=timeout)
        complete = ended == "complete"
        # Then until the mail stops: duplicates (a message fetched twice) keep coming.
        wait_quiet(acks)
        usage2 = tree_usage(red.pid)
        acks.stop()
        alive = red.alive()
    finally:
        code = red.stop()
    answered = acks.answered(ids)
    last = max((acks.first_reply_at(i) or 0.0) for i in ids)
    seconds = last - started
    # Up to the last new answer (all of them when complete): a stall's idle wait is left out.
    window = progress.at - started
    cpu = progress.cpu - usage0.cpu_seconds
    busy, own = progress.busy - busy0, progress.own - own0
    cpu_all = usage2.cpu_seconds - usage0.cpu_seconds

    def when_complete(value: float) -> float | None:
        return round(value, 2) if complete else None

    return {
        "fetch": fetch,
        "requests": n,
        "complete": complete,
        "ended": ended,
        "timeout_s": timeout,
        "answered": answered,
        "unanswered": n - answered,
        "startup_s": round(startup, 2),
        "warm_up_s": round(warm_up, 2),
        "seconds": round(seconds, 3),
        "rate_per_s": when_complete(n / seconds),
        "cpu_window_s": round(window, 3),
        # What it answered, per second up to its last answer (equals rate_per_s if complete).
        "answered_rate_per_s": round(answered / seconds, 2) if seconds > 0 else None,
        "submission_rate_per_s": round(n / (submitted - started), 2),
        "duplicate_replies": acks.duplicates(ids),
        "mails_sent": acks.total(),
        "all_mail_out_s": round(acks.last_at() - started, 3),
        # Node-RED's process tree over cpu_window_s, per request submitted.
        "cpu_ms_per_request": round(cpu / n * 1000, 2),
        # The same until the mail stopped (duplicates cost too); a stalled run's wait is in.
        "cpu_ms_per_request_all_mail": when_complete(cpu_all / n * 1000),
        "node_cpu_busy_percent": round(100 * cpu / window, 1),
        "machine_cpu_s_per_1000": round(busy / n * 1000, 2),
        "machine_cpu_busy_percent": round(100 * busy / window / (os.cpu_count() or 1), 1),
        # The machine less Node-RED and this process: mostly Postfix and Dovecot.
        "servers_cpu_s_per_1000": round((busy - own - cpu) / n * 1000, 2),
        "rss_mb": round(usage2.rss_bytes / 2**20, 1),
        "vmhwm_mb": round(usage2.hwm_bytes / 2**20, 1),
        "processes": usage2.pids,
        "alive_at_end": alive,
        "exit_code": code,
        "log": log_counts(red.log()),
        "log_errors": log_errors(red.log()),
    }


def latest_e2e_reference() -> dict[str, Any] | None:
    """Aiguilleur's ack-only figures from the newest full e2e results file (another run)."""
    for path in sorted(RESULTS.glob("e2e-*.json"), key=lambda p: p.stat().st_mtime, reverse=True):
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(path.read_text(encoding="utf-8"))
            ack = (data.get("ack_only") or {}).get("aiguilleur")
            if data.get("mode") == "full" and ack:
                return {
                    "file": path.name,
                    "requests": ack.get("requests"),
                    "rate_per_s": ack.get("rate_per_s"),
                    "ack_only_ratio": ack.get("ack_only_ratio"),
                    "cpu_s_per_1000": ack.get("cpu_s_per_1000"),
                    "duplicate_replies": ack.get("duplicate_replies"),
                    "note": "measured by bench.e2e in another run, not in this one",
                }
    return None


def run(args: argparse.Namespace) -> dict[str, Any]:
    scratch = Path(args.scratch).resolve()
    versions = install(scratch)
    check_prerequisites()
    base = Path(tempfile.mkdtemp(prefix="aig-bench-nodered-"))
    base.chmod(0o755)  # Dovecot's unprivileged mail processes traverse it
    stack = BenchStack(base / "stack")
    factory = RequestFactory()
    results: dict[str, Any] = {
        "bench": "nodered",
        "date": date.today().isoformat(),
        "machine": machine(),
        "versions": versions,
        "n": args.n,
        "fetch_modes": list(FETCH_MODES) if args.fetch == "both" else [args.fetch],
        "workload": "ack_only: one signalement in the body for a patient outside the "
        "territory; the only mail it causes is the acknowledgement to its sender",
        "flow": "e-mail in (IMAPS, UNSEEN, mark Read; fetch=auto: IDLE on one connection, "
        f"fetch=trigger: an inject every {args.poll:g} s, one poll at a time) → function "
        "(To=From, subject 'Accusé de réception - Re: …', In-Reply-To=Message-ID) → "
        "e-mail (SMTP STARTTLS, no auth); Node-RED logging at its default 'info'",
        "tls": {
            "smtp_out": "verified: tls (rejectUnauthorized) on, stack CA via NODE_EXTRA_CA_CERTS",
            "imap_in": "not verified: node-red-node-email hard-codes "
            "tlsOptions.rejectUnauthorized=false for IMAP (encrypted, CA not checked)",
        },
    }
    results["notes"] = [
        "rate_per_s = requests / (last first reply - first submission), only when every "
        "request was answered; answered_rate_per_s counts what was answered otherwise",
        "the e-mail node opens one SMTP connection per reply (no pool option), all at once: "
        "past Postfix's 100 smtpd processes, waiting connections hit nodemailer's 30 s "
        "greeting timeout ('Greeting never received')",
        "e-mail in marks a message read when it fetches it, before the reply is sent: a "
        "failed send is not retried, the request stays unanswered",
        "fetch=auto runs a SEARCH UNSEEN per IDLE notification, queued before the previous "
        "fetch marks its messages read: a burst is fetched, and answered, several times",
        "fetch=trigger polls every --poll seconds on a new IMAPS connection; at 0.1 s "
        "node-red-node-email 5.2.5 crashed Node-RED (Uncaught Exception: Not authenticated)",
    ]
    started = time.monotonic()
    try:
        stack.start()
        work = base / "work"
        work.mkdir()
        results["nodered"] = {}
        for fetch in FETCH_MODES if args.fetch == "both" else (args.fetch,):
            results["nodered"][fetch] = measure_nodered(
                stack, scratch, work, args.n, factory, fetch
            )
        # The raw loop right after, same stack and workload: the yardstick for the ratio.
        bench = Bench(stack, work, replace(QUICK, n=args.n), factory=factory)
        results["raw_loop"] = bench.raw(workload="ack_only")
        for run_result in results["nodered"].values():
            rate = run_result["rate_per_s"]
            raw_rate = results["raw_loop"]["rate_per_s"]
            run_result["ratio_to_raw"] = round(rate / raw_rate, 3) if rate else None
        results["aiguilleur_reference"] = latest_e2e_reference()
        results["duration_s"] = round(time.monotonic() - started, 1)
    finally:
        with contextlib.suppress(MailStackError):
            stack.stop()
        for log in (base / "work").glob("node-red-*.log"):
            # Kept next to the install for a look after the run.
            shutil.copy(log, scratch / log.name.replace(".log", "-last.log"))
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return results


# ------------------------------------------------------------------------------ report


def table(results: dict[str, Any]) -> str:
    raw = results.get("raw_loop") or {}
    ref = results.get("aiguilleur_reference") or {}
    versions = results.get("versions") or {}
    rows = [
        (
            "versions",
            f"node-red {versions.get('node-red')}, node-red-node-email "
            f"{versions.get('node-red-node-email')}, node {versions.get('node')}",
        )
    ]
    for fetch, red in (results.get("nodered") or {}).items():
        log = red.get("log") or {}
        rows += [
            (f"node-red fetch={fetch} rate (req/s)", fmt(red.get("rate_per_s"))),
            (
                "  ended / answered / answered per s",
                f"{red.get('ended')} / {red.get('answered')} / "
                f"{fmt(red.get('answered_rate_per_s'))}",
            ),
            ("  duplicate replies", fmt(red.get("duplicate_replies"))),
            (
                "  CPU ms / request (to answered, all mail)",
                f"{fmt(red.get('cpu_ms_per_request'))}, "
                f"{fmt(red.get('cpu_ms_per_request_all_mail'))}",
            ),
            ("  machine CPU busy %", fmt(red.get("machine_cpu_busy_percent"))),
            (
                "  log errors / uncaught exceptions",
                f"{log.get('errors')} / {log.get('uncaught')}",
            ),
            ("  ratio to raw loop", fmt(red.get("ratio_to_raw"))),
        ]
    rows.append(("raw loop ack-only rate (req/s)", fmt(raw.get("rate_per_s"))))
    if ref:
        rows.append(
            (
                f"aiguilleur ack-only ratio ({ref.get('file')})",
                f"{fmt(ref.get('ack_only_ratio'))} ({fmt(ref.get('rate_per_s'))} req/s)",
            )
        )
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Node-RED peer bench, ack-only (optional).")
    parser.add_argument("--n", type=int, default=1000, help="requests in the measured run")
    parser.add_argument("--output", type=Path, default=None, help="results file")
    parser.add_argument("--scratch", type=Path, default=SCRATCH, help="npm install directory")
    parser.add_argument(
        "--fetch",
        choices=(*FETCH_MODES, "both"),
        default="both",
        help="e-mail in mode: auto (IDLE, the node's default), trigger (polled), or both",
    )
    parser.add_argument(
        "--poll", type=float, default=POLL_S, help="trigger mode: seconds between polls"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so the finally blocks stop Node-RED and the stack.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    results = run(args)
    return finish(results, args.output, f"nodered-{results['date']}.json", table)


if __name__ == "__main__":
    sys.exit(main())
