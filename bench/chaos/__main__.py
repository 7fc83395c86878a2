"""``python -m bench.chaos``: see the package's docstring."""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import date
from pathlib import Path
from typing import Any

from bench.chaos.databases import PgServer
from bench.chaos.report import revision, table
from bench.chaos.run import ChaosRun
from bench.chaos.settings import FULL, QUICK, kill_plan
from bench.e2e import machine, save_results
from deploy.mailstack import MailStack, MailStackError, check_prerequisites


def run(args: argparse.Namespace) -> dict[str, Any]:
    sizes = QUICK if args.quick else FULL
    if args.n:
        sizes = replace(sizes, n=args.n)
    if args.kills is not None:
        sizes = replace(sizes, kills=args.kills)
    plan = kill_plan(sizes.kills, args.seed)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    check_prerequisites()
    base = Path(tempfile.mkdtemp(prefix="aig-bench-chaos-"))
    base.chmod(0o755)  # Dovecot's unprivileged mail processes traverse it
    stack = MailStack(base / "stack")
    pg = PgServer()
    results: dict[str, Any] = {
        "bench": "chaos",
        "date": date.today().isoformat(),
        "mode": "quick" if args.quick else "full",
        "seed": args.seed,
        "sizes": asdict(sizes),
        "revision": {**revision(), "note": args.note},
        "machine": machine(),
        "workload": "one burst through Postfix: 2 signalements (DOCX form) for 1 "
        "télé-expertise (CDA or IHE_XDM.ZIP); daemon on its default settings, SIGKILL of "
        "its process group then an immediate restart, same configuration and database",
        "plan": [k.as_dict() for k in plan],
        "runs": {},
    }
    started = time.monotonic()
    finished = False
    try:
        stack.start()
        chaos = ChaosRun(stack, base / "work", sizes, plan, pg)
        for kind in kinds:
            results["runs"][kind] = chaos.backend(kind)
            print(f"{kind}: done in {results['runs'][kind]['wall_s']} s", file=sys.stderr)
        if "postgresql" in kinds:
            results["postgresql_server"] = pg.origin
        finished = True
    finally:
        with contextlib.suppress(MailStackError):
            stack.stop()
        pg.close()
        if args.keep or not finished:  # a failed run keeps its logs
            print(f"kept: {base}", file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)
    results["duration_s"] = round(time.monotonic() - started, 1)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.chaos",
        description="SIGKILL the daemon under load; count lost, duplicated, stuck (issue 12).",
    )
    parser.add_argument("--quick", action="store_true", help="60 requests, 3 kills (CI smoke)")
    parser.add_argument("--n", type=int, default=0, help="requests (default 1000, quick 60)")
    parser.add_argument("--kills", type=int, default=None, help="SIGKILLs (default 20, quick 3)")
    parser.add_argument("--seed", type=int, default=12, help="seed of the kill moments")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--output", type=Path, default=None, help="results file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--note", default="", help="recorded as is: what was benched, and why")
    args = parser.parse_args(argv)
    results = run(args)
    suffix = "-quick" if args.quick else ""
    out = save_results(results, args.output, f"chaos-{results['date']}{suffix}.json")
    print(table(results))
    print(f"results: {out}")
    failed = [kind for kind, r in results["runs"].items() if r["lost"] or r["distinct_duplicates"]]
    if failed:
        print(f"FAILED: lost or duplicated requests on {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
