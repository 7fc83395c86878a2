"""Browser tests: Debian's Chromium driven by Playwright, and the web UI served on a free port
over a database the test seeds (``serve_site``).

Policy (as for the mail stack): when Chromium cannot start here, tests skip outside CI and
fail in CI (``CI=true``). Playwright's own browser download is not used.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Protocol, TypeVar

import httpx
import pytest
from playwright.sync_api import Browser, Error, Playwright, sync_playwright
from sqlalchemy import Engine

from gateway.config import Config
from gateway.storage.db import make_engine
from gateway.web.server import serve
from tests.support.ci import in_ci
from tests.support.web import web_config

__all__ = [
    "ARTIFACTS",
    "CHROMIUM",
    "LiveServer",
    "LiveSite",
    "ServeSite",
    "browser",
    "free_port",
    "launch_chromium",
    "serve_site",
]

CHROMIUM = os.environ.get("AIGUILLEUR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(f"Chromium unavailable in CI: {reason}")
    pytest.skip(f"Chromium unavailable: {reason}")


def launch_chromium(playwright: Playwright) -> Browser:
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} not found (make system-deps installs it)")
    try:
        return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Error as exc:
        _unavailable(str(exc).splitlines()[0])
        raise


# Module scope, not session: Playwright's sync API keeps an event loop running in this
# thread while it is open, and every later asyncio test would then fail to start its own.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    try:
        playwright = sync_playwright().start()
    except Exception as exc:  # its driver (node) cannot run: a library missing, say
        _unavailable(f"Playwright's driver does not start: {str(exc).splitlines()[0]}")
        raise
    try:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    """``gateway.web.serve`` in a thread of its own, with its own event loop."""

    config: Config
    engine: Engine
    _thread: threading.Thread | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _stop: asyncio.Event | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.config.web.port}"

    def start(self) -> None:
        ready = threading.Event()

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            ready.set()
            await serve(self.config, self.engine, self._stop)

        self._thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
        self._thread.start()
        ready.wait(10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/healthz", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("web server did not start")

    def stop(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            return
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)


T = TypeVar("T")


@dataclass
class LiveSite(Generic[T]):
    """A live server over a seeded database; ``seeded`` is what the seed function returned."""

    server: LiveServer
    engine: Engine
    seeded: T

    @property
    def url(self) -> str:
        return self.server.url


class ServeSite(Protocol):
    def __call__(self, seed: Callable[[Engine], T], /) -> LiveSite[T]: ...


@pytest.fixture
def serve_site(db_url: str, tmp_path: Path) -> Iterator[ServeSite]:
    """Seeds ``db_url`` with ``seed(engine)``, then serves the UI on it on a free port.
    The servers stop and the engines close after the test, whatever happened."""
    servers: list[LiveServer] = []
    engines: list[Engine] = []

    def serve_seeded(seed: Callable[[Engine], T]) -> LiveSite[T]:
        engine = make_engine(db_url)
        engines.append(engine)
        seeded = seed(engine)  # before the server starts: pages see it all from the first
        server = LiveServer(web_config(db_url, tmp_path, port=free_port()), engine)
        servers.append(server)
        server.start()
        return LiveSite(server, engine, seeded)

    try:
        yield serve_seeded
    finally:
        for server in servers:
            server.stop()
        for engine in engines:
            engine.dispose()
