#!/usr/bin/env python3
"""Run uv; on a machine without it, fetch a pinned release from PyPI first.

Stock Debian 12 has ``python3`` but no pip, and pip may not install into the system
Python anyway (PEP 668), so the Makefile calls ``python3 deploy/uv.py ARGS...`` rather
than ``pip install uv``. Standard library only. The wheel's SHA-256 is pinned here, so
what runs is what was reviewed, whatever the index serves.

Environment:
- ``AIGUILLEUR_UV``: a uv binary to use as is;
- ``AIGUILLEUR_TOOLS``: where a fetched uv is kept (default ``~/.cache/aiguilleur``);
- ``AIGUILLEUR_UV_INDEX``: a PEP 691 simple index (default ``https://pypi.org/simple``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

VERSION = "0.13.9"
# uv older than this cannot read our uv.lock; a newer one on PATH is used as it is.
MINIMUM = (0, 5, 0)
WHEELS = {
    "x86_64": (
        f"uv-{VERSION}-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "d7f459fe4fd247d830351c75686d3996ace3c6f3f728eb0e85a30b7ada0cef19",
    ),
    "aarch64": (
        f"uv-{VERSION}-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64"
        ".musllinux_1_1_aarch64.whl",
        "5435c5ce14a56431208ca0996416d310f1598e8c2c8ba707688985a16bb82dbe",
    ),
}
HERE = Path(__file__).resolve().parent
SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


class BootstrapError(RuntimeError):
    pass


def _version(binary: str) -> tuple[int, ...] | None:
    try:
        out = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"(\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(part) for part in found.groups()) if found else None


def tools_dir() -> Path:
    configured = os.environ.get("AIGUILLEUR_TOOLS")
    if configured:
        return Path(configured)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "aiguilleur"


def _fetch(url: str, accept: str = "*/*") -> bytes:
    request = urllib.request.Request(url, headers={"Accept": accept})  # noqa: S310
    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
        data: bytes = response.read()
    return data


def _fetch_verified(url: str, accept: str = "*/*") -> bytes:
    """GET with TLS verified; a Debian without CA certificates gets them first."""
    try:
        return _fetch(url, accept)
    except urllib.error.URLError as exc:
        if not isinstance(exc.reason, ssl.SSLError) or not _install_ca_certificates():
            raise
    return _fetch(url, accept)


def _install_ca_certificates() -> bool:
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        return False
    print("uv bootstrap: installing Debian's ca-certificates", file=sys.stderr)
    subprocess.run(["bash", str(HERE / "ensure-packages.sh"), "ca-certificates"], check=True)
    return True


def _wheel_url(index: str, name: str) -> str:
    page = json.loads(_fetch_verified(f"{index}/uv/", "application/vnd.pypi.simple.v1+json"))
    for entry in page.get("files", ()):
        if entry.get("filename") == name:
            return str(entry["url"])
    raise BootstrapError(f"{name} is not on {index}")


def fetch_uv(target: Path, index: str) -> Path:
    """Download the pinned wheel, check its SHA-256 and unpack the uv binary to ``target``."""
    machine = platform.machine()
    if machine not in WHEELS or not sys.platform.startswith("linux"):
        raise BootstrapError(f"no pinned uv wheel for {sys.platform}/{machine}: install uv")
    name, sha256 = WHEELS[machine]
    print(f"uv bootstrap: fetching uv {VERSION} from {index}", file=sys.stderr)
    wheel = _fetch_verified(_wheel_url(index.rstrip("/"), name))
    digest = hashlib.sha256(wheel).hexdigest()
    if digest != sha256:
        raise BootstrapError(f"{name}: SHA-256 {digest}, expected {sha256}")
    with zipfile.ZipFile(io.BytesIO(wheel)) as archive:
        member = next(n for n in archive.namelist() if n.endswith(".data/scripts/uv"))
        binary = archive.read(member)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written aside then renamed: a concurrent run never executes half a file.
    fd, partial = tempfile.mkstemp(dir=target.parent, prefix=".uv-")
    with os.fdopen(fd, "wb") as out:
        out.write(binary)
    os.chmod(partial, 0o755)  # noqa: S103 - an executable for this user
    os.replace(partial, target)
    return target


def find_uv() -> str:
    """A usable uv: $AIGUILLEUR_UV, then PATH, then our cache, fetched if missing."""
    configured = os.environ.get("AIGUILLEUR_UV")
    if configured:
        return configured
    on_path = shutil.which("uv")
    if on_path and (_version(on_path) or (0,)) >= MINIMUM:
        return on_path
    cached = tools_dir() / f"uv-{VERSION}" / "uv"
    if cached.is_file() and _version(str(cached)) is not None:
        return str(cached)
    index = os.environ.get("AIGUILLEUR_UV_INDEX", "https://pypi.org/simple")
    return str(fetch_uv(cached, index))


def main(argv: list[str]) -> int:
    try:
        uv = find_uv()
    except (BootstrapError, OSError, urllib.error.URLError, StopIteration) as exc:
        print(f"error: cannot get uv: {exc}", file=sys.stderr)
        return 1
    if argv == ["--which"]:
        print(uv)
        return 0
    if Path(SYSTEM_CA_BUNDLE).is_file():
        # uv trusts its own bundled roots by default; the system's store is the one this
        # machine's administrator keeps (a company proxy's CA, say), as the download above did.
        os.environ.setdefault("UV_SYSTEM_CERTS", "1")
    os.execv(uv, [uv, *argv])  # noqa: S606 - replaces this process by uv


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
