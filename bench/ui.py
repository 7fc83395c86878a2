"""Routing-log benchmark: seed many cases, then time the pages coordinators open most.

Run: ``uv run python bench/ui.py`` (1,000,000 cases in SQLite), ``--quick`` (20,000),
``--db postgresql://…`` for PostgreSQL. Each request goes through the whole application
in process (session check, query, template), so the figures are server time without the
network. Writes ``bench/results/ui-<date>.json`` (``--out`` to choose), keyed by backend.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import col, select  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from gateway.config import parse_config  # noqa: E402
from gateway.storage.db import make_engine, upgrade  # noqa: E402
from gateway.storage.models import Case  # noqa: E402
from gateway.web.app import create_app  # noqa: E402
from gateway.web.context import WebContext  # noqa: E402
from tests.support.web import login, make_users  # noqa: E402

TARGET_P95_MS = 300.0
PROGRAMMES = (
    ("signalement", 55),
    ("tele_expertise", 30),
    ("appui_dac", 10),
    ("medecin_referent", 5),
)
STATUSES = (
    ("routed", 30),
    ("closed", 25),
    ("accepted", 12),
    ("completed", 10),
    ("ineligible", 8),
    ("incomplete", 6),
    ("received", 4),
    ("waiting_coordinator", 3),
    ("rejected", 1),
    ("eligible", 1),
)
COLUMNS = (
    "reference",
    "programme",
    "status",
    "mailbox",
    "sender",
    "opened_at",
    "updated_at",
    "decision",
    "doctor_rpps",
    "doctor_name",
    "patient_family_name",
    "patient_ins",
)
SYLLABLES = ("ma", "du", "ber", "lo", "pe", "ti", "ran", "mo", "ri", "gau", "che", "vin", "nor")


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...], n: int) -> list[str]:
    return rng.choices([v for v, _ in table], weights=[w for _, w in table], k=n)


def _rows(count: int, seed: int = 7) -> Iterator[tuple[object, ...]]:
    """Cases spread over two years, oldest first, as the pipeline would have opened them."""
    rng = random.Random(seed)
    names = sorted(
        {"".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))).upper() for _ in range(3000)}
    )
    doctors = [(f"1{n:010d}", f"Dr Médecin {n}") for n in range(200)]
    senders = [f"pro{n}@exemple.mssante.fr" for n in range(2000)]
    start = datetime(2024, 11, 23, tzinfo=UTC)
    step = (2 * 365 * 86400) / count
    programmes = _weighted(rng, PROGRAMMES, count)
    statuses = _weighted(rng, STATUSES, count)
    for i in range(count):
        opened = start + timedelta(seconds=i * step + rng.random())
        doctor = rng.choice(doctors) if statuses[i] in ("routed", "accepted", "closed") else None
        yield (
            f"AIG-{opened.year}-{i + 1:06d}" if i < 999_999 else f"AIG-{opened.year}-X{i}",
            programmes[i],
            statuses[i],
            "sig",
            rng.choice(senders),
            opened,
            opened,
            "eligible" if statuses[i] != "ineligible" else "ineligible",
            doctor[0] if doctor else None,
            doctor[1] if doctor else None,
            rng.choice(names),
            f"{rng.randint(1, 2)}{rng.randint(10**13, 10**14 - 1)}",
        )


def _sqlite_time(value: datetime) -> str:
    # SQLAlchemy's SQLite DateTime format: always with microseconds, UTC, no offset.
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def seed_sqlite(path: str, count: int) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")  # a throwaway benchmark database
    marks = ",".join("?" * len(COLUMNS))
    sql = f"INSERT INTO cases ({','.join(COLUMNS)}) VALUES ({marks})"
    batch: list[tuple[object, ...]] = []
    for row in _rows(count):
        batch.append(tuple(_sqlite_time(v) if isinstance(v, datetime) else v for v in row))
        if len(batch) == 50_000:
            conn.executemany(sql, batch)
            batch.clear()
    conn.executemany(sql, batch)
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


def seed_postgres(url: str, count: int) -> None:
    with psycopg.connect(url) as conn:
        with conn.cursor() as cur, cur.copy(f"COPY cases ({','.join(COLUMNS)}) FROM STDIN") as copy:
            for row in _rows(count):
                copy.write_row(row)
        conn.execute("ANALYZE cases")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _time(
    client: TestClient, paths: Callable[[int], str], repeat: int, target_ms: float = TARGET_P95_MS
) -> dict[str, float]:
    client.get(paths(0))  # warm the caches once
    samples = []
    for i in range(repeat):
        t0 = time.perf_counter()
        response = client.get(paths(i))
        samples.append((time.perf_counter() - t0) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{paths(i)}: HTTP {response.status_code}")
    p95 = _percentile(samples, 0.95)
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(p95, 2),
        "max_ms": round(max(samples), 2),
        "target_p95_ms": target_ms,
        "meets_target": p95 < target_ms,
    }


def run(url: str, count: int, repeat: int) -> dict[str, object]:
    upgrade(url)
    t0 = time.perf_counter()
    if url.startswith("sqlite"):
        database = make_url(url).database
        assert database is not None
        seed_sqlite(database, count)
    else:
        seed_postgres(url, count)
    seed_seconds = time.perf_counter() - t0
    engine = make_engine(url)
    workdir = Path(tempfile.mkdtemp(prefix="aig-bench-ui-"))
    config = parse_config(
        {"database": {"url": url}, "web": {"secret_key_file": str(workdir / "secret")}},
        environ={},
    )
    make_users(engine)
    client = TestClient(create_app(WebContext.build(config, engine)))
    login(client, "viewer")
    ids = random.Random(11).sample(range(1, count + 1), repeat + 1)
    with engine.connect() as conn:
        refs = [
            str(r[0]) for r in conn.execute(select(Case.reference).where(col(Case.id).in_(ids)))
        ]
    last_month = (date(2026, 11, 23) - timedelta(days=30)).isoformat()
    results: dict[str, object] = {
        "cases": count,
        "seed_seconds": round(seed_seconds, 1),
        "repeat": repeat,
        "first_page": _time(client, lambda i: "/cases", repeat),
        "filtered_page": _time(
            client,
            lambda i: (
                f"/cases?programme=tele_expertise&status=waiting_coordinator&from={last_month}"
            ),
            repeat,
        ),
        "filtered_programme_status": _time(
            client, lambda i: "/cases?programme=appui_dac&status=closed", repeat
        ),
        "search_reference": _time(client, lambda i: f"/cases?q={refs[i % len(refs)]}", repeat),
        "search_patient_name": _time(client, lambda i: "/cases?q=MADU", repeat),
        "doctor_filter": _time(client, lambda i: "/cases?doctor=10000000042", repeat),
        "case_page": _time(client, lambda i: f"/cases/{refs[i % len(refs)]}", repeat),
        "dashboard": _time(client, lambda i: "/", repeat),
        # A scrape is not a page: its budget is Prometheus's default scrape timeout.
        "metrics_scrape": _time(client, lambda i: "/metrics", max(5, repeat // 4), 10_000.0),
    }
    engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--quick", action="store_true", help="20,000 cases, 20 repeats")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "results" / f"ui-{date.today()}.json"
    )
    args = parser.parse_args()
    count, repeat = (20_000, 20) if args.quick else (args.cases, args.repeat)
    url = args.db or f"sqlite:///{tempfile.mkdtemp(prefix='aig-bench-ui-')}/bench.db"
    backend = "postgresql" if url.startswith("postgres") else "sqlite"
    results = run(url, count, repeat)
    print(json.dumps({backend: results}, indent=2))
    existing = json.loads(args.out.read_text()) if args.out.exists() else {}
    existing[backend if not args.quick else f"{backend}-quick"] = results
    existing["target_p95_ms"] = TARGET_P95_MS
    buffer = io.StringIO()
    json.dump(existing, buffer, indent=2)
    args.out.write_text(buffer.getvalue() + "\n")


if __name__ == "__main__":
    main()
