"""Fixtures shared by the whole suite live in tests/support/ and are registered here."""

import importlib.util

pytest_plugins = ["tests.support.database"]
if importlib.util.find_spec("tests.support.mailstack") is not None:
    pytest_plugins.append("tests.support.mailstack")
