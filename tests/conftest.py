"""Fixtures shared by the whole suite live in tests/support/ and are registered here."""

import importlib.util
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

pytest_plugins = ["tests.support.database"]
if importlib.util.find_spec("tests.support.mailstack") is not None:
    pytest_plugins.append("tests.support.mailstack")


@pytest.fixture(autouse=True, scope="session")
def _loggers_follow_reconfiguration() -> Iterator[None]:
    """Some tests configure logging in process (the stages bench, the redaction test); the
    daemon caches each logger on first use, which would freeze that configuration into
    module loggers and hide later tests' ``capture_logs``. In tests, loggers are not cached."""
    real = structlog.configure

    def configure(**settings: Any) -> None:
        real(**{**settings, "cache_logger_on_first_use": False})

    structlog.configure = configure  # type: ignore[assignment]
    yield
    structlog.configure = real


@pytest.fixture(autouse=True)
def _logging_as_each_test_found_it() -> Iterator[None]:
    """A test that configures logging in process (a CLI command, the demo) must not leave
    its level filter behind: ``capture_logs`` swaps processors, not the level."""
    yield
    structlog.reset_defaults()
