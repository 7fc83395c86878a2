"""The interleaved bench: its ratios, and a smoke run of an earlier commit against this tree.
No timing is asserted: figures on a shared 2-core machine are noise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.e2e import QUICK
from bench.interleaved import TreeBench, pair_order, summary
from tests.support.bench import run_bench
from tests.support.mailstack import require_mail_stack


def test_summary_pairs_each_round_and_takes_the_median() -> None:
    def row(round_: int, tree: str, rate: float, cpu: float) -> dict[str, object]:
        return {
            "round": round_,
            "workload": "mix",
            "tree": tree,
            "rate_per_s": rate,
            "cpu_s_per_1000": cpu,
            "main_cpu_s_per_1000": cpu / 2,
        }

    runs = [
        row(0, "before", 20.0, 40.0),
        row(0, "after", 25.0, 30.0),
        row(1, "before", 10.0, 50.0),
        row(1, "after", 11.0, 45.0),
        row(2, "before", 30.0, 20.0),  # a round cut short: no pair, not counted
    ]
    found = summary(runs)["mix"]
    assert found["ratios_per_round"] == [
        {"rate_per_s": 1.25, "cpu_s_per_1000": 0.75, "main_cpu_s_per_1000": 0.75},
        {"rate_per_s": 1.1, "cpu_s_per_1000": 0.9, "main_cpu_s_per_1000": 0.9},
    ]
    assert found["median"] == {
        "rate_per_s": 1.175,
        "cpu_s_per_1000": 0.825,
        "main_cpu_s_per_1000": 0.825,
    }


def test_every_other_round_runs_the_pair_the_other_way_round() -> None:
    assert [pair_order(r) for r in range(4)] == [
        ("before", "after"),
        ("after", "before"),
        ("before", "after"),
        ("after", "before"),
    ]


def test_an_earlier_tree_migrates_its_own_database(tmp_path: Path) -> None:
    """Its daemon refuses a schema newer than its migrations: ours would be."""
    tree = tmp_path / "tree"
    (tree / "gateway" / "storage").mkdir(parents=True)
    (tree / "gateway" / "__init__.py").write_text("")
    (tree / "gateway" / "storage" / "__init__.py").write_text("")
    (tree / "gateway" / "storage" / "db.py").write_text(
        "def upgrade(url):\n    open(url, 'w').write('migrated by the earlier tree')\n"
    )
    target = tmp_path / "db"
    bench = TreeBench(None, tmp_path / "work", QUICK, tree=tree)  # type: ignore[arg-type]
    bench.migrate(str(target))
    assert target.read_text() == "migrated by the earlier tree"


@pytest.mark.e2e
def test_an_earlier_commit_runs_beside_this_tree(tmp_path: Path) -> None:
    require_mail_stack()
    out = tmp_path / "interleaved.json"
    done = run_bench(
        "bench.interleaved",
        *("--before", "HEAD", "--n", "20", "--rounds", "1", "--workloads", "ack_only"),
        *("--output", str(out)),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads(out.read_text(encoding="utf-8"))
    assert [(r["tree"], r["complete"], r["duplicate_replies"]) for r in results["runs"]] == [
        ("before", True, 0),
        ("after", True, 0),
    ]
    assert set(results["summary"]["ack_only"]["median"]) == {
        "rate_per_s",
        "cpu_s_per_1000",
        "main_cpu_s_per_1000",
        "cpu_over_servers",
    }
