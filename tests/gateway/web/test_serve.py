"""`gateway.web.serve` runs in the caller's loop and stops when told."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx

from gateway.storage.db import make_engine, upgrade
from gateway.web.server import serve
from tests.support.web import web_config


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_serve_answers_then_stops_on_the_event(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    upgrade(url)
    port = _free_port()
    config = web_config(url, tmp_path, port=port)
    engine = make_engine(url)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(config, engine, stop))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(100):
                try:
                    response = await client.get("/healthz")
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.05)
            assert response.json() == {"status": "ok"}
            assert response.headers["x-frame-options"] == "DENY"
            assert "server" not in response.headers
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        engine.dispose()
    assert task.done() and task.exception() is None
