"""The timers' loop under the daemon's error policy: a failing pass never ends it."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from gateway.cases.timers import TimerReport, Timers
from gateway.config import parse_config
from gateway.loops import LoopHealth
from gateway.replies.compose import ReplyRenderer
from tests.support.routing import demo_services
from tests.support.waiting import eventually


async def test_a_failing_pass_is_retried_and_reported(
    db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = parse_config({"routing": {"timer_interval": 0.01}}, environ={})
    loops = LoopHealth(backoff_base=0.01, backoff_max=0.02)
    timers = Timers(
        engine=db_engine,
        services=demo_services(config),
        renderer=ReplyRenderer(from_address="c@x.test", from_name="CPTS", limit_bytes=10_000),
        loops=loops,
    )
    passes: list[bool] = []  # whether the loop was reported failing before each pass

    def run_once() -> TimerReport:
        passes.append("timers" in loops.failing())
        if len(passes) <= 2:
            raise OperationalError("UPDATE", {}, ConnectionError("server closed the connection"))
        return TimerReport(expired=0, reminded=0)

    monkeypatch.setattr(timers, "run_once", run_once)
    stop = asyncio.Event()
    runner = asyncio.create_task(timers.run(stop))
    await eventually(lambda: len(passes) >= 4)
    assert not runner.done(), "the timers ended on a database error"
    assert passes[:4] == [False, True, True, False]
    assert await eventually(lambda: loops.failing() == {})
    stop.set()
    await runner
