"""A short seeded fuzz campaign (``python -m bench.fuzz --quick``): mutated MIME headers,
boundaries, zip, XML and PDF through the parse entry points, each input with a time limit
and a memory ceiling. None may hang, go over memory, crash its worker or raise."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INPUTS = 500
WALL_SECONDS = 120  # measured 26 s on a busy 2-core machine, start-up of the NLP included


def test_quick_fuzz_finds_no_hang_and_no_internal_error(tmp_path: Path) -> None:
    out = tmp_path / "fuzz.json"
    started = time.monotonic()
    command = ["-m", "bench.fuzz", "--quick", "--n", str(INPUTS), "--seed", "5", "--out", str(out)]
    run = subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=WALL_SECONDS * 2,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert out.is_file(), run.stderr[-3000:]
    summary = json.loads(out.read_text())
    assert summary["inputs"] == INPUTS
    assert summary["hangs"] == 0, summary["buckets"]
    assert summary["internal_errors"] == 0, summary["buckets"]
    assert summary["over_memory"] == 0, summary["buckets"]
    assert summary["crashes"] == 0, summary["buckets"]
    assert run.returncode == 0, run.stderr[-3000:]
    assert elapsed < WALL_SECONDS
