"""One daemon per SQLite database: the second refuses to start, a crash frees the lock."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.app import run_daemon
from gateway.config import Config, parse_config
from gateway.storage.db import upgrade
from gateway.storage.instance_lock import InstanceLock, InstanceRunningError, sqlite_path


def test_sqlite_path_only_for_a_sqlite_file(tmp_path: Path) -> None:
    assert sqlite_path(f"sqlite:///{tmp_path}/a.db") == tmp_path / "a.db"
    assert sqlite_path("sqlite://") is None
    assert sqlite_path("sqlite:///:memory:") is None
    assert sqlite_path("postgresql://postgres@127.0.0.1/x") is None


def test_a_second_lock_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    first = InstanceLock(tmp_path / "a.db")
    first.acquire()
    with pytest.raises(InstanceRunningError, match=f"pid {os.getpid()}"):
        InstanceLock(tmp_path / "a.db").acquire()
    first.release()
    again = InstanceLock(tmp_path / "a.db")
    again.acquire()
    again.release()


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from gateway.storage.instance_lock import InstanceLock\n"
        f"InstanceLock(Path({str(tmp_path / 'a.db')!r})).acquire()\n"
        "print('held', flush=True)\n"
        "time.sleep(600)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[3],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with pytest.raises(InstanceRunningError, match=f"pid {holder.pid}"):
        InstanceLock(tmp_path / "a.db").acquire()
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    lock = InstanceLock(tmp_path / "a.db")
    lock.acquire()
    lock.release()


def _config(root: Path) -> Config:
    return parse_config(
        {
            "database": {"url": f"sqlite:///{root / 'a.db'}"},
            "mailboxes": [
                {
                    "name": "sig",
                    "kind": "maildir",
                    "address": "sig@cpts.test",
                    "programme": "signalement",
                    "maildir_path": str(root / "mail"),
                }
            ],
            "smtp": {
                "transport": "maildir",
                "maildir_path": str(root / "out"),
                "from_address": "ne-pas-repondre@cpts.test",
            },
            "pipeline": {"parse_processes": 1},
        },
        environ={},
    )


async def test_a_second_daemon_on_the_same_database_refuses_to_start(tmp_path: Path) -> None:
    config = _config(tmp_path)
    upgrade(config.database.url)
    stop = asyncio.Event()
    first = asyncio.create_task(run_daemon(config, stop=stop))
    try:
        lock_file = tmp_path / "a.db.lock"
        for _ in range(200):
            if lock_file.exists() and lock_file.read_text().strip() == str(os.getpid()):
                break
            await asyncio.sleep(0.05)
        with pytest.raises(InstanceRunningError, match="one daemon per database"):
            await run_daemon(config, stop=asyncio.Event())
        assert not first.done()  # the first one runs on
    finally:
        stop.set()
        await asyncio.wait_for(first, 60)
    # Stopped cleanly: the next start may take the database.
    second_stop = asyncio.Event()
    second = asyncio.create_task(run_daemon(config, stop=second_stop))
    await asyncio.sleep(0.5)
    assert not second.done()
    second_stop.set()
    await asyncio.wait_for(second, 60)
