"""Conventions every `aiguilleur` command follows.

- Errors: one line on stderr, nothing on stdout, and the prefix of the command's
  audience (``gateway.cli.audience``): ``erreur : `` for coordinator commands, ``error: ``
  for operator commands, configuration errors included.
- Help: ``--help`` shows no type for a flag (``<bool>``) and breaks no word across
  lines at 80 columns.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from typer import rich_utils
from typer.core import TyperGroup
from typer.testing import CliRunner

from gateway.cli import app
from gateway.cli.audience import COMMANDS, Audience, error_line

runner = CliRunner()
PASSWORD = "a long enough password\n"
PREFIX = {Audience.COORDINATOR: "erreur : ", Audience.OPERATOR: "error: "}


def _paths(group: TyperGroup, prefix: str = "") -> dict[str, bool]:
    """Every command and group under ``group``, by path; True for a leaf command."""
    found: dict[str, bool] = {}
    for name, command in group.commands.items():
        path = f"{prefix} {name}".strip()
        if isinstance(command, TyperGroup):
            found[path] = False
            found.update(_paths(command, path))
        else:
            found[path] = True
    return found


ROOT = typer.main.get_command(app)
assert isinstance(ROOT, TyperGroup)
PATHS = _paths(ROOT)
LEAVES = sorted(p for p, leaf in PATHS.items() if leaf)


def _config(tmp_path: Path) -> Path:
    """A valid configuration whose SQLite database does not exist yet."""
    path = tmp_path / "aiguilleur.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "a.db"}"\n'
        '[[mailboxes]]\nname = "sig"\naddress = "s@cpts.test"\nprogramme = "signalement"\n',
        encoding="utf-8",
    )
    return path


def _error_path(command: str, tmp_path: Path) -> list[str]:
    """Arguments that make ``command`` fail on its own checks (not typer's)."""
    config = str(_config(tmp_path))
    absent = str(tmp_path / "a-long-folder-name-so-the-line-is-wider-than-80" / "absent.eml")
    occupied = tmp_path / "not-a-demo"
    occupied.mkdir()
    (occupied / "keep.txt").write_text("mine\n", encoding="utf-8")
    return {
        "parse": ["parse", absent],
        "check": ["check", absent],
        "routes": ["routes", "-c", str(tmp_path / "absent.toml")],
        "export billing": ["export", "billing", "--month", "2025-13", "-c", config],
        "directory import": ["directory", "import", absent, "-c", config],
        "timers": ["timers", "--at", "demain", "-c", config],
        "run": ["run", "-c", str(tmp_path / "absent.toml")],
        "web": ["web", "-c", str(tmp_path / "absent.toml")],
        "status": ["status", "-c", str(tmp_path / "absent.toml")],
        "user add": ["user", "add", "bad name", "--password-stdin", "-c", config],
        "user passwd": ["user", "passwd", "nobody", "--password-stdin", "-c", config],
        "user disable": ["user", "disable", "nobody", "-c", config],
        "db upgrade": ["db", "upgrade", "--url", "nosuchdialect://host/db"],
        "config check": ["config", "check", str(tmp_path / "absent.toml")],
        "process": ["process", absent],
        "demo": ["demo", "--dir", str(occupied)],
    }[command]


def _assert_error(command: str, args: list[str]) -> str:
    """The error's text; its first line carries the prefix, any other is indented
    (a configuration lists each invalid key on its own line)."""
    result = runner.invoke(app, args, input=PASSWORD)
    assert result.exit_code in (1, 2), (command, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        command,
        result.exception,
    )
    assert result.stdout == "", (command, result.stdout)
    first, *more = result.stderr.splitlines()
    assert first.startswith(PREFIX[COMMANDS[command]]), (command, first)
    assert all(line.startswith("  ") for line in more), (command, result.stderr)
    return str(result.stderr)


def test_every_command_has_an_audience() -> None:
    assert sorted(COMMANDS) == LEAVES


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_error_is_one_line_in_the_commands_language(command: str, tmp_path: Path) -> None:
    line = _assert_error(command, _error_path(command, tmp_path))
    assert line.count("\n") == 1, line  # one line, however long the path in it
    if COMMANDS[command] is Audience.OPERATOR:
        assert "erreur" not in line


# Every command that reads a configuration file, with the rest of a valid call.
CONFIG_CALLS = {
    "check": ["check", "{file}"],
    "routes": ["routes"],
    "export billing": ["export", "billing", "--month", "2025-03"],
    "directory import": ["directory", "import", "{file}"],
    "timers": ["timers"],
    "run": ["run"],
    "web": ["web"],
    "status": ["status"],
    "user add": ["user", "add", "alice", "--password-stdin"],
    "user passwd": ["user", "passwd", "alice", "--password-stdin"],
    "user disable": ["user", "disable", "alice"],
    "db upgrade": ["db", "upgrade"],
    "process": ["process", "{file}"],
}


@pytest.mark.parametrize("command", sorted(CONFIG_CALLS))
def test_a_configuration_error_keeps_the_commands_prefix(command: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[pipeline]\nworkers = 0\n", encoding="utf-8")
    file = tmp_path / "m.eml"
    file.write_bytes(b"From: a@b.test\r\nSubject: x\r\n\r\nbody\r\n")
    args = [a.replace("{file}", str(file)) for a in CONFIG_CALLS[command]]
    error = _assert_error(command, [*args, "-c", str(bad)])
    assert "pipeline.workers" in error


def test_the_prefixes_are_the_documented_ones() -> None:
    assert error_line(Audience.COORDINATOR, "x") == "erreur : x"
    assert error_line(Audience.OPERATOR, "x") == "error: x"
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Commands", 1)[1].split("\n## ", 1)[0]
    assert "`erreur : `" in section and "`error: `" in section
    for command in COMMANDS:
        assert f"`{command}`" in section, command  # each is listed under its audience


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_BOX = str.maketrans("│╭╮╰╯─", "      ")


def _help(path: str, width: int, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(rich_utils, "MAX_WIDTH", width)
    result = runner.invoke(app, [*path.split(), "--help"])
    assert result.exit_code == 0, result.output
    return _ANSI.sub("", result.stdout)


def _words(text: str) -> set[str]:
    return set(text.translate(_BOX).split())


@pytest.mark.parametrize("path", ["", *sorted(PATHS)])
def test_help_shows_no_bool_and_breaks_no_word(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    narrow = _help(path, 80, monkeypatch)
    wide = _help(path, 400, monkeypatch)
    assert "--help" in narrow
    assert "<bool>" not in narrow and "<bool>" not in wide
    assert max(len(line) for line in narrow.splitlines()) <= 80
    # A word folded at 80 columns ("admi" + "n") is no word of the unfolded help.
    broken = _words(narrow) - _words(wide)
    assert broken == set(), broken


def test_a_flag_still_parses_as_a_flag() -> None:
    """The blank metavar only changes the help: `--json` takes no value."""
    result = runner.invoke(app, ["routes", "--json"])
    assert result.exit_code == 0, result.output
    assert result.stdout.lstrip().startswith("{")
