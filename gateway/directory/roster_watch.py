"""The roster file, re-read when it changes, so an edit (web UI or by hand) needs no restart."""

from __future__ import annotations

import threading
from pathlib import Path

import structlog

from gateway.directory.roster import RosterError, load_roster
from gateway.loops import LoopHealth
from gateway.routing.roster import RosterDoctor

__all__ = ["RosterFile"]

log = structlog.get_logger("aiguilleur.roster")


class RosterFile:
    """Loads at once (a broken file stops the start), then reloads on a new mtime.

    A broken edit later is logged and the last good roster is kept: offers go on.
    """

    def __init__(self, path: Path, loops: LoopHealth | None = None) -> None:
        self.path = path
        self._loops = loops or LoopHealth()
        self._lock = threading.Lock()
        self._stamp = self._stat()
        self._doctors = load_roster(path)

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def doctors(self) -> tuple[RosterDoctor, ...]:
        stamp = self._stat()
        if stamp is None or stamp == self._stamp:
            return self._doctors
        with self._lock:
            if stamp != self._stamp:
                try:
                    self._doctors = load_roster(self.path)
                    log.info("roster_reloaded", doctors=len(self._doctors))
                    self._loops.ok("roster_watch")
                except (RosterError, OSError) as exc:  # /readyz is red until a good edit
                    log.error("roster_reload_failed", error=str(exc)[:300])
                    self._loops.failed("roster_watch", exc)
                self._stamp = stamp  # do not retry a broken file on every access
        return self._doctors
