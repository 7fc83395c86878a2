"""Smoke test of ``bench.stages``: it runs the daemon's stages and writes its figures.
No timing is asserted; what is checked is that every request went through every stage."""

from __future__ import annotations

import json
from pathlib import Path

from bench.stages import main


def test_stages_bench_runs_every_stage_and_writes_results(tmp_path: Path) -> None:
    out = tmp_path / "stages.json"
    assert main(["--n", "9", "--batch", "4", "--output", str(out)]) == 0
    results = json.loads(out.read_text(encoding="utf-8"))
    for stage in ("store", "parse", "decide", "outbox"):
        assert results[stage]["cpu_ms_per_request"] > 0
    # Every request was decided (the bench raises otherwise) and its mails queued and sent:
    # an acknowledgement each, an offer per signalement, a 2-doctor broadcast per TE.
    assert results["mails_per_request"] == round((9 + 6 + 3 * 2) / 9, 2)
    assert results["decide"]["commits_per_request"] == round(3 / 9, 3)
