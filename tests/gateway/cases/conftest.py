"""The case tests run on each kind of database: ``engine`` is the suite's ``db_engine``."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine


@pytest.fixture
def engine(db_engine: Engine) -> Engine:
    return db_engine
