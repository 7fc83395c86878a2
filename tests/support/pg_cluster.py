"""A throwaway PostgreSQL cluster, for a test run on a machine where no server answers.

The pattern of pytest-postgresql's ``postgresql_proc``: ``initdb`` in a temporary folder,
``pg_ctl start`` on a free loopback port, stop and delete at the end. Written here rather
than taken from that library because we run as root on a fresh Debian, where PostgreSQL
refuses to start as root: the cluster runs as the ``postgres`` user that Debian's package
creates, and the package itself is installed when missing.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Cluster", "ClusterError", "start_cluster"]

ROOT = Path(__file__).resolve().parents[2]
SUPERUSER = "postgres"


class ClusterError(RuntimeError):
    pass


def _bindir() -> Path | None:
    """The newest Debian PostgreSQL's binaries, else an initdb on PATH."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _install() -> Path:
    bindir = _bindir()
    if bindir is not None:
        return bindir
    # Debian's package would also create and start a "main" cluster on 5432, a service the
    # test run never asked for; postgresql-common reads this before it creates one.
    no_main = Path("/etc/postgresql-common/createcluster.d/aiguilleur-tests.conf")
    if os.geteuid() == 0 and not Path("/etc/postgresql-common/createcluster.conf").exists():
        no_main.parent.mkdir(parents=True, exist_ok=True)
        no_main.write_text("# Written by Aiguilleur's test suite.\ncreate_main_cluster = false\n")
    subprocess.run(["bash", str(ROOT / "deploy" / "ensure-packages.sh"), "postgresql"], check=True)
    bindir = _bindir()
    if bindir is None:
        raise ClusterError("Debian's postgresql package installed no initdb")
    return bindir


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass
class Cluster:
    datadir: Path
    port: int
    bindir: Path
    run_as: list[str]
    stopped: bool = field(default=False)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        subprocess.run(
            [
                *self.run_as,
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.datadir),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
            capture_output=True,
            check=False,
            timeout=60,
        )
        shutil.rmtree(self.datadir.parent, ignore_errors=True)


def _as_postgres(home: Path) -> list[str]:
    """PostgreSQL will not run as root: run its tools as Debian's ``postgres`` user."""
    if os.geteuid() != 0:
        return []
    shutil.chown(home, user=SUPERUSER)
    return ["runuser", "-u", SUPERUSER, "--"]


def start_cluster() -> Cluster:
    """Install (if needed), initialise and start a cluster; it stops at exit at the latest."""
    bindir = _install()
    home = Path(tempfile.mkdtemp(prefix="aiguilleur-pg-"))
    home.chmod(0o700)
    run_as = _as_postgres(home)
    datadir = home / "data"
    init = subprocess.run(
        [
            *run_as,
            str(bindir / "initdb"),
            "-D",
            str(datadir),
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if init.returncode != 0:
        shutil.rmtree(home, ignore_errors=True)
        raise ClusterError(f"initdb failed: {init.stderr.strip()[-500:]}")
    last_error = ""
    for _ in range(3):  # a free port can be taken between the probe and the start
        cluster = Cluster(datadir, _free_port(), bindir, run_as)
        options = f"-c listen_addresses=127.0.0.1 -p {cluster.port} -k {datadir} -c fsync=off"
        started = subprocess.run(
            [
                *run_as,
                str(bindir / "pg_ctl"),
                "-D",
                str(datadir),
                "-l",
                str(home / "log"),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if started.returncode == 0:
            atexit.register(cluster.stop)
            return cluster
        last_error = (home / "log").read_text(errors="replace")[-500:]
    shutil.rmtree(home, ignore_errors=True)
    raise ClusterError(f"pg_ctl start failed: {last_error}")
