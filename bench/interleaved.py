"""Two daemons on one mail stack, run after run: what a change is worth on a drifting machine.

Run: ``uv run python -m bench.interleaved --before <commit or tree> [--n 600] [--rounds 2]
[--workloads mix,ack_only] [--db sqlite]``.

The machines here are shared and their speed moves by a third within an hour, so two full
``bench.e2e`` runs made apart cannot tell a 10 % change. This bench starts one mail stack and
alternates, round after round, the same ``bench.e2e`` rate run (warm-up left out) on the
daemon of an earlier tree and on this tree's: the ratio of each pair is the change, the spread
of the ratios over the rounds is the noise. Odd rounds run the pair in the other order
(before, after, after, before), so that whatever favours one slot of a pair (on one machine
the same change read 1.1 in a fixed order and 0.85 in the next run) does not pass for it.
``--before`` names a commit (checked out in a temporary ``git worktree``) or a source tree;
both run with this checkout's virtual environment, so the earlier tree must run on the same
locked dependencies.

Results go to ``bench/results/interleaved-<date>.json``; a short table is printed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bench.e2e import QUICK, Bench, BenchStack, Sizes, finish, fmt, machine
from bench.e2e_procs import DaemonRun
from deploy.mailstack import MailStackError, check_prerequisites

ROOT = Path(__file__).resolve().parents[1]
# What each run keeps from bench.e2e's rate run.
FIELDS = (
    "rate_per_s",
    "cpu_s_per_1000",
    "main_cpu_s_per_1000",
    "servers_cpu_s_per_1000",
    "duplicate_replies",
    "complete",
)
_MIGRATE = "import sys; from gateway.storage.db import upgrade; upgrade(sys.argv[1])"
# Compared as after / before: below 1 is better for CPU, above 1 for the rate. The last is
# the daemon's CPU per request over the mail servers' (the same work on both sides): the
# machine's speed, which moves even between the two runs of a pair, cancels out of it.
RATIOS = ("rate_per_s", "cpu_s_per_1000", "main_cpu_s_per_1000", "cpu_over_servers")


@dataclass
class TreeBench(Bench):
    """``bench.e2e``'s bench, with the daemon's code taken from ``tree`` when one is set."""

    tree: Path | None = None

    def migrate(self, url: str) -> None:
        # The earlier tree's migrations: its daemon refuses a schema newer than it knows.
        if self.tree is None:
            super().migrate(url)
            return
        subprocess.run(
            [sys.executable, "-c", _MIGRATE, url],
            env={**os.environ, "PYTHONPATH": str(self.tree)},
            cwd=self.tree,  # "-c" puts the working directory first on the path
            check=True,
        )

    def daemon(self, name: str, config: Path, *, profile: bool = False) -> DaemonRun:
        # The console script imports ``gateway`` from the first entry of its path; the parse
        # workers are given the daemon's path, so they run the same tree.
        env = {"PYTHONPATH": str(self.tree)} if self.tree is not None else {}
        return DaemonRun(config, self.workdir / f"{name}.log", env=env)


@contextlib.contextmanager
def source_tree(before: str) -> Iterator[Path]:
    """A directory holding ``before``'s sources: itself if it is one, else a worktree."""
    given = Path(before)
    if (given / "gateway").is_dir():
        yield given.resolve()
        return
    scratch = Path(tempfile.mkdtemp(prefix="aig-before-"))
    tree = scratch / "tree"
    subprocess.run(
        ["git", "worktree", "add", "--detach", "--quiet", str(tree), before],
        cwd=ROOT,
        check=True,
    )
    try:
        yield tree
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)
        shutil.rmtree(scratch, ignore_errors=True)


def pair_order(round_: int) -> tuple[str, str]:
    """Before then after, and the other way round every other round (ABBA), so that neither
    tree always has the same slot of a pair."""
    return ("before", "after") if round_ % 2 == 0 else ("after", "before")


def summary(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per workload: each round's after/before ratios, and their median."""
    out: dict[str, Any] = {}
    for workload in dict.fromkeys(r["workload"] for r in runs):
        pairs: list[dict[str, float]] = []
        rounds = sorted({r["round"] for r in runs if r["workload"] == workload})
        for round_ in rounds:
            side = {
                r["tree"]: r for r in runs if r["workload"] == workload and r["round"] == round_
            }
            if {"before", "after"} <= side.keys():
                pairs.append(
                    {
                        key: round(side["after"][key] / side["before"][key], 3)
                        for key in RATIOS
                        if side["before"].get(key) and side["after"].get(key) is not None
                    }
                )
        out[workload] = {
            "ratios_per_round": pairs,
            "median": {
                key: round(statistics.median(p[key] for p in pairs if key in p), 3)
                for key in RATIOS
                if any(key in p for p in pairs)
            },
        }
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    check_prerequisites()
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    base = Path(tempfile.mkdtemp(prefix="aig-bench-interleaved-"))
    base.chmod(0o755)  # Dovecot's unprivileged mail processes traverse it
    stack = BenchStack(base / "stack")
    sizes = Sizes(**{**QUICK.__dict__, "n": args.n})
    runs: list[dict[str, Any]] = []
    results: dict[str, Any] = {
        "bench": "interleaved",
        "date": date.today().isoformat(),
        "machine": machine(),
        "before": args.before,
        "n": args.n,
        "database": args.db,
        "runs": runs,
    }
    try:
        with source_tree(args.before) as tree:
            stack.start()
            for round_ in range(args.rounds):
                for workload in workloads:
                    for side in pair_order(round_):
                        code = tree if side == "before" else None
                        name = f"r{round_}-{workload}-{side}"
                        bench = TreeBench(stack, base / name, sizes, run_tag=name, tree=code)
                        found = bench.rate(
                            args.db, latency=False, workload=None if workload == "mix" else workload
                        )
                        row = {"round": round_, "workload": workload, "tree": side}
                        row.update({key: found.get(key) for key in FIELDS})
                        if found.get("servers_cpu_s_per_1000"):
                            row["cpu_over_servers"] = round(
                                found["cpu_s_per_1000"] / found["servers_cpu_s_per_1000"], 3
                            )
                        runs.append(row)
                        print(json.dumps(row), flush=True)
    finally:
        with contextlib.suppress(MailStackError):
            stack.stop()
        shutil.rmtree(base, ignore_errors=True)
    results["summary"] = summary(runs)
    return results


def table(results: dict[str, Any]) -> str:
    rows = [("workload", "after / before (median): rate / CPU / main CPU / CPU over servers")]
    for workload, found in results["summary"].items():
        median = found["median"]
        rows.append((workload, " / ".join(fmt(median.get(key)) for key in RATIOS)))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Two trees' daemons, run after run.")
    parser.add_argument("--before", required=True, help="a commit or a source tree")
    parser.add_argument("--n", type=int, default=600, help="requests per run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workloads", default="mix,ack_only", help="mix, ack_only")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--output", type=Path, default=None, help="results file")
    args = parser.parse_args(argv)
    results = run(args)
    return finish(results, args.output, f"interleaved-{results['date']}.json", table)


if __name__ == "__main__":
    sys.exit(main())
