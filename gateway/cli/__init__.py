"""The ``aiguilleur`` command: the daemon, the demo, and the operators' commands."""

from gateway.cli.main import app, main

__all__ = ["app", "main"]
