"""The benches' smoke runs: ``python -m bench.<name> --quick`` from the repository root."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_bench(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run ``python -m <args>`` with its output captured; the caller checks the result."""
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
