"""The fuzzy matcher's on-disk index: a killed process's folder does not stay behind."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from parsers.prose.nlp import _sweep_simstring_folders


def test_folders_of_dead_processes_are_swept_and_live_ones_kept() -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    dead = Path(tempfile.mkdtemp(prefix=f"aiguilleur-simstring-{gone.pid}-"))
    live = Path(tempfile.mkdtemp(prefix=f"aiguilleur-simstring-{os.getpid()}-"))
    try:
        (dead / "index.db").write_bytes(b"x")
        _sweep_simstring_folders()
        assert not dead.exists()
        assert live.is_dir()
    finally:
        for folder in (dead, live):
            if folder.exists():
                folder.rmdir()
