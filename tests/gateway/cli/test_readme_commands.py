"""The README's "## Commands" table matches the `aiguilleur` command line.

Every command has a row, every row is a command, and every option of a command is
named in its row (long or short form): a flag added in code without a word in the
README fails here.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path

import typer
from typer.core import TyperGroup

from gateway.cli import app

README = Path(__file__).resolve().parents[3] / "README.md"


def _commands(group: TyperGroup, prefix: str = "") -> dict[str, list[list[str]]]:
    """Leaf command path → the option strings of each of its options (--help aside)."""
    found: dict[str, list[list[str]]] = {}
    for name, command in group.commands.items():
        path = f"{prefix} {name}".strip()
        if isinstance(command, TyperGroup):
            found.update(_commands(command, path))
        else:
            found[path] = [
                [*param.opts, *param.secondary_opts]
                for param in command.params
                if param.param_type_name == "option"
            ]
    return found


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    return text.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]


def _rows() -> dict[str, str]:
    """Command path → the first cell of its row (the synopsis)."""
    rows: dict[str, str] = {}
    for synopsis in re.findall(r"^\| `aiguilleur ([^`]+)` \|", _section(), re.MULTILINE):
        words = [w for w in synopsis.split() if re.fullmatch(r"[a-z]+", w)]
        rows[" ".join(words[:2])] = synopsis
    return rows


def _path_of(synopsis_key: str, commands: Collection[str]) -> str:
    """The command a row's leading words name (one word, or a group and its command)."""
    for candidate in (synopsis_key, synopsis_key.split()[0]):
        if candidate in commands:
            return candidate
    raise AssertionError(f"README: `aiguilleur {synopsis_key}` is no command")


def test_every_command_has_a_row_naming_all_its_options() -> None:
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    commands = _commands(root)
    rows = {_path_of(key, commands): synopsis for key, synopsis in _rows().items()}
    assert sorted(rows) == sorted(commands)
    for path, options in commands.items():
        synopsis = rows[path]
        for spellings in options:
            named = any(
                re.search(rf"(?<![\w-]){re.escape(s)}(?![\w-])", synopsis) for s in spellings
            )
            assert named, f"README: `aiguilleur {path}` does not mention {spellings[0]}"


def test_directory_import_is_documented() -> None:
    section = _section()
    assert "### `aiguilleur directory import`" in section
    documented = section.split("### `aiguilleur directory import`", 1)[1]
    for words in (
        "PS_LibreAcces_Personne_activite",
        "Extraction_Correspondance_MSSante",
        "unzip",
        "latin-1",
        "idempotent",
        "inchangées",
        "doublons",
        "deactivated",
        "aiguilleur db upgrade",
    ):
        assert words in documented, words
