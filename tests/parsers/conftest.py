from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.ci import in_ci

CORPUS = Path(
    os.environ.get("AIGUILLEUR_CORPUS")
    or Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
)


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared third-party corpus; absent: fail on CI, skip elsewhere."""
    if not CORPUS.is_dir():
        if in_ci():
            pytest.fail(f"corpus absent: {CORPUS}")
        pytest.skip(f"corpus absent ({CORPUS}); set it up beside the repository")
    return CORPUS.resolve()
