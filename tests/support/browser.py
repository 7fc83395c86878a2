"""Browser tests: Debian's Chromium driven by Playwright, and the web UI served on a free port.

Policy (as for the mail stack): when Chromium cannot start here, tests skip outside CI and
fail in CI (``CI=true``). Playwright's own browser download is not used.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Error, Playwright, sync_playwright
from sqlalchemy import Engine

from gateway.config import Config
from gateway.web import serve
from tests.support.ci import in_ci

__all__ = ["ARTIFACTS", "CHROMIUM", "LiveServer", "browser", "launch_chromium", "live_server"]

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


@pytest.fixture
def live_server_factory() -> Iterator[list[LiveServer]]:
    started: list[LiveServer] = []
    yield started
    for server in started:
        server.stop()


def live_server(config: Config, engine: Engine, started: list[LiveServer]) -> LiveServer:
    server = LiveServer(config, engine)
    server.start()
    started.append(server)
    return server
