"""The results file's common part and the printed table (counts only)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

__all__ = ["revision", "table"]

ROOT = Path(__file__).resolve().parents[2]


def revision() -> dict[str, Any]:
    """The commit benched, and the daemon's files changed on top of it (read-only git)."""

    def git(*args: str) -> str:
        done = subprocess.run(
            # No optional locks: reading the status must not rewrite the index.
            ["git", "--no-optional-locks", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        return done.stdout if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD").strip()
    if not commit:  # not a checkout (an export of a commit): --note says which
        return {"code_root": str(ROOT), "commit": None, "uncommitted_daemon_files": None}
    changed = git("status", "--porcelain", "--", "gateway", "parsers", "rules")
    return {
        "code_root": str(ROOT),
        "commit": commit,
        "uncommitted_daemon_files": [line[3:] for line in changed.splitlines() if line],
    }


ROWS: tuple[tuple[str, str], ...] = (
    ("lost", "lost"),
    ("duplicated, distinct Message-IDs", "distinct_duplicates"),
    ("re-sent, same Message-ID (total)", "resent_same_id"),
    ("  per kill: max", "resent_per_kill_max"),
    ("  per kill: mean", "resent_per_kill_mean"),
    ("  bound per kill (smtp.connections)", "resent_bound_per_kill"),
    ("  within bound", "within_bound"),
    ("stuck (open inbound + pending replies)", "stuck"),
    ("left on the server (INBOX)", "left_on_server"),
    ("quarantined / replies failed", "quarantined"),
    ("in Traites (moved) / submitted", "moved"),
    ("doctor mails delivered / expected", "doctor_mails"),
    ("kills done", "kills_done"),
    ("daemon crashes on its own", "crashes"),
    ("exit code of the final SIGTERM", "exit_code"),
    ("settled", "settled"),
    ("wall time (s)", "wall_s"),
)


def _cell(run: dict[str, Any], key: str) -> str:
    if key == "doctor_mails":
        return f"{run['doctor_mails_delivered']}/{run['doctor_mails_expected']}"
    if key == "quarantined":
        return f"{run['quarantined']}/{run['replies_failed']}"
    if key == "moved":
        return f"{run['in_processed_folder']}/{run['submitted']}"
    if key == "crashes":
        return str(run["daemon"]["crashes"])
    value = run.get(key)
    if isinstance(value, bool):
        return "yes" if value else "NO"
    return "-" if value is None else str(value)


def table(results: dict[str, Any]) -> str:
    runs: dict[str, dict[str, Any]] = results["runs"]
    kinds = list(runs)
    head = [
        f"chaos: {results['sizes']['n']} requests, {results['sizes']['kills']} SIGKILLs, "
        f"seed {results['seed']}"
    ]
    width = max(len(label) for label, _ in ROWS)
    head.append(" " * width + "".join(f"  {k:>11}" for k in kinds))
    for label, key in ROWS:
        head.append(label.ljust(width) + "".join(f"  {_cell(runs[k], key):>11}" for k in kinds))
    return "\n".join(head)
