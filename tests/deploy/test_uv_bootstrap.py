"""The Quick start's first step on a machine with neither uv nor pip: deploy/uv.py."""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import subprocess
import sys
import threading
import urllib.request
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from deploy import uv as bootstrap
from tests.support.ci import in_ci

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "uv.py"


def bare_environment(home: Path) -> dict[str, str]:
    """A clean HOME, and a PATH with no uv anywhere on it."""
    path = [
        d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not Path(d, "uv").exists()
    ]
    env = {"HOME": str(home), "PATH": os.pathsep.join(path), "LANG": "C.UTF-8"}
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def run_isolated(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # -I -S: no site-packages, so no pip and no third-party module can help the script.
    return subprocess.run(
        [sys.executable, "-I", "-S", str(SCRIPT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_without_uv_or_pip_a_pinned_uv_is_fetched_and_runs(tmp_path: Path) -> None:
    env = bare_environment(tmp_path / "home")
    no_pip = subprocess.run(
        [sys.executable, "-I", "-S", "-c", "import pip"], env=env, capture_output=True, check=False
    )
    assert no_pip.returncode != 0, "the interpreter under test must not have pip"
    try:
        urllib.request.urlopen("https://pypi.org/simple/uv/", timeout=20).close()
    except OSError as exc:
        if in_ci():
            pytest.fail(f"PyPI unreachable in CI: {exc}")
        pytest.skip(f"PyPI unreachable: {exc}")

    done = run_isolated(["--version"], env)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith(f"uv {bootstrap.VERSION}")
    cached = tmp_path / "home" / ".cache" / "aiguilleur" / f"uv-{bootstrap.VERSION}" / "uv"
    assert cached.is_file() and os.access(cached, os.X_OK)
    # The second run uses the cached binary: nothing is fetched again.
    again = run_isolated(["--which"], env)
    assert again.returncode == 0 and again.stdout.strip() == str(cached)
    assert "fetching" not in again.stderr


class _Index:
    """A PEP 691 simple index on loopback serving one wheel whose bytes we choose."""

    def __init__(self, name: str, wheel: bytes) -> None:
        self.name, self.wheel = name, wheel

        index = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/simple/uv/":
                    files = [{"filename": index.name, "url": f"{index.url}/files/{index.name}"}]
                    body = json.dumps({"files": files}).encode()
                elif self.path == f"/files/{index.name}":
                    body = index.wheel
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def wheel_name() -> str:
    if platform.machine() not in bootstrap.WHEELS:
        pytest.skip(f"no pinned wheel for {platform.machine()}")
    return bootstrap.WHEELS[platform.machine()][0]


@pytest.fixture
def tampered_index(wheel_name: str) -> Iterator[_Index]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"uv-{bootstrap.VERSION}.data/scripts/uv", "#!/bin/sh\necho pwned\n")
    index = _Index(wheel_name, buffer.getvalue())
    thread = threading.Thread(target=index.server.serve_forever, daemon=True)
    thread.start()
    yield index
    index.server.shutdown()
    index.server.server_close()


def test_a_wheel_that_does_not_match_the_pinned_hash_is_refused(
    tmp_path: Path, tampered_index: _Index
) -> None:
    target = tmp_path / "uv"
    with pytest.raises(bootstrap.BootstrapError, match="SHA-256"):
        bootstrap.fetch_uv(target, f"{tampered_index.url}/simple")
    assert not target.exists()
    expected = bootstrap.WHEELS[platform.machine()][1]
    assert hashlib.sha256(tampered_index.wheel).hexdigest() != expected


def test_the_makefile_gets_uv_through_the_bootstrap_and_never_pip() -> None:
    done = subprocess.run(
        ["make", "-n", "-C", str(ROOT), "demo", "test", "lint"],
        capture_output=True,
        text=True,
        check=True,
    )
    commands = [line.strip() for line in done.stdout.splitlines()]
    uv_commands = [c for c in commands if " sync " in f" {c} " or " run " in f" {c} "]
    assert len(uv_commands) >= 3, done.stdout
    assert all(c.startswith("python3 deploy/uv.py ") for c in uv_commands), uv_commands
    assert not any("pip" in c.split() or "ensurepip" in c for c in commands)
