from __future__ import annotations

from dataclasses import dataclass

from gateway.metrics import Metrics


@dataclass
class _Pool:
    live_workers: int = 1
    workers_started: int = 7
    grown: int = 2
    replacements: int = 1
    releases: int = 3


def test_parse_workers_are_read_at_each_scrape() -> None:
    pool = _Pool()
    metrics = Metrics()
    metrics.watch_parse_workers(pool)
    text = metrics.render().decode()
    assert "aiguilleur_parse_workers 1.0" in text
    for event, count in (("started", 7), ("grown", 2), ("replaced", 1), ("released", 3)):
        assert f'aiguilleur_parse_worker_events_total{{event="{event}"}} {count}.0' in text
    pool.live_workers, pool.workers_started = 2, 8
    again = metrics.render().decode()
    assert "aiguilleur_parse_workers 2.0" in again
    assert 'aiguilleur_parse_worker_events_total{event="started"} 8.0' in again
