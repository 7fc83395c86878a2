"""One chaos run per database: burst, kills at the planned moments, settle, tally."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.chaos.daemon import Incarnations
from bench.chaos.databases import PgServer, database
from bench.chaos.settings import Kill, Sizes
from bench.chaos.tally import db_progress, read_db, tally
from bench.e2e import new_cast, offers_expected, write_config
from bench.e2e_workload import MaildirWatcher, RequestFactory, Submitter, count_files
from deploy.mailstack import MailStack
from gateway.config import load_config

__all__ = ["ChaosRun"]

POSTFIX_QUEUES = ("maildrop", "incoming", "active", "deferred")


def _postfix_backlog(stack: MailStack) -> int:
    """Mails Postfix still holds: a copy sent just before the end is still on its way."""
    root = stack.base_dir / "postfix" / "queue"
    return sum(len(files) for q in POSTFIX_QUEUES for _, _, files in os.walk(root / q))


@dataclass
class ChaosRun:
    stack: MailStack
    workdir: Path
    sizes: Sizes
    plan: Sequence[Kill]
    pg: PgServer
    factory: RequestFactory = field(default_factory=RequestFactory)

    def backend(self, kind: str) -> dict[str, Any]:
        cast = new_cast(self.stack, f"chaos-{kind[:2]}")
        work = self.workdir / kind
        with database(kind, work, self.pg) as url:
            config = write_config(work, self.stack, cast, url)
            if self.sizes.parse_processes is not None:
                with config.open("a", encoding="utf-8") as handle:
                    handle.write(f"[pipeline]\nparse_processes = {self.sizes.parse_processes}\n")
            connections = load_config(config).smtp.connections
            requests = cast.requests(self.factory, self.sizes.n)
            ids = [r.message_id for r in requests]
            want_doctor_mails = offers_expected(requests, len(cast.derms))
            boxes = (*cast.gateways, cast.te)
            watched = [self.stack.maildir(u) for u in boxes]
            acks = MaildirWatcher(cast.sender_folders(self.stack), interval=0.1).start()
            doctors = MaildirWatcher(cast.doctor_folders(self.stack), interval=0.25).start()
            daemons = Incarnations(config, work, mailboxes=len(watched))
            kills: list[dict[str, Any]] = []
            kill_times: list[float] = []
            started = time.monotonic()
            daemons.start()
            try:
                submitter, accepted = Submitter(
                    self.stack.host, self.stack.smtp_port
                ).submit_in_thread(requests)
                expected = len(ids) + want_doctor_mails
                for step in self.plan:
                    waited = self._wait_for(step, daemons, [acks, doctors], expected)
                    time.sleep(step.delay_s)
                    daemons.poll()
                    answered = acks.answered(ids)
                    delivered = acks.total() + doctors.total()
                    uptime = daemons.uptime()
                    kill_times.append(time.time())
                    code = daemons.kill_and_restart()
                    kills.append(
                        {
                            "index": step.index,
                            "at_s": round(time.monotonic() - started, 2),
                            "acknowledged_before": answered,
                            "mails_delivered_before": delivered,
                            "uptime_s": round(uptime, 2),
                            "stalled": not waited,
                            "exit_code": code,
                        }
                    )
                submitter.join(timeout=600)
                last_restart = time.monotonic()
                settled = self._settle(daemons, acks, doctors, ids, want_doctor_mails, url, watched)
                settle_s = time.monotonic() - last_restart
                exit_code = daemons.stop()
            finally:
                if daemons.current.ended_by == "":
                    daemons.stop()
            wall = time.monotonic() - started
            acks.stop()
            doctors.stop()
            result = tally(
                request_ids=ids,
                acks=acks,
                doctors=doctors,
                db=read_db(url),
                kill_times=kill_times,
                connections=connections,
                doctor_mails_expected=want_doctor_mails,
                left_on_server=count_files(watched),
            )
        return {
            **result,
            # Postfix took them all (else "lost" counts requests never sent).
            "submitted": len(accepted),
            # Each request moved once: more than N means one was copied twice.
            "in_processed_folder": count_files(self.stack.maildir(u, "Traites") for u in boxes),
            "kills_done": len(kills),
            "settled": settled,
            "settle_s": round(settle_s, 1),
            "wall_s": round(wall, 1),
            "exit_code": exit_code,
            "daemon": daemons.summary(),
            "kills": kills,
        }

    def _wait_for(
        self,
        step: Kill,
        daemons: Incarnations,
        watchers: Sequence[MaildirWatcher],
        expected: int,
    ) -> bool:
        """Until the step's moment; False when the work stalled and the kill comes anyway."""
        deadline = time.monotonic() + self.sizes.stall_s
        threshold = int(step.after * expected)
        while time.monotonic() < deadline:
            daemons.poll()
            connected = daemons.connected_for()
            if (
                connected is not None
                and connected >= step.connected_s
                and sum(w.total() for w in watchers) >= threshold
            ):
                return True
            time.sleep(0.05)
        return False

    def _settle(
        self,
        daemons: Incarnations,
        acks: MaildirWatcher,
        doctors: MaildirWatcher,
        ids: Sequence[str],
        want_doctor_mails: int,
        url: str,
        watched: Sequence[Path],
    ) -> bool:
        """Until the last process has connected (so it has recovered what its predecessor
        left), every request is answered, every doctor mailed, nothing is open or pending in
        the database and the watched INBOXes are empty; then until Postfix has delivered
        what it holds, so a late copy is counted."""
        deadline = time.monotonic() + self.sizes.settle_s
        done = False
        while time.monotonic() < deadline and not done:
            daemons.poll()
            if (
                daemons.connected_for() is not None
                and acks.answered(ids) >= len(ids)
                and len({i.message_id for v in doctors.replies.values() for i in v})
                >= want_doctor_mails
                and count_files(watched) == 0
            ):
                progress = db_progress(url)
                done = progress.inbound_open == 0 and progress.outbound_pending == 0
            if not done:
                time.sleep(0.5)
        time.sleep(1.0)
        drain = time.monotonic() + 30.0
        while time.monotonic() < drain and _postfix_backlog(self.stack) > 0:
            time.sleep(0.25)
        return done
