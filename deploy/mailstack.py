"""Dev/test mail stack: Dovecot (IMAP, IMAPS, LMTP) and Postfix (SMTP) on loopback.

Everything lives under one base directory and listens on free 127.0.0.1 ports, so
several stacks can run side by side and none touches the system services. It needs
root (Postfix and Dovecot drop privileges themselves) and the Debian packages
``dovecot-imapd dovecot-lmtpd postfix``.

Library use::

    with MailStack(Path("/tmp/stack")) as stack:
        user = stack.add_user("secretariat@cpts.test")

Command line (prints the ports as JSON, runs until SIGTERM or Ctrl-C)::

    python deploy/mailstack.py start --dir /tmp/stack

Standalone on purpose: stdlib, ``trustme`` and ``cryptography`` only.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import grp
import json
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import trustme

__all__ = ["MailStack", "MailStackError", "MailStackUnavailableError", "MailUser", "main"]

DEFAULT_DOMAINS: tuple[str, ...] = ("cpts.test", "medecin.test")
MAIL_SYSTEM_USER = "aigmail"
POSTFIX_MAIN_CF = Path("/etc/postfix/main.cf")
POSTFIX_CONF_DIRNAME = "aig-postfix"  # suffix used to recognise our stale entries
DOVECOT_DH = Path("/usr/share/dovecot/dh.pem")
READY_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
_POLL = 0.02
_LOCK_PATH = Path(tempfile.gettempdir()) / "aiguilleur-mailstack.lock"
_DOMAIN_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")
_LOCAL_RE = re.compile(r"^[a-z0-9][a-z0-9._+-]*$")
_FOLDER_RE = re.compile(r"^[A-Za-z0-9 _-]+(/[A-Za-z0-9 _-]+)*$")


class MailStackError(RuntimeError):
    """The mail stack could not be set up, started or stopped."""


class MailStackUnavailableError(MailStackError):
    """A prerequisite is missing (binaries, root): the stack cannot run on this host."""


@dataclass(frozen=True)
class MailUser:
    """A mailbox of the stack; ``login`` is the full address."""

    login: str
    password: str
    address: str


def check_prerequisites() -> None:
    """Raise MailStackUnavailableError when this host cannot run the stack."""
    if os.geteuid() != 0:
        raise MailStackUnavailableError(
            "the mail stack needs root (Postfix and Dovecot drop privileges)"
        )
    missing = [name for name in ("dovecot", "postfix", "postconf") if _which(name) is None]
    if missing:
        raise MailStackUnavailableError(
            f"missing binaries {missing}: apt-get install dovecot-imapd dovecot-lmtpd postfix"
        )
    for user in ("dovecot", "dovenull", "postfix"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            raise MailStackUnavailableError(f"system user {user!r} is missing") from None
    try:
        grp.getgrnam("postdrop")
    except KeyError:
        raise MailStackUnavailableError("system group 'postdrop' is missing") from None


class MailStack:
    """Dovecot and Postfix for one base directory, on free loopback ports."""

    host: str = "127.0.0.1"

    def __init__(self, base_dir: Path, domains: Sequence[str] = DEFAULT_DOMAINS) -> None:
        if not domains:
            raise MailStackError("at least one domain is needed")
        for domain in domains:
            if not _DOMAIN_RE.match(domain):
                raise MailStackError(f"invalid domain {domain!r}")
        self.base_dir = Path(base_dir).resolve()
        self.domains: tuple[str, ...] = tuple(domains)
        self._users: dict[str, MailUser] = {}
        self._lock = threading.Lock()
        # Ports are chosen once so that restarts keep them; the sockets are held together
        # so one stack never gets the same port twice.
        self.smtp_port, self.imaps_port, self.imap_port, self.lmtp_port = _free_ports(4)
        tls = self.base_dir / "tls"
        self.ca_path = tls / "ca.pem"
        self._server_cert = tls / "server-chain.pem"
        self._server_key = tls / "server.key"
        self._client_dir = tls / "clients"
        dc = self.base_dir / "dovecot"
        self._dc_dir = dc
        self._dc_conf = dc / "dovecot.conf"
        self._dc_users = dc / "users.d"
        self._dc_log = dc / "dovecot.log"
        self._dc_stderr = dc / "stderr.log"
        self._dc_run = dc / "run"
        self._dc_state = dc / "state"
        self._mail_root = self.base_dir / "mail"
        pf = self.base_dir / "postfix"
        self._pf_dir = pf
        self._pf_conf = pf / POSTFIX_CONF_DIRNAME
        self._pf_queue = pf / "queue"
        self._pf_data = pf / "data"
        self._pf_log = pf / "postfix.log"
        self._ca: trustme.CA | None = None
        self._dovecot: subprocess.Popen[bytes] | None = None
        self._dovecot_pids: set[int] = set()
        self._postfix_pids: set[int] = set()
        self._prepared = False
        self._registered = False

    # ----------------------------------------------------------------- public API

    def add_user(self, address: str, password: str = "secret") -> MailUser:  # noqa: S107
        """Create a mailbox; Dovecot re-reads the passwd-file, so this works while running."""
        address = address.strip().lower()
        local, _, domain = address.partition("@")
        if not _LOCAL_RE.match(local) or domain not in self.domains:
            raise MailStackError(f"{address!r} is not an address in {list(self.domains)}")
        if not password or any(c in password for c in ":\r\n\0"):
            raise MailStackError("password must be non-empty, without ':' or line breaks")
        user = MailUser(login=address, password=password, address=address)
        with self._lock:
            self._users[address] = user
            if self._prepared:
                self._write_users()
        return user

    @property
    def users(self) -> tuple[MailUser, ...]:
        return tuple(self._users.values())

    def start(self) -> None:
        """Start Dovecot then Postfix; on failure stop both and raise with the log tails."""
        check_prerequisites()
        self._prepare()
        try:
            self._start_dovecot()
            self.start_postfix()
        except BaseException:
            with contextlib.suppress(MailStackError):
                self.stop()
            raise

    def stop(self) -> None:
        """Stop both servers and check that none of their processes is left."""
        errors: list[str] = []
        for step in (self.stop_postfix, self._stop_dovecot):
            try:
                step()
            except MailStackError as exc:
                errors.append(str(exc))
        if errors:
            raise MailStackError("; ".join(errors))

    def start_postfix(self) -> None:
        if self._postfix_master_pid() is not None:
            return
        self._register_postfix_dir()
        if (self._pf_queue / "pid").is_dir():
            # Postfix's own quick-start flag: skip the integrity checks (about 0.5 s) once
            # the first start has created the queue directories.
            (self._pf_queue / "quick-start").touch()
        self._run(["postfix", "-c", str(self._pf_conf), "start"], what="postfix start")
        pid = self._postfix_master_pid()
        if pid is None:
            raise self._failure("postfix did not write its master pid")
        self._postfix_pids = {pid}
        self._wait_ready(
            [(self.smtp_port, b"220")],
            alive=lambda: _pid_alive(pid),
            what="postfix",
        )
        self._postfix_pids |= _descendants(pid)

    def stop_postfix(self) -> None:
        pid = self._postfix_master_pid()
        if pid is not None:
            self._postfix_pids |= {pid} | _descendants(pid)
            # What `postfix stop` does, minus its one-second sleeps.
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        self._reap(self._postfix_pids, "postfix")
        self._postfix_pids = set()
        self._unregister_postfix_dir()

    def restart_dovecot(self) -> None:
        """Really stop and start Dovecot: open IMAP connections drop."""
        self._stop_dovecot()
        self._start_dovecot()

    def issue_client_cert(self, name: str) -> tuple[Path, Path]:
        """Issue a client certificate signed by the stack CA: (cert chain path, key path)."""
        if not re.fullmatch(r"[A-Za-z0-9@._-]+", name):
            raise MailStackError(f"invalid client certificate name {name!r}")
        ca = self._ensure_ca()
        leaf = ca.issue_cert(name, common_name=name)
        self._client_dir.mkdir(parents=True, exist_ok=True)
        cert_path = self._client_dir / f"{name}.pem"
        key_path = self._client_dir / f"{name}.key"
        _write_private(key_path, leaf.private_key_pem.bytes())
        cert_path.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
        return cert_path, key_path

    def maildir(self, user: MailUser, folder: str = "INBOX") -> Path:
        """Maildir++ directory of a folder (ASCII names, '/' as hierarchy separator)."""
        local, _, domain = user.address.partition("@")
        root = self._mail_root / domain / local / "Maildir"
        if folder.upper() == "INBOX":
            return root
        if not _FOLDER_RE.match(folder):
            raise MailStackError(f"unsupported folder name {folder!r}")
        return root / ("." + folder.replace("/", "."))

    @property
    def dovecot_pid(self) -> int | None:
        proc = self._dovecot
        return proc.pid if proc is not None and proc.poll() is None else None

    @property
    def postfix_pid(self) -> int | None:
        return self._postfix_master_pid()

    @property
    def running_pids(self) -> frozenset[int]:
        """Pids of the stack's server processes that are still alive."""
        pids = set(self._dovecot_pids) | set(self._postfix_pids)
        if self._dovecot is not None:
            pids |= {self._dovecot.pid} | _descendants(self._dovecot.pid)
        pf = self._postfix_master_pid()
        if pf is not None:
            pids |= {pf} | _descendants(pf)
        return frozenset(p for p in pids if _pid_alive(p))

    @property
    def log_paths(self) -> dict[str, Path]:
        return {"dovecot": self._dc_log, "dovecot-stderr": self._dc_stderr, "postfix": self._pf_log}

    def describe(self) -> dict[str, object]:
        return {
            "host": self.host,
            "smtp_port": self.smtp_port,
            "imaps_port": self.imaps_port,
            "imap_port": self.imap_port,
            "lmtp_port": self.lmtp_port,
            "ca_path": str(self.ca_path),
            "base_dir": str(self.base_dir),
            "domains": list(self.domains),
            "users": [{"login": u.login, "password": u.password} for u in self._users.values()],
            "logs": {k: str(v) for k, v in self.log_paths.items()},
        }

    def __enter__(self) -> MailStack:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ set-up

    def _prepare(self) -> None:
        if self._prepared:
            return
        uid, gid = _ensure_mail_system_user()
        self.base_dir.mkdir(parents=True, exist_ok=True)
        # Dovecot's mail processes run as an unprivileged uid: they must reach the mail root.
        os.chmod(self.base_dir, 0o755)  # noqa: S103 - read-only traversal, see above
        _check_traversable(self.base_dir)
        for d in (self._dc_dir, self._pf_dir, self._pf_conf, self._client_dir):
            d.mkdir(parents=True, exist_ok=True)
        self._mail_root.mkdir(exist_ok=True)
        os.chown(self._mail_root, uid, gid)
        os.chmod(self._mail_root, 0o700)
        self._write_tls()
        with self._lock:
            self._write_users()
            self._prepared = True
        self._dc_conf.write_text(self._dovecot_conf(uid, gid))
        self._pf_queue.mkdir(exist_ok=True)
        self._pf_data.mkdir(exist_ok=True)
        postfix = pwd.getpwnam("postfix")
        os.chown(self._pf_data, postfix.pw_uid, postfix.pw_gid)
        (self._pf_conf / "main.cf").write_text(self._postfix_main_cf())
        (self._pf_conf / "master.cf").write_text(self._postfix_master_cf())
        _age(self._pf_conf / "main.cf", self._pf_conf / "master.cf")

    def _ensure_ca(self) -> trustme.CA:
        if self._ca is None:
            self._ca = trustme.CA()
        return self._ca

    def _write_tls(self) -> None:
        ca = self._ensure_ca()
        self.ca_path.parent.mkdir(parents=True, exist_ok=True)
        ca.cert_pem.write_to_path(str(self.ca_path))
        leaf = ca.issue_cert("localhost", "127.0.0.1")
        self._server_cert.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
        _write_private(self._server_key, leaf.private_key_pem.bytes())

    def _write_users(self) -> None:
        """One passwd-file per user: Dovecot re-stats a passwd-file at most once a second,
        so a single shared file would hide users added in the same second."""
        self._dc_users.mkdir(exist_ok=True)
        dovecot_gid = pwd.getpwnam("dovecot").pw_gid
        os.chown(self._dc_users, 0, dovecot_gid)
        os.chmod(self._dc_users, 0o750)  # noqa: S103 - group dovecot reads, nobody else
        for user in self._users.values():
            path = self._dc_users / user.login
            line = f"{user.login}:{{PLAIN}}{user.password}::::::\n".encode()
            if path.exists() and path.read_bytes() == line:
                continue
            tmp = path.with_name(path.name + ".tmp")
            _write_private(tmp, line)
            # Dovecot's auth process reads it as the 'dovecot' user.
            os.chown(tmp, 0, dovecot_gid)
            os.chmod(tmp, 0o640)
            os.replace(tmp, path)

    def _dovecot_conf(self, uid: int, gid: int) -> str:
        dh = f"ssl_dh = <{DOVECOT_DH}\n" if DOVECOT_DH.exists() else ""
        return f"""\
# Generated by deploy/mailstack.py for a throwaway test stack.
instance_name = aig-mailstack-{self.imaps_port}
base_dir = {self._dc_run}
state_dir = {self._dc_state}
log_path = {self._dc_log}
info_log_path = {self._dc_log}
protocols = imap lmtp
listen = 127.0.0.1
ssl = yes
ssl_cert = <{self._server_cert}
ssl_key = <{self._server_key}
{dh}ssl_min_protocol = TLSv1.2
# Plaintext auth only after TLS (Dovecot also treats loopback as secured).
disable_plaintext_auth = yes
auth_mechanisms = plain login
auth_verbose = yes
mail_location = maildir:~/Maildir
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = {uid}
first_valid_gid = {gid}
default_internal_user = dovecot
default_login_user = dovenull
postmaster_address = postmaster@{self.domains[0]}
mailbox_idle_check_interval = 1 secs
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu {self._dc_users}/%Lu
}}
userdb {{
  driver = passwd-file
  args = username_format=%Lu {self._dc_users}/%Lu
  default_fields = uid={uid} gid={gid} home={self._mail_root}/%Ld/%Ln
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.imaps_port}
    ssl = yes
  }}
}}
# Tests log in with wrong passwords from 127.0.0.1: no penalty for later logins.
auth_failure_delay = 0
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {self.lmtp_port}
  }}
}}
"""

    def _postfix_main_cf(self) -> str:
        return f"""\
# Generated by deploy/mailstack.py for a throwaway test stack.
compatibility_level = 3.6
queue_directory = {self._pf_queue}
data_directory = {self._pf_data}
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
mail_owner = postfix
setgid_group = postdrop
syslog_name = postfix-aig
# No syslog socket here: postlogd writes this file.
maillog_file = {self._pf_log}
maillog_file_prefixes = {self._pf_dir}
myhostname = mailstack.localhost
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
virtual_mailbox_domains = {" ".join(self.domains)}
virtual_transport = lmtp:inet:127.0.0.1:{self.lmtp_port}
# Nothing leaves the stack: other domains bounce at once.
default_transport = error:the test mail stack only delivers to its own domains
relay_transport = $default_transport
local_transport = $default_transport
smtpd_tls_security_level = may
smtpd_tls_cert_file = {self._server_cert}
smtpd_tls_key_file = {self._server_key}
message_size_limit = 52428800
biff = no
append_dot_mydomain = no
readme_directory = no
"""

    def _postfix_master_cf(self) -> str:
        rows = [
            f"127.0.0.1:{self.smtp_port} inet n - n - - smtpd",
            "pickup unix n - n 60 1 pickup",
            "cleanup unix n - n - 0 cleanup",
            "qmgr unix n - n 300 1 qmgr",
            "tlsmgr unix - - n 1000? 1 tlsmgr",
            "rewrite unix - - n - - trivial-rewrite",
            "bounce unix - - n - 0 bounce",
            "defer unix - - n - 0 bounce",
            "trace unix - - n - 0 bounce",
            "verify unix - - n - 1 verify",
            "flush unix n - n 1000? 0 flush",
            "proxymap unix - - n - - proxymap",
            "proxywrite unix - - n - 1 proxymap",
            "smtp unix - - n - - smtp",
            "relay unix - - n - - smtp",
            "showq unix n - n - - showq",
            "error unix - - n - - error",
            "retry unix - - n - - error",
            "discard unix - - n - - discard",
            "lmtp unix - - n - - lmtp",
            "anvil unix - - n - 1 anvil",
            "scache unix - - n - 1 scache",
            "postlog unix-dgram n - n - 1 postlogd",
        ]
        return (
            "# Generated by deploy/mailstack.py; chroot off everywhere.\n" + "\n".join(rows) + "\n"
        )

    # ------------------------------------------------------------------ dovecot

    def _start_dovecot(self) -> None:
        if self._dovecot is not None and self._dovecot.poll() is None:
            return
        with self._dc_stderr.open("ab") as err:
            # -F: stay in the foreground so we own the master pid; own session so a
            # Ctrl-C in the terminal reaches us, not Dovecot.
            proc = subprocess.Popen(
                ["dovecot", "-F", "-c", str(self._dc_conf)],
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
                start_new_session=True,
            )
        self._dovecot = proc
        self._dovecot_pids = {proc.pid}
        self._wait_ready(
            [(self.imap_port, b"* OK"), (self.lmtp_port, b"220"), (self.imaps_port, None)],
            alive=lambda: proc.poll() is None,
            what="dovecot",
        )

    def _stop_dovecot(self) -> None:
        proc = self._dovecot
        if proc is not None:
            self._dovecot_pids |= {proc.pid} | _descendants(proc.pid)
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=STOP_TIMEOUT)
        # The master is gone: whatever is left of its tree is a straggler.
        self._reap(self._dovecot_pids, "dovecot", wait_first=False)
        self._dovecot = None
        self._dovecot_pids = set()

    # ------------------------------------------------------------------ postfix

    def _postfix_master_pid(self) -> int | None:
        try:
            text = (self._pf_queue / "pid" / "master.pid").read_text().strip()
        except OSError:
            return None
        if not text.isdigit():
            return None
        pid = int(text)
        if not _pid_alive(pid) or _proc_name(pid) != "master":
            return None
        return pid

    def _register_postfix_dir(self) -> None:
        """List our config dir in /etc/postfix/main.cf, which `postfix -c` requires."""
        if self._registered:
            return
        _edit_alternate_config_dirs(add=str(self._pf_conf), remove=None)
        self._registered = True

    def _unregister_postfix_dir(self) -> None:
        if not self._registered:
            return
        _edit_alternate_config_dirs(add=None, remove=str(self._pf_conf))
        self._registered = False

    # ------------------------------------------------------------------ helpers

    def _run(self, argv: list[str], *, what: str, register: bool = False) -> None:
        if register:
            self._register_postfix_dir()
        try:
            done = subprocess.run(argv, capture_output=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise self._failure(f"{what} failed: {exc}") from exc
        if done.returncode != 0:
            output = (done.stdout + done.stderr).decode(errors="replace").strip()
            raise self._failure(f"{what} exited with {done.returncode}: {output}")

    def _wait_ready(
        self,
        probes: list[tuple[int, bytes | None]],
        *,
        alive: Callable[[], bool],
        what: str,
    ) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        pending = list(probes)
        while pending:
            if not alive():
                raise self._failure(f"{what} exited during start-up")
            port, banner = pending[0]
            if _probe(self.host, port, banner):
                pending.pop(0)
                continue
            if time.monotonic() > deadline:
                raise self._failure(
                    f"{what} not ready on {self.host}:{port} after {READY_TIMEOUT:.0f}s"
                )
            time.sleep(_POLL)

    def _reap(self, pids: set[int], what: str, *, wait_first: bool = True) -> None:
        """Make every recorded process exit: master first, then stragglers get SIGTERM
        (under gVisor, Dovecot's children outlive their master), then SIGKILL."""
        first_grace = STOP_TIMEOUT if wait_first else 0.2
        for sig, grace in ((None, first_grace), (signal.SIGTERM, 2.0), (signal.SIGKILL, 2.0)):
            alive = {p for p in pids if _pid_alive(p)}
            if sig is not None:
                for p in alive:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(p, sig)
            deadline = time.monotonic() + grace
            while alive and time.monotonic() < deadline:
                time.sleep(_POLL)
                alive = {p for p in alive if _pid_alive(p)}
            if not alive:
                return
        raise self._failure(f"{what} processes still running: {sorted(alive)}")

    def _failure(self, message: str) -> MailStackError:
        parts = [message]
        for name, path in self.log_paths.items():
            tail = _tail(path)
            if tail:
                parts.append(f"--- {name} log ({path}) ---\n{tail}")
        return MailStackError("\n".join(parts))


# ---------------------------------------------------------------------- utilities


def _which(name: str) -> str | None:
    found = shutil.which(name)
    if found is None:
        for d in ("/usr/sbin", "/sbin", "/usr/bin"):
            candidate = Path(d) / name
            if candidate.exists():
                return str(candidate)
    return found


def _free_ports(count: int) -> list[int]:
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _probe(host: str, port: int, banner: bytes | None) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0) as s:
            if banner is None:
                return True
            data = b""
            while b"\n" not in data and len(data) < 512:
                chunk = s.recv(512)
                if not chunk:
                    return False
                data += chunk
            return data.startswith(banner)
    except OSError:
        return False


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)


def _age(*paths: Path) -> None:
    """Backdate mtimes: Postfix waits (0.3 s steps) while main.cf looks freshly written."""
    past = time.time() - 10
    for path in paths:
        os.utime(path, (past, past))


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, ppid) from /proc, or None when the process is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def _proc_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _pid_alive(pid: int) -> bool:
    info = _proc_stat(pid)
    return info is not None and info[0] not in ("Z", "X")


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            info = _proc_stat(int(entry))
            if info is not None:
                children.setdefault(info[1], []).append(int(entry))
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _check_traversable(path: Path) -> None:
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            raise MailStackError(
                f"{parent} is not world-traversable (mode {stat.filemode(mode)}); "
                "Dovecot's mail processes could not reach the mailboxes: "
                "pick a base directory under /tmp or chmod o+x its parents"
            )


@contextlib.contextmanager
def _host_lock() -> Iterator[None]:
    """Serialise edits of host-wide state (system user, /etc/postfix/main.cf)."""
    fd = os.open(_LOCK_PATH, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _ensure_mail_system_user() -> tuple[int, int]:
    with _host_lock():
        try:
            entry = pwd.getpwnam(MAIL_SYSTEM_USER)
        except KeyError:
            done = subprocess.run(
                [
                    "useradd",
                    "--system",
                    "--user-group",
                    "--no-create-home",
                    "--home-dir",
                    "/nonexistent",
                    "--shell",
                    "/usr/sbin/nologin",
                    MAIL_SYSTEM_USER,
                ],
                capture_output=True,
                check=False,
            )
            if done.returncode not in (0, 9):  # 9: already exists
                raise MailStackUnavailableError(
                    f"useradd {MAIL_SYSTEM_USER} failed: {done.stderr.decode(errors='replace')}"
                ) from None
            entry = pwd.getpwnam(MAIL_SYSTEM_USER)
    return entry.pw_uid, entry.pw_gid


def _edit_alternate_config_dirs(*, add: str | None, remove: str | None) -> None:
    """Add/remove one entry; also drop our entries whose directory no longer exists."""
    with _host_lock():
        if not POSTFIX_MAIN_CF.exists():
            POSTFIX_MAIN_CF.parent.mkdir(parents=True, exist_ok=True)
            POSTFIX_MAIN_CF.write_text("compatibility_level = 3.6\n")
        done = subprocess.run(
            ["postconf", "-c", str(POSTFIX_MAIN_CF.parent), "-h", "alternate_config_directories"],
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            raise MailStackError(
                f"cannot read {POSTFIX_MAIN_CF}: {done.stderr.decode(errors='replace')}"
            )
        current = [t for t in re.split(r"[\s,]+", done.stdout.decode()) if t]
        wanted = [
            t
            for t in current
            if t != remove and not (Path(t).name == POSTFIX_CONF_DIRNAME and not Path(t).is_dir())
        ]
        if add is not None and add not in wanted:
            wanted.append(add)
        if wanted == current:
            return
        value = " ".join(wanted)
        done = subprocess.run(
            [
                "postconf",
                "-c",
                str(POSTFIX_MAIN_CF.parent),
                "-e",
                f"alternate_config_directories = {value}",
            ],
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            raise MailStackError(
                f"cannot update {POSTFIX_MAIN_CF}: {done.stderr.decode(errors='replace')}"
            )
        _age(POSTFIX_MAIN_CF)


# --------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="start a stack and keep it running until SIGTERM")
    start.add_argument("--dir", type=Path, required=True, help="base directory of the stack")
    start.add_argument("--domain", action="append", help="virtual domain (repeatable)")
    start.add_argument(
        "--user", action="append", default=[], help="ADDRESS[:PASSWORD] to create (repeatable)"
    )
    args = parser.parse_args(argv)

    stack = MailStack(args.dir, tuple(args.domain) if args.domain else DEFAULT_DOMAINS)
    for spec in args.user:
        address, _, password = str(spec).partition(":")
        stack.add_user(address, password or "secret")

    stopping = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        stack.start()
    except MailStackError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    try:
        print(json.dumps(stack.describe(), indent=2), flush=True)
        while not stopping.wait(0.5):
            pass
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
