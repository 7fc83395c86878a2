"""`aiguilleur directory import FILE...`: load Annuaire Santé extracts into the database."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from gateway.directory.extract import ExtractError
from gateway.directory.importer import check_file, import_file
from gateway.storage.db import make_engine

__all__ = ["directory_import_command"]


def _error(message: str) -> None:
    print(f"erreur : {message}", file=sys.stderr)


def directory_import_command(files: list[Path], database_url: str, quiet: bool) -> int:
    """Import each extract (Personne_activite or MSSanté, told apart by header or name).

    Every file is checked before any is imported. Returns 0 on success; 2 when a
    file cannot be read or is not a known extract; 1 when the database refuses
    (e.g. not migrated). Errors are one French line on stderr; the summary goes to
    stdout. The progress bar shows on stderr when it is a terminal, unless ``quiet``.
    """
    if not files:
        _error("aucun fichier à importer")
        return 2
    for path in files:
        try:
            check_file(path)
        except OSError as exc:
            _error(f"lecture impossible de {path} ({exc.strerror or exc})")
            return 2
        except ExtractError as exc:
            _error(f"{path.name} : {exc}")
            return 2
    console = Console(stderr=True)
    progress = not quiet and console.is_terminal
    engine = make_engine(database_url)
    try:
        for path in files:
            summary = import_file(engine, path, progress=progress, console=console)
            print("\n".join(summary.lines_fr()))
    except OSError as exc:
        _error(f"lecture impossible de {path} ({exc.strerror or exc})")
        return 2
    except ExtractError as exc:
        _error(f"{path.name} : {exc}")
        return 2
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None)
        reason = str(orig) if orig is not None else type(exc).__name__
        _error(f"base de données : {reason.splitlines()[0]} (lancer « aiguilleur db upgrade » ?)")
        return 1
    finally:
        engine.dispose()
    return 0
