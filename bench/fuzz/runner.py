"""Fuzz campaign: mutated inputs through the parse entry points, each bounded in time and
memory, in long-lived worker processes set up as the daemon's parse workers are.

Each worker loads the NLP pipeline (outside any budget), then caps its address space with
the daemon's own ``limit_memory`` (RLIMIT_AS over the warmed-up size). For every input it
arms ``faulthandler`` to dump its stack just before the time limit; an input still running
at the limit is a *hang*: the worker is killed and replaced, and the hang is bucketed by the
innermost frame of that dump. A ``MemoryError`` (or a peak address space at the ceiling) is
*over memory*; any other exception out of the parsers is an *internal error*; a worker that
dies is a *crash*. Each is bucketed by its innermost frame (and the innermost frame in the
project's own code).
"""

from __future__ import annotations

import faulthandler
import multiprocessing
import os
import random
import re
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from bench.fuzz.mutators import mutate
from bench.fuzz.seeds import Seed

__all__ = ["Campaign", "Outcome", "run_campaign"]

ROOT = Path(__file__).resolve().parents[2]
_FILENAMES = {
    "docx": "formulaire.docx",
    "pdf": "formulaire.pdf",
    "xml": "cda.xml",
    "zip": "IHE_XDM.ZIP",
}
_FRAME = re.compile(r'File "([^"]+)", line (\d+) in (\S+)')


@dataclass(frozen=True)
class Outcome:
    index: int
    status: str  # ok, hang, over_memory, internal_error, crash
    seconds: float
    seed: str
    mutators: tuple[str, ...]
    size: int
    frame: str | None = None  # where it failed: innermost frame [< innermost project frame]


def _short(path: str) -> str:
    """A frame's file: relative to the repository, or to site-packages or the stdlib."""
    library = re.sub(r"^.*/(?:site-packages|lib/python3\.\d+)/", "", path)
    if library != path:
        return library
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return path


def _bucket(frames: Sequence[tuple[str, int, str]], error: str) -> str:
    """``error at innermost`` plus the innermost frame of our own code when they differ."""
    if not frames:
        return error
    inner = frames[-1]
    where = f"{_short(inner[0])}:{inner[1]} {inner[2]}"
    own = next(
        (f for f in reversed(frames) if _short(f[0]).startswith(("parsers/", "gateway/"))), None
    )
    if own is not None and own != inner:
        where += f" < {_short(own[0])}:{own[1]} {own[2]}"
    return f"{error} at {where}"


def _run_one(kind: str, data: bytes) -> None:
    """The parse entry points, without their last-line ``except``: errors must surface."""
    from parsers.documents import document_extractions
    from parsers.envelope import envelope_from_raw
    from parsers.limits import ParseLimits
    from parsers.message import _parse, assemble_request

    limits = ParseLimits()
    if kind == "mail":
        envelope_from_raw(data, limits)  # the pool's fallback when a parse fails
        parsed = _parse(data, limits, None)
        parsed.model_dump_json()  # the pipeline stores it
    else:
        extractions, _ = document_extractions(_FILENAMES.get(kind, "document"), data, limits)
        assemble_request(extractions).model_dump_json()


def _vm_peak() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmPeak:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _serve(conn: Connection, memory_mb: int, time_limit: float, trace_path: str) -> None:
    """A worker: warm up, cap memory, then run inputs until told to stop."""
    from gateway.pipeline.parse_pool import limit_memory
    from parsers.prose import warm_up

    warm_up()
    import pypdf  # noqa: F401  loaded on the first PDF otherwise: outside any budget

    ceiling = limit_memory(memory_mb)
    conn.send("ready")
    with open(trace_path, "w") as trace:
        while True:
            message = conn.recv()
            if message is None:
                return
            kind, data = message
            trace.seek(0)
            trace.truncate()
            faulthandler.dump_traceback_later(time_limit * 0.9, file=trace)
            started = time.perf_counter()
            status, frame = "ok", None
            try:
                _run_one(kind, data)
            except MemoryError as error:
                status = "over_memory"
                frame = _bucket(_frames(error), "MemoryError")
            except Exception as error:
                status = "internal_error"
                frame = _bucket(_frames(error), type(error).__name__)
            finally:
                faulthandler.cancel_dump_traceback_later()
            seconds = time.perf_counter() - started
            if status == "ok" and seconds > time_limit:  # done, but over the limit
                status, frame = "hang", _hang_frame(trace_path)
            if status == "ok" and ceiling is not None and _vm_peak() >= ceiling * 0.98:
                status, frame = "over_memory", "address space at the ceiling (error caught inside)"
            conn.send((status, frame, seconds))
            if status == "over_memory":
                return  # a fresh worker for the next input


def _frames(error: BaseException) -> list[tuple[str, int, str]]:
    return [(f.filename, f.lineno or 0, f.name) for f in traceback.extract_tb(error.__traceback__)]


def _hang_frame(trace_path: str) -> str:
    """Innermost frame of the stack faulthandler dumped in the input's thread."""
    try:
        text = Path(trace_path).read_text(errors="replace")
    except OSError:
        return "no stack dumped"
    for block in re.split(r"\n(?=Thread 0x|Current thread)", text):
        frames = [(m.group(1), int(m.group(2)), m.group(3)) for m in _FRAME.finditer(block)]
        if any("bench/fuzz/runner.py" in f[0] for f in frames):
            return _bucket(list(reversed(frames)), "hang")
    return "hang (no stack dumped)"


@dataclass
class _Worker:
    memory_mb: int
    time_limit: float
    process: BaseProcess | None = None
    conn: Connection | None = None
    trace_path: str = ""

    def start(self) -> None:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        handle, self.trace_path = tempfile.mkstemp(prefix="fuzz-trace-")
        os.close(handle)
        self.process = context.Process(
            target=_serve,
            args=(child, self.memory_mb, self.time_limit, self.trace_path),
            daemon=True,
        )
        self.process.start()
        child.close()
        self.conn = parent
        if not parent.poll(600) or parent.recv() != "ready":
            raise RuntimeError("fuzz worker did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.is_alive():
            self.process.kill()
        if self.process is not None:
            self.process.join(5)
        if self.conn is not None:
            self.conn.close()
        if self.trace_path:
            Path(self.trace_path).unlink(missing_ok=True)
        self.process, self.conn = None, None

    def run(self, kind: str, data: bytes) -> tuple[str, str | None, float]:
        if self.conn is None:
            self.start()
        assert self.conn is not None and self.process is not None
        started = time.perf_counter()
        self.conn.send((kind, data))
        try:
            ready = self.conn.poll(self.time_limit + 1.0)
            result = self.conn.recv() if ready else None
        except (EOFError, OSError):
            self.process.join(5)
            code = self.process.exitcode
            self.stop()
            return "crash", f"worker died (exit code {code})", time.perf_counter() - started
        if result is None:
            frame = _hang_frame(self.trace_path)
            self.stop()
            return "hang", frame, time.perf_counter() - started
        status, frame, seconds = result
        if status == "over_memory":
            self.stop()
        return str(status), frame, float(seconds)


@dataclass
class Campaign:
    inputs: int
    seed: int
    workers: int = 2
    time_limit: float = 5.0
    memory_mb: int = 500
    outcomes: list[Outcome] = field(default_factory=list)
    wall_seconds: float = 0.0
    seeds_used: int = 0

    def summary(self) -> dict[str, Any]:
        counts = Counter(o.status for o in self.outcomes)
        buckets: dict[str, dict[str, int]] = {}
        examples: dict[str, dict[str, object]] = {}
        for outcome in self.outcomes:
            if outcome.status == "ok":
                continue
            key = outcome.frame or "?"
            buckets.setdefault(outcome.status, Counter())[key] += 1
            examples.setdefault(
                key,
                {
                    "input": outcome.index,
                    "seed": outcome.seed,
                    "mutators": list(outcome.mutators),
                    "bytes": outcome.size,
                },
            )
        times = sorted(o.seconds for o in self.outcomes if o.status == "ok")
        slowest = sorted(self.outcomes, key=lambda o: -o.seconds)[:10]
        return {
            "inputs": len(self.outcomes),
            "seed": self.seed,
            "workers": self.workers,
            "time_limit_s": self.time_limit,
            "memory_ceiling_mb": self.memory_mb,
            "seeds": self.seeds_used,
            "wall_s": round(self.wall_seconds, 1),
            "hangs": counts["hang"],
            "over_memory": counts["over_memory"],
            "internal_errors": counts["internal_error"],
            "crashes": counts["crash"],
            "ok": counts["ok"],
            "seconds_p50": round(times[len(times) // 2], 4) if times else None,
            "seconds_p99": round(times[int(len(times) * 0.99)], 4) if times else None,
            "seconds_max": round(times[-1], 3) if times else None,
            "buckets": {status: dict(Counter(b).most_common()) for status, b in buckets.items()},
            "examples": examples,
            "slowest": [
                {
                    "input": o.index,
                    "status": o.status,
                    "seconds": round(o.seconds, 3),
                    "seed": o.seed,
                    "mutators": list(o.mutators),
                    "bytes": o.size,
                }
                for o in slowest
            ],
        }


def generate(seeds: Sequence[Seed], seed: int, index: int) -> tuple[Seed, bytes, str, list[str]]:
    """Input ``index`` of campaign ``seed``: the same every time (a reproducer is a number)."""
    rng = random.Random(f"{seed}:{index}")
    chosen = rng.choice(seeds)
    others = [s.data for s in rng.sample(list(seeds), min(3, len(seeds)))]
    data, kind, applied = mutate(rng, chosen.data, chosen.kind, others)
    return chosen, data, kind, applied


def run_campaign(
    campaign: Campaign,
    seeds: Sequence[Seed],
    *,
    save_dir: Path | None = None,
    progress: bool = False,
    only: Sequence[int] | None = None,  # replay these inputs of the campaign, not 0..N-1
) -> Campaign:
    campaign.seeds_used = len(seeds)
    indices: Iterator[int] = iter(only if only is not None else range(campaign.inputs))
    lock = threading.Lock()
    started = time.perf_counter()

    def drive() -> None:
        worker = _Worker(campaign.memory_mb, campaign.time_limit)
        try:
            while True:
                with lock:
                    index = next(indices, None)
                if index is None:
                    return
                chosen, data, kind, applied = generate(seeds, campaign.seed, index)
                status, frame, seconds = worker.run(kind, data)
                outcome = Outcome(
                    index, status, seconds, chosen.name, tuple(applied), len(data), frame
                )
                with lock:
                    campaign.outcomes.append(outcome)
                    done = len(campaign.outcomes)
                if status != "ok" and save_dir is not None:
                    save_dir.mkdir(parents=True, exist_ok=True)
                    (save_dir / f"{index:06d}-{status}.{kind}").write_bytes(data)
                if progress and (status != "ok" or done % 500 == 0):
                    print(
                        f"[{done}/{campaign.inputs}] {status} {seconds:.2f}s {frame or ''}",
                        flush=True,
                    )
        finally:
            worker.stop()

    threads = [threading.Thread(target=drive, name=f"fuzz-{n}") for n in range(campaign.workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    campaign.outcomes.sort(key=lambda o: o.index)
    campaign.wall_seconds = time.perf_counter() - started
    return campaign
