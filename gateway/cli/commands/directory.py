"""`aiguilleur directory import FILE...`: load Annuaire Santé extracts into the database."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from gateway.cli.audience import Audience, print_error
from gateway.directory.extract import ExtractError
from gateway.directory.importer import check_file, import_file
from gateway.storage.db import make_engine
from gateway.wording import say

__all__ = ["directory_import_command"]


def _error(message: str) -> None:
    print_error(Audience.COORDINATOR, message)


def _file_error(path: Path, exc: OSError | ExtractError) -> int:
    """Say what went wrong with ``path``; the command's exit code."""
    if isinstance(exc, OSError):
        _cannot_read(path, exc)
    else:
        _in_file(path, exc)
    return 2


def _cannot_read(path: Path, exc: OSError) -> None:
    _error(say("cli.error.cannot_read", path=path, reason=exc.strerror or exc))


def _in_file(path: Path, exc: ExtractError) -> None:
    _error(say("cli.line.in_file", file=path.name, message=exc))


def directory_import_command(files: list[Path], database_url: str, quiet: bool) -> int:
    """Import each extract (Personne_activite or MSSanté, told apart by header or name).

    Every file is checked before any is imported. Returns 0 on success; 2 when a
    file cannot be read or is not a known extract; 1 when the database refuses
    (e.g. not migrated). Errors are one French line on stderr; the summary goes to
    stdout. The progress bar shows on stderr when it is a terminal, unless ``quiet``.
    """
    if not files:
        _error(say("cli.error.no_files"))
        return 2
    for path in files:
        try:
            check_file(path)
        except (OSError, ExtractError) as exc:
            return _file_error(path, exc)
    console = Console(stderr=True)
    progress = not quiet and console.is_terminal
    engine = make_engine(database_url)
    try:
        for path in files:
            summary = import_file(engine, path, progress=progress, console=console)
            print("\n".join(summary.lines_fr()))
    except (OSError, ExtractError) as exc:
        return _file_error(path, exc)
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None)
        reason = str(orig) if orig is not None else type(exc).__name__
        _error(say("cli.error.database_refused", reason=reason.splitlines()[0]))
        return 1
    finally:
        engine.dispose()
    return 0
