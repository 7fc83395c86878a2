"""A short seeded fuzz campaign (``python -m bench.fuzz --quick``): mutated MIME headers,
boundaries, zip, XML and PDF through the parse entry points, each input with a time limit
and a memory ceiling. None may hang, go over memory, crash its worker or raise."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.bench import run_bench

INPUTS = 500
WALL_SECONDS = 600  # a hang guard, not a timing check: 26 s measured on a busy 2-core machine


def test_quick_fuzz_finds_no_hang_and_no_internal_error(tmp_path: Path) -> None:
    out = tmp_path / "fuzz.json"
    command = ["bench.fuzz", "--quick", "--n", str(INPUTS), "--seed", "5", "--out", str(out)]
    run = run_bench(*command, timeout=WALL_SECONDS)
    assert out.is_file(), run.stderr[-3000:]
    summary = json.loads(out.read_text())
    assert summary["inputs"] == INPUTS
    assert summary["hangs"] == 0, summary["buckets"]
    assert summary["internal_errors"] == 0, summary["buckets"]
    assert summary["over_memory"] == 0, summary["buckets"]
    assert summary["crashes"] == 0, summary["buckets"]
    assert run.returncode == 0, run.stderr[-3000:]
