"""``python -m bench.fuzz [--n N] [--seed S] [--quick] [--workers W] [--out FILE]``.

Runs a campaign and writes its summary (hangs, over memory, internal errors, crashes, each
bucketed by innermost frame) to ``bench/results/fuzz-<date>.json`` (``--quick``: 500
inputs, one worker, the summary printed and written only with ``--out``). Exit status 1
when any input hung, went over memory, crashed or raised.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench.fuzz.runner import ROOT, Campaign, run_campaign
from bench.fuzz.seeds import load_seeds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__)
    parser.add_argument("--n", type=int, default=None, help="inputs (default 20000; quick: 500)")
    parser.add_argument("--seed", type=int, default=1, help="campaign seed (inputs are derived)")
    parser.add_argument("--quick", action="store_true", help="a short run, as in CI")
    parser.add_argument("--workers", type=int, default=None, help="worker processes")
    parser.add_argument("--time-limit", type=float, default=5.0, help="seconds per input")
    parser.add_argument("--memory-mb", type=int, default=500, help="address space per input")
    parser.add_argument("--out", type=Path, default=None, help="summary JSON file")
    parser.add_argument("--save", type=Path, default=None, help="keep failing inputs here")
    parser.add_argument("--progress", action="store_true")
    parser.add_argument(
        "--only", default=None, help="replay these inputs of the campaign (comma-separated)"
    )
    args = parser.parse_args(argv)
    inputs = args.n if args.n is not None else (500 if args.quick else 20_000)
    workers = args.workers or (1 if args.quick else 2)
    campaign = Campaign(
        inputs=inputs,
        seed=args.seed,
        workers=workers,
        time_limit=args.time_limit,
        memory_mb=args.memory_mb,
    )
    only = [int(i) for i in args.only.split(",")] if args.only else None
    if only is not None:
        campaign.inputs = len(only)
    run_campaign(campaign, load_seeds(), save_dir=args.save, progress=args.progress, only=only)
    summary = {"date": datetime.now(UTC).date().isoformat(), **campaign.summary()}
    out = args.out
    if out is None and not args.quick:
        out = ROOT / "bench" / "results" / f"fuzz-{summary['date']}.json"
    text = json.dumps(summary, indent=2, ensure_ascii=False)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")
    head = {
        k: summary[k]
        for k in ("inputs", "hangs", "over_memory", "internal_errors", "crashes", "wall_s")
    }
    print(json.dumps(head))
    if any(summary[k] for k in ("hangs", "over_memory", "internal_errors", "crashes")):
        print(json.dumps(summary["buckets"], indent=2, ensure_ascii=False), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
