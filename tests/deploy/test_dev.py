"""`make dev`: one command brings up the mail stack, the daemon and the UI; a request sent
through it gets its acknowledgement; Ctrl-C stops everything."""

from __future__ import annotations

import email
import email.policy
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.mailstack import MailStackUnavailableError, check_prerequisites
from tests.support.database import unavailable

ROOT = Path(__file__).resolve().parents[2]
SENDER_MAILDIR = Path("stack/mail/infirmier.mssante.test/claire.petit/Maildir")


@pytest.fixture
def dev_dir() -> Iterator[Path]:
    try:
        check_prerequisites()
    except MailStackUnavailableError as exc:
        unavailable(str(exc))
    # Not tmp_path: Dovecot's unprivileged processes must traverse the parents.
    base = Path(tempfile.mkdtemp(prefix="aiguilleur-dev-"))
    base.chmod(0o755)
    yield base / "dev"
    shutil.rmtree(base, ignore_errors=True)


def _processes_mentioning(text: str) -> list[str]:
    """Command lines that name ``text`` (procps may be absent on a minimal Debian)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().split(b"\0")
        except OSError:  # ended meanwhile
            continue
        line = " ".join(w.decode(errors="replace") for w in words if w)
        if text in line:
            found.append(line)
    return found


def _acks(maildir: Path) -> list[email.message.EmailMessage]:
    found = []
    for path in sorted((maildir / "new").glob("*")) + sorted((maildir / "cur").glob("*")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(msg, email.message.EmailMessage)
        found.append(msg)
    return found


def test_make_dev_runs_a_request_to_its_acknowledgement_and_stops_on_ctrl_c(
    dev_dir: Path,
) -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "python -m deploy.dev" in makefile.split("\ndev:", 1)[1].split("\n\n", 1)[0]
    proc = subprocess.Popen(
        [sys.executable, "-m", "deploy.dev", "--dir", str(dev_dir), "--json"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else "no output"
        setup = json.loads(line)
        with urllib.request.urlopen(f"{setup['web_url']}/login", timeout=10) as page:
            assert page.status == 200
        assert setup["admin_user"] == "admin" and len(setup["admin_password"]) >= 12
        assert (dev_dir / "aiguilleur.toml").is_file()

        sent = subprocess.run(
            [sys.executable, "-m", "deploy.dev", "send", "--dir", str(dev_dir)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert sent.returncode == 0, sent.stderr

        deadline = time.monotonic() + 180
        acks: list[email.message.EmailMessage] = []
        while time.monotonic() < deadline and not acks:
            acks = _acks(dev_dir / SENDER_MAILDIR)
            time.sleep(0.5)
        assert acks, "no acknowledgement reached the sender's mailbox"
        ack = acks[0]
        assert "AIG-" in str(ack["Subject"])
        files = [part.get_filename() for part in ack.iter_attachments()]
        assert "aiguilleur-task.json" in files
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=90)
    assert code == 0
    still = _processes_mentioning(str(dev_dir))
    assert still == [], f"left running: {still}"
    assert os.listdir(dev_dir / "stack")  # the stack's files stay for a look afterwards
