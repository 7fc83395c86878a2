"""The daemon under chaos: one `aiguilleur run` after another on the same configuration and
database, each in its own process group so that a kill takes its parse workers too."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.e2e_procs import DaemonRun

__all__ = ["DaemonWontStartError", "Incarnations"]

FAILED_STARTS = 3  # deaths in a row before connecting: a broken build, not chaos


class DaemonWontStartError(RuntimeError):
    pass


@dataclass
class Life:
    """One process's life: when it started, whether it connected, how it ended."""

    run: DaemonRun
    started: float  # time.monotonic()
    connected_after_s: float | None = None
    ended_by: str = ""  # "kill", "crash" (it died alone), "stop"
    exit_code: int | None = None


@dataclass
class Incarnations:
    config: Path
    workdir: Path
    mailboxes: int  # watched mailboxes: "connected" means each logged in
    lives: list[Life] = field(default_factory=list)

    @property
    def current(self) -> Life:
        return self.lives[-1]

    def start(self) -> Life:
        index = len(self.lives)
        run = DaemonRun(
            self.config, self.workdir / f"daemon-{index:02d}.log", start_new_session=True
        )
        run.start()
        life = Life(run, time.monotonic())
        self.lives.append(life)
        return life

    def uptime(self) -> float:
        return time.monotonic() - self.current.started

    def connected_for(self) -> float | None:
        """Seconds since the current process connected to every mailbox, or None."""
        life = self.current
        if life.connected_after_s is None:
            return None
        return self.uptime() - life.connected_after_s

    def poll(self) -> bool:
        """Notes the current process's connection; restarts it if it died alone. True when
        it had to be restarted."""
        life = self.current
        if life.connected_after_s is None:
            connected = {e.get("mailbox") for e in life.run.events("imap_connected")}
            connected.discard(None)
            if len(connected) >= self.mailboxes:
                life.connected_after_s = round(time.monotonic() - life.started, 2)
        if life.run.alive():
            return False
        life.ended_by = "crash"
        life.exit_code = life.run.proc.returncode if life.run.proc else None
        # Its workers may outlive it.
        life.run.stop(timeout=10)
        recent = self.lives[-FAILED_STARTS:]
        if len(recent) == FAILED_STARTS and all(
            x.ended_by == "crash" and x.connected_after_s is None for x in recent
        ):
            raise DaemonWontStartError(
                f"the daemon died {FAILED_STARTS} times in a row before connecting; "
                f"see {life.run.log_path}"
            )
        self.start()
        return True

    def kill_and_restart(self) -> int:
        life = self.current
        life.exit_code = life.run.kill_group()
        life.ended_by = "kill"
        self.start()
        return life.exit_code

    def stop(self) -> int:
        life = self.current
        life.exit_code = life.run.stop(timeout=120)
        life.ended_by = "stop"
        return life.exit_code

    def summary(self) -> dict[str, Any]:
        """How each life went, and the daemon's warnings and errors by event name (its log
        lines hold no patient data; only the event names are kept here)."""
        levels: dict[str, Counter[str]] = {"warning": Counter(), "error": Counter()}
        other = 0
        for life in self.lives:
            found, lines = _log_levels(life.run.log_path)
            other += lines
            for level, names in found.items():
                levels[level].update(names)
        connected = [x.connected_after_s for x in self.lives if x.connected_after_s is not None]
        return {
            "processes": len(self.lives),
            "crashes": sum(1 for x in self.lives if x.ended_by == "crash"),
            "exit_codes": [x.exit_code for x in self.lives],
            "connected_after_s_max": max(connected, default=None),
            "connected_after_s_mean": (
                round(sum(connected) / len(connected), 2) if connected else None
            ),
            "log_warnings": dict(levels["warning"].most_common()),
            "log_errors": dict(levels["error"].most_common()),
            # Tracebacks, interpreter warnings, a line a killed process cut short.
            "log_other_lines": other,
        }


def _log_levels(path: Path) -> tuple[dict[str, Counter[str]], int]:
    """Warning and error events by name, and how many lines were not JSON events (counted,
    never copied: a traceback may quote data)."""
    found: dict[str, Counter[str]] = {"warning": Counter(), "error": Counter()}
    other = 0
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return found, other
    for line in text.splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            other += 1
            continue
        if not isinstance(item, dict):
            other += 1
            continue
        level = str(item.get("level", "")).lower()
        if level in ("warning", "warn"):
            found["warning"][str(item.get("event", "?"))] += 1
        elif level in ("error", "critical", "exception"):
            found["error"][str(item.get("event", "?"))] += 1
    return found, other
