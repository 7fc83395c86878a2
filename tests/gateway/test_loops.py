"""The one error policy of the daemon's loops: counted, backed off with jitter, reported."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from gateway.loops import LOOPS, LoopHealth, backoff


def test_backoff_doubles_up_to_its_cap_with_jitter() -> None:
    for failures, nominal in ((1, 1.0), (2, 2.0), (3, 4.0), (7, 60.0), (30, 60.0)):
        delays = [backoff(failures) for _ in range(200)]
        assert all(0.5 * nominal <= d <= 1.5 * nominal for d in delays)
        assert len(set(delays)) > 1  # jittered: replicas do not retry in step


def test_a_failing_loop_is_counted_and_reported_until_it_recovers() -> None:
    registry = CollectorRegistry()
    loops = LoopHealth(registry)
    text = generate_latest(registry).decode()
    for name in LOOPS:  # every loop is exported before its first error
        assert f'aiguilleur_loop_errors_total{{loop="{name}"}} 0.0' in text
        assert f'aiguilleur_loop_failing{{loop="{name}"}} 0.0' in text

    first = loops.failed("outbox", ConnectionRefusedError("secret patient text"))
    second = loops.failed("outbox", TimeoutError())
    assert 0.5 <= first <= 1.5 and 1.0 <= second <= 3.0
    failing = loops.failing()
    assert list(failing) == ["outbox"]
    assert failing["outbox"].failures == 2 and failing["outbox"].error_type == "TimeoutError"
    text = generate_latest(registry).decode()
    assert 'aiguilleur_loop_errors_total{loop="outbox"} 2.0' in text
    assert 'aiguilleur_loop_failing{loop="outbox"} 1.0' in text
    assert "secret" not in text

    loops.ok("timers")  # another loop's success changes nothing here
    assert list(loops.failing()) == ["outbox"]
    loops.ok("outbox")
    assert loops.failing() == {}
    text = generate_latest(registry).decode()
    assert 'aiguilleur_loop_failing{loop="outbox"} 0.0' in text
    assert 'aiguilleur_loop_errors_total{loop="outbox"} 2.0' in text  # a counter stays
    # A new failure after recovery backs off from the start again.
    assert loops.failed("outbox", OSError()) <= 1.5


def test_the_error_text_is_never_logged() -> None:
    import structlog

    with structlog.testing.capture_logs() as logs:
        LoopHealth().failed("pipeline_decide", ValueError("DURAND Jeanne 1948-03-12"))
    assert logs and "DURAND" not in repr(logs)
    assert logs[0]["loop"] == "pipeline_decide" and logs[0]["error_type"] == "ValueError"
