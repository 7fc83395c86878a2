"""Smoke test of the end-to-end bench: `python -m bench.e2e --quick` completes and writes
its results file. No timing is asserted: figures on a shared 2-core machine are noise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.bench import run_bench
from tests.support.mailstack import require_mail_stack

pytestmark = pytest.mark.e2e


def test_quick_bench_completes_and_writes_results(tmp_path: Path) -> None:
    require_mail_stack()
    out = tmp_path / "e2e-quick.json"
    done = run_bench("bench.e2e", "--quick", "--output", str(out))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads(out.read_text(encoding="utf-8"))
    assert {"machine", "raw_loop", "aiguilleur", "latency", "scale"} <= results.keys()
    assert {"sqlite", "postgresql"} <= results["aiguilleur"].keys()
    for run in results["aiguilleur"].values():
        assert {
            "rate_per_s",
            "ratio_to_raw",
            "duplicate_replies",
            "cpu_s_per_1000",
            "peak_rss_mb",
        } <= run.keys()
        assert run["complete"] is True
        assert run["duplicate_replies"] == 0
    # Equal work (issue 15): the raw loop sent what Aiguilleur delivered, counted.
    first = results["aiguilleur"]["sqlite"]
    assert first["mails_per_request"] > 1.5  # acks plus offers and broadcasts
    assert results["equal_work"]["raw_loop"]["mails_sent"] == round(
        first["mails_per_request"] * results["equal_work"]["raw_loop"]["requests"]
    )
    assert all(run["equal_work_ratio"] > 0 for run in results["aiguilleur"].values())
    ack_only = results["ack_only"]["aiguilleur"]
    assert ack_only["complete"] is True and ack_only["duplicate_replies"] == 0
    assert ack_only["mails_per_request"] == 1.0  # one reply each, nothing else
    assert ack_only["ack_only_ratio"] > 0
    assert {"p50_s", "p95_s", "p99_s"} <= results["latency"].keys()
    assert {"backlog", "mailboxes"} <= results["scale"].keys()
    assert results["scale"]["backlog"]["complete"] is True
    # Memory as PSS beside RSS: the forked parse workers share most of their pages.
    backlog, many = results["scale"]["backlog"], results["scale"]["mailboxes"]
    assert 0 < backlog["peak_pss_mb"] <= backlog["peak_rss_mb"]
    assert 0 < many["pss_after_probes_mb"] <= many["rss_after_probes_mb"]
    assert "ratio to raw loop" in done.stdout
