from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing
import os
import subprocess
import sys
import time
from multiprocessing import forkserver
from pathlib import Path

import pytest

import parsers.message as message_module
from gateway.pipeline.parse_pool import ParsePool
from parsers import ParsedMessage, ParseLimits, parse_message
from parsers.request import RequestKind
from tests.parsers.builders import build_teleexpertise_mail


def slow_worker(raw: bytes, limits: ParseLimits | None, kind: RequestKind | None) -> ParsedMessage:
    if b"SLOW" in raw:
        time.sleep(30)
    return parse_message(raw, limits=limits, default_kind=kind)


def dying_worker(raw: bytes, limits: ParseLimits | None, kind: RequestKind | None) -> ParsedMessage:
    if b"DIE" in raw:
        os._exit(3)
    return parse_message(raw, limits=limits, default_kind=kind)


async def test_parse_in_worker() -> None:
    async with ParsePool(max_workers=1) as pool:
        parsed = await pool.parse(build_teleexpertise_mail(), timeout=60)
        assert len(_children(os.getpid())) >= 2  # the fork server and the worker
    assert parsed.request.kind is RequestKind.TELE_EXPERTISE
    assert ParsedMessage.model_validate_json(parsed.model_dump_json()) == parsed
    # Closed: the worker and the fork server it came from are gone, not exiting later.
    assert not [pid for pid in _children(os.getpid()) if "forkserver" in _command(pid)]


def _children(pid: int) -> list[int]:
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        found += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    return [child for child in found if _alive(child)]


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


async def test_timeout_gives_problem_and_replaces_pool() -> None:
    async with ParsePool(max_workers=1, worker=slow_worker) as pool:
        await pool.parse(b"Subject: warm\r\n\r\nx", timeout=60)  # spawn start-up is not the budget
        started = time.monotonic()
        parsed = await pool.parse(b"Subject: lent\r\n\r\nSLOW", timeout=1)
        assert time.monotonic() - started < 10
        assert [p.code for p in parsed.request.problems] == ["parse.timeout"]
        assert parsed.envelope.subject == "lent"
        assert pool.replacements == 1
        again = await pool.parse(b"Subject: ok\r\n\r\nNom : DUPONT", timeout=60)
        assert again.request.patient.family_name == "DUPONT"


async def test_dead_worker_gives_problem() -> None:
    async with ParsePool(max_workers=2, worker=dying_worker) as pool:
        ok, dead = await asyncio.gather(
            pool.parse(b"Subject: a\r\n\r\nNom : DUPONT", timeout=60),
            pool.parse(b"Subject: b\r\n\r\nDIE", timeout=60),
        )
        assert dead.request.problems[0].code == "parse.worker_died"
        assert ok.request.patient.family_name in ("DUPONT", None)
        after = await pool.parse(b"Subject: c\r\n\r\nNom : MARTIN", timeout=60)
        assert after.request.patient.family_name == "MARTIN"


def _workers(pool: ParsePool) -> list[int]:
    processes = pool._executor._processes  # private: the only view of them
    return [pid for pid, process in processes.items() if process.is_alive()]


async def test_a_quiet_pool_keeps_one_worker() -> None:
    async with ParsePool(max_workers=2) as pool:
        # One after another, each as soon as the last returned: the base pool, which marks
        # a worker idle only after its result, would start a second one for that.
        for number in range(30):
            name = f"DUPONT{'X' * number}"
            parsed = await pool.parse(f"Subject: a\r\n\r\nNom : {name}".encode(), timeout=60)
            assert parsed.request.patient.family_name == name
        assert len(_workers(pool)) == 1


async def test_a_backlog_of_ordinary_messages_keeps_one_worker() -> None:
    # Eight at a time, as the pipeline submits a backlog: each finds the worker busy, but it
    # returns every few milliseconds, so a second one would add pages and no throughput.
    async with ParsePool(max_workers=2, grow_after=5.0) as pool:
        for batch in range(5):
            names = [f"DUPONT{'X' * (batch * 8 + i)}" for i in range(8)]
            parsed = await asyncio.gather(
                *(pool.parse(f"Subject: a\r\n\r\nNom : {n}".encode(), timeout=60) for n in names)
            )
            assert [p.request.patient.family_name for p in parsed] == names
        assert len(_workers(pool)) == 1
        assert (pool.live_workers, pool.grown, pool.workers_started) == (1, 0, 1)


async def test_a_message_waiting_behind_a_slow_one_starts_another() -> None:
    async with ParsePool(max_workers=2, worker=slow_worker) as pool:
        await pool.parse(b"Subject: warm\r\n\r\nx", timeout=60)
        slow = asyncio.ensure_future(pool.parse(b"Subject: lent\r\n\r\nSLOW", timeout=60))
        await asyncio.sleep(0.5)  # the slow one holds the first worker
        started = time.monotonic()
        quick = await pool.parse(b"Subject: b\r\n\r\nNom : MARTIN", timeout=60)
        assert quick.request.patient.family_name == "MARTIN"
        # Not queued behind the 30 s parse: a second worker took it once the first had
        # returned nothing for GROW_AFTER_SECONDS.
        assert time.monotonic() - started < 20
        assert len(_workers(pool)) == 2
        assert (pool.live_workers, pool.grown) == (2, 1)
        assert not slow.done()
        slow.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await slow
        # Never more than asked for, however many wait.
        await asyncio.gather(*(pool.parse(b"Subject: c\r\n\r\nx", timeout=60) for _ in range(3)))
        assert len(_workers(pool)) == 2


_CONSOLE_MAIN = """
import asyncio
from gateway.pipeline.parse_pool import ParsePool
from tests.gateway.pipeline.test_parse_pool import main_was_imported

MAIN_MARK = True  # found in a worker only if this script ran there again


async def main() -> None:
    # Ten at once on one worker that leaves after two parses, so that each replacement is
    # started by the pool's manager thread with messages queued.
    async with ParsePool(max_workers=1, worker=main_was_imported, recycle_after=2) as pool:
        parsed = await asyncio.gather(
            *(pool.parse(b"Subject: x\\r\\n\\r\\nbonjour", timeout=120) for _ in range(10))
        )
        print(" ".join(p.envelope.subject for p in parsed), pool.workers_started, pool.replacements)

if __name__ == "__main__":
    asyncio.run(main())
"""


def main_was_imported(
    raw: bytes, limits: ParseLimits | None, kind: RequestKind | None
) -> ParsedMessage:
    again = any(getattr(m, "MAIN_MARK", False) for m in list(sys.modules.values()))
    parsed = parse_message(raw, limits=limits, default_kind=kind)
    subject = f"{'main-imported' if again else 'lean'}:{os.getpid()}"
    envelope = parsed.envelope.model_copy(update={"subject": subject})
    return parsed.model_copy(update={"envelope": envelope})


def test_workers_are_replaced_after_their_parse_count_lean_with_the_queue_going_on(
    tmp_path: Path,
) -> None:
    # Replaced after ``recycle_after`` parses, a worker is forked anew, and the queue goes on:
    # Python 3.11's own replacement can count a stale idle token and start none, leaving the
    # rest queued for ever (CPython gh-115634); the timeout below turns that into a failure.
    # Run as a file, the script's __main__ has a path and no spec: multiprocessing would
    # import it again in each worker (for `aiguilleur`, the whole CLI), replacements too.
    script = tmp_path / "console.py"
    script.write_text(_CONSOLE_MAIN, encoding="utf-8")
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    *subjects, started, replacements = done.stdout.split()
    assert {s.split(":")[0] for s in subjects} == {"lean"}
    workers = len({s.split(":")[1] for s in subjects})
    assert workers >= 5  # a new worker every two parses
    assert int(started) >= workers  # each counted (the metric ops read)
    assert (len(subjects), replacements) == (10, "0")  # none replaced as broken


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.1)
    return not _alive(pid)


def pausing_worker(
    raw: bytes, limits: ParseLimits | None, kind: RequestKind | None
) -> ParsedMessage:
    if b"PAUSE" in raw:
        time.sleep(2)
    return parse_message(raw, limits=limits, default_kind=kind)


async def test_idle_workers_are_let_go_and_the_next_message_forks_one() -> None:
    async with ParsePool(max_workers=2, worker=pausing_worker, idle_release=0.5) as pool:
        # Busy for four times the idle delay: not idle, nothing let go.
        await pool.parse(b"Subject: a\r\n\r\nPAUSE", timeout=60)
        assert pool.releases == 0
        (first,) = _workers(pool)
        assert await asyncio.to_thread(_gone_within, first, 15.0)
        assert pool.releases == 1
        again = await pool.parse(b"Subject: b\r\n\r\nNom : MARTIN", timeout=60)
        assert again.request.patient.family_name == "MARTIN"
        assert len(_workers(pool)) == 1
        assert first not in _workers(pool)


_ORPHAN_SCRIPT = """
import asyncio, sys, time
from multiprocessing import forkserver
from gateway.pipeline.parse_pool import ParsePool

async def main() -> None:
    pool = ParsePool(max_workers=1)
    await pool.parse(b"Subject: x\\r\\n\\r\\nbonjour", timeout=120)
    pids = [*pool._executor._processes, forkserver._forkserver._forkserver_pid]
    print(" ".join(str(pid) for pid in pids), flush=True)
    time.sleep(600)

asyncio.run(main())
"""


def test_workers_exit_when_the_daemon_is_killed() -> None:
    # SIGKILL leaves no chance to shut the pool down: the workers and the fork server they
    # came from must notice alone.
    parent = subprocess.Popen(
        [sys.executable, "-c", _ORPHAN_SCRIPT],
        cwd=Path(__file__).resolve().parents[3],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        workers = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(workers) == 2 and all(_alive(pid) for pid in workers)
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers), "parse workers outlived their daemon"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def hungry_worker(
    raw: bytes, limits: ParseLimits | None, kind: RequestKind | None
) -> ParsedMessage:
    if b"HUNGRY" in raw:
        block = bytearray(1536 * 1024 * 1024)  # 1.5 GB: fine for the host, not for a worker
        del block
    return parse_message(raw, limits=limits, default_kind=kind)


async def test_memory_ceiling_quarantines_and_replaces_the_worker() -> None:
    async with ParsePool(max_workers=1, worker=hungry_worker, memory_mb=200) as pool:
        await pool.parse(b"Subject: warm\r\n\r\nx", timeout=120)
        parsed = await pool.parse(b"Subject: gros\r\n\r\nHUNGRY", timeout=60)
        assert [p.code for p in parsed.request.problems] == ["parse.memory_exceeded"]
        assert parsed.envelope.subject == "gros"
        assert pool.replacements == 1  # a fresh worker, and the message is not retried
        again = await pool.parse(b"Subject: ok\r\n\r\nNom : DUPONT", timeout=120)
        assert again.request.patient.family_name == "DUPONT"


def test_parse_message_reports_memory_exhaustion(monkeypatch: pytest.MonkeyPatch) -> None:
    # Under the worker's RLIMIT_AS an allocation fails with MemoryError, a precise problem.
    def exhausted(*_: object) -> ParsedMessage:
        raise MemoryError

    monkeypatch.setattr(message_module, "_parse", exhausted)
    parsed = parse_message(b"From: a@b.test\r\nSubject: x\r\n\r\nNom : X")
    assert [p.code for p in parsed.request.problems] == ["parse.memory_exceeded"]
    assert parsed.envelope.from_addr == "a@b.test"


_STARTING_WORKER = """
import sys, time
from gateway.pipeline import parse_pool

class Daemon:  # multiprocessing's view of the daemon, through its start-up pipe
    def __init__(self, alive: bool) -> None:
        self.alive = alive
    def is_alive(self) -> bool:
        return self.alive
    def join(self, timeout: float | None = None) -> None:
        time.sleep(0.5)  # the daemon dies half a second after the worker started

parse_pool.warm_up = lambda: print("loaded", flush=True)
ready = parse_pool._ready(0, Daemon(sys.argv[1] == "alive"))
print("ready" if ready else "refused", flush=True)
time.sleep(30)
print("outlived its daemon", flush=True)
"""


@pytest.mark.parametrize(("daemon", "output"), [("alive", "loaded\nready\n"), ("dead", "")])
def test_a_worker_leaves_when_its_daemon_dies(daemon: str, output: str) -> None:
    # Dead before the worker started: it leaves before loading anything. Dead later: the
    # watch thread ends it. A pid would not do: a forked worker's parent is the fork server.
    done = subprocess.run(
        [sys.executable, "-c", _STARTING_WORKER, daemon],
        cwd=Path(__file__).resolve().parents[3],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, output), done.stderr


def test_workers_are_forked_from_the_preloaded_server() -> None:
    # The NLP pipeline is loaded once, before the fork: a worker finds it already built.
    async def loaded_in_worker() -> tuple[bool, int, int]:
        async with ParsePool(max_workers=1, worker=pipeline_was_loaded) as pool:
            parsed = await pool.parse(b"Subject: x\r\n\r\nbonjour", timeout=120)
            server = vars(forkserver._forkserver)["_forkserver_pid"]  # private, untyped
            threads = len(os.listdir(f"/proc/{server}/task"))
        return parsed.envelope.subject == "preloaded", pool.replacements, threads

    # One thread in the server that forks: a lock held by another would stay locked for ever
    # in every worker (OpenBLAS and tqdm would each start one).
    assert asyncio.run(loaded_in_worker()) == (True, 0, 1)


def pipeline_was_loaded(
    raw: bytes, limits: ParseLimits | None, kind: RequestKind | None
) -> ParsedMessage:
    from parsers.prose import nlp

    # The preload ran in this process's memory before the fork (its module is here, and the
    # objects it froze), and a hit on the cached pipeline means nobody built it again.
    hits = nlp._pipeline.cache_info().hits
    nlp._pipeline()
    preloaded = (
        "gateway.pipeline.preload" in sys.modules
        and gc.get_freeze_count() > 0
        and nlp._pipeline.cache_info().hits == hits + 1
        and os.getppid() != _daemon_pid()
    )
    parsed = parse_message(raw, limits=limits, default_kind=kind)
    envelope = parsed.envelope.model_copy(update={"subject": "preloaded" if preloaded else "x"})
    return parsed.model_copy(update={"envelope": envelope})


def _daemon_pid() -> int:
    parent = multiprocessing.parent_process()
    return -1 if parent is None or parent.pid is None else parent.pid


def test_workers_hold_neither_the_orm_nor_pandas() -> None:
    # What the fork server imports, every worker holds: the case work and its ORM, pandas
    # (EDS-NLP's verb tables) and the pyarrow it would load are 140 MB no parse ever uses.
    # spaCy, which every parse does use, shows the check sees what is loaded.
    async def loaded_in_worker() -> str | None:
        async with ParsePool(max_workers=1, worker=heavy_modules) as pool:
            parsed = await pool.parse(b"Subject: x\r\n\r\nbonjour", timeout=120)
        return parsed.envelope.subject

    assert asyncio.run(loaded_in_worker()) == "spacy"


def heavy_modules(
    raw: bytes, limits: ParseLimits | None, kind: RequestKind | None
) -> ParsedMessage:
    names = (
        "spacy",
        "pandas",
        "pyarrow",
        "sqlalchemy",
        "gateway.cases.flow",
        "gateway.pipeline.worker",
    )
    loaded = ",".join(name for name in names if sys.modules.get(name) is not None)
    parsed = parse_message(raw, limits=limits, default_kind=kind)
    return parsed.model_copy(
        update={"envelope": parsed.envelope.model_copy(update={"subject": loaded})}
    )
