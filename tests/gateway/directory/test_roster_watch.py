"""The daemon sees roster edits without a restart, and survives a broken edit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gateway.cli.demo_routing import DEMO_DOCTORS, roster_toml
from gateway.directory.roster import RosterError
from gateway.directory.roster_watch import RosterFile
from gateway.loops import LoopHealth


def _write(path: Path, text: str, bump: int) -> None:
    path.write_text(text, encoding="utf-8")
    # Same-second edits: move the mtime so the change is seen whatever the clock's grain.
    stamp = path.stat().st_mtime_ns + bump * 1_000_000_000
    os.utime(path, ns=(stamp, stamp))


def test_edit_is_picked_up_and_a_broken_edit_keeps_the_last_good_roster(tmp_path: Path) -> None:
    path = tmp_path / "roster.toml"
    _write(path, roster_toml(DEMO_DOCTORS[:1]), 0)
    roster = RosterFile(path)
    assert [d.rpps for d in roster.doctors()] == [DEMO_DOCTORS[0].rpps]
    _write(path, roster_toml(DEMO_DOCTORS[:2]), 1)
    assert [d.rpps for d in roster.doctors()] == [d.rpps for d in DEMO_DOCTORS[:2]]
    _write(path, "[[doctors]]\nrpps = 'pas un rpps'\n", 2)
    assert len(roster.doctors()) == 2  # kept
    path.unlink()
    assert len(roster.doctors()) == 2  # a vanished file changes nothing either


def test_a_broken_roster_at_start_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "roster.toml"
    path.write_text("[[doctors]]\nrpps = 1\n", encoding="utf-8")
    with pytest.raises(RosterError):
        RosterFile(path)


def test_a_broken_edit_turns_the_roster_watch_red_until_a_good_one(tmp_path: Path) -> None:
    path = tmp_path / "roster.toml"
    _write(path, roster_toml(DEMO_DOCTORS[:1]), 0)
    loops = LoopHealth()
    roster = RosterFile(path, loops)
    _write(path, "[[doctors]]\nrpps = 'pas un rpps'\n", 1)
    roster.doctors()
    assert list(loops.failing()) == ["roster_watch"]
    _write(path, roster_toml(DEMO_DOCTORS[:2]), 2)
    assert len(roster.doctors()) == 2
    assert loops.failing() == {}


def test_an_unreadable_roster_keeps_the_last_good_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "roster.toml"
    _write(path, roster_toml(DEMO_DOCTORS[:1]), 0)
    loops = LoopHealth()
    roster = RosterFile(path, loops)
    _write(path, roster_toml(DEMO_DOCTORS[:2]), 1)

    def unreadable(_path: Path) -> object:
        raise PermissionError("permission denied")

    monkeypatch.setattr("gateway.directory.roster_watch.load_roster", unreadable)
    assert len(roster.doctors()) == 1  # offers go on with what was read before
    assert loops.failing()["roster_watch"].error_type == "PermissionError"
