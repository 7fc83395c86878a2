"""Parsing in worker processes, with a time budget and a memory ceiling per message.

A message whose parse overruns its budget yields a ``ParsedMessage`` carrying a
``parse.timeout`` problem; one whose worker dies, ``parse.worker_died``; one that hits
the memory ceiling, ``parse.memory_exceeded``. The pool is then replaced (a stuck worker
cannot be interrupted, only killed; one that ran out of memory starts afresh), and the
pipeline quarantines the message: it is never retried on its own.

The memory ceiling is ``RLIMIT_AS``, set in each worker once its NLP pipeline is loaded:
the worker's address space at that point plus ``memory_mb`` (``pipeline.parse_memory_mb``,
1024 by default). Address space, not RSS: a warmed-up worker maps ~1.6 GB for ~260 MB
resident, so an absolute limit would say nothing about what one message may take.

Workers are forked from a fork server that loaded the parsers and the NLP pipeline once
(``gateway.pipeline.preload``): they share those pages, and a replaced worker is ready in
milliseconds. The fork server starts with the first worker, so an idle daemon holds neither.
Further workers, up to ``max_workers``, start when the started ones are all busy and none
has returned a parse for ``GROW_AFTER_SECONDS``: a slow or hostile message holds up the next
for about that long, no more, while ordinary traffic and a backlog of ordinary messages (a few
milliseconds each, so one worker keeps up with the main process) keep one worker's private
pages (about 15 MB, what CPython's reference counts copy; 60 MB PSS in a backlog) and not two.
Workers idle for ``IDLE_RELEASE_SECONDS`` are let go, all at once, and the fork server stays;
a worker leaves after ``RECYCLE_AFTER_PARSES`` and a fresh fork takes its place.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import resource
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import forkserver
from typing import Any, Protocol

from parsers import ParsedMessage, ParseLimits, parse_message
from parsers.envelope import envelope_from_raw
from parsers.problems import problem
from parsers.prose import warm_up
from parsers.request import Request, RequestKind

__all__ = ["ParsePool", "WorkerFn", "failed_parse", "parse_in_worker"]

# What one parse may add to a warmed-up worker's address space (pipeline.parse_memory_mb).
DEFAULT_MEMORY_MB = 1024
WorkerFn = Callable[[bytes, ParseLimits | None, RequestKind | None], ParsedMessage]
# Starting a worker and loading the NLP pipeline (EDS-NLP, spaCy) takes seconds on a busy
# machine: it happens once per worker, before any message, and never counts against the
# message's own time budget.
WARM_UP_TIMEOUT = 300.0


# How long closing waits for workers to leave on SIGTERM before it kills them.
CLOSE_GRACE_SECONDS = 2.0
# Workers with nothing to parse for this long are let go: the fork server keeps the pipeline,
# and the next message's worker is forked from it in milliseconds.
IDLE_RELEASE_SECONDS = 600.0
# A worker that returned nothing for this long while messages wait is on a slow message:
# only then does another start. Ordinary parses take milliseconds.
GROW_AFTER_SECONDS = 1.0
# A worker is replaced by a fresh fork after this many parses. Each parse writes to more of
# the pages it shares with the fork server (allocations reusing their free space, reference
# counts): over a 10,000-message backlog a worker's own pages grew 16 -> 45 MB. A fork costs
# milliseconds; the new worker starts again from about 16 MB.
RECYCLE_AFTER_PARSES = 500
# The module the fork server imports before forking any worker.
PRELOAD = "gateway.pipeline.preload"


class _Daemon(Protocol):
    """The process that asked for this worker, as multiprocessing shows it to the worker."""

    def is_alive(self) -> bool: ...

    def join(self, timeout: float | None = None) -> None: ...


def _exit_with_daemon(daemon: _Daemon) -> None:
    # A killed daemon's workers would wait on their call queue for ever (each end of its
    # pipe is held by the workers themselves, so no EOF comes), keeping their NLP models.
    # The join returns when the daemon's end of the worker's start-up pipe closes: its
    # death, whatever the worker's parent (the fork server) does.
    daemon.join()
    os._exit(0)


def _address_space() -> int | None:
    """This process's mapped address space in bytes (Linux), None when unknown."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return None


def limit_memory(memory_mb: int) -> int | None:
    """Cap this process's address space at its current size plus ``memory_mb``; past it,
    an allocation fails (``MemoryError``) instead of pushing the host out of memory.
    Returns the limit set in bytes, None when none could be (no /proc)."""
    current = _address_space()
    if current is None or memory_mb <= 0:
        return None
    limit = current + memory_mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    return limit


def _leave(_signum: int, _frame: object) -> None:
    # Stopped while still loading: the executor would log the exit as a failed initializer.
    logging.getLogger("concurrent.futures").disabled = True
    raise SystemExit(0)


def _ready(memory_mb: int = 0, daemon: _Daemon | None = None) -> bool:
    """Run in each new worker before it takes a message (the executor's initializer).

    ``daemon`` defaults to multiprocessing's view of the process that started the worker:
    the daemon, watched through a pipe, not a pid, since a forked worker's parent is the
    fork server and a pid read after the daemon's death would be 1.
    """
    daemon = multiprocessing.parent_process() if daemon is None else daemon
    if daemon is not None and not daemon.is_alive():
        os._exit(0)  # died while this worker was starting: nobody to parse for
    # SIGTERM (ParsePool.close) ends the worker through its exit handlers, which give back
    # what it registered with multiprocessing's resource tracker: a SIGKILL leaks them.
    signal.signal(signal.SIGTERM, _leave)
    if daemon is not None:
        watch = threading.Thread(
            target=_exit_with_daemon, args=(daemon,), name="daemon-watch", daemon=True
        )
        watch.start()
    warm_up()  # already done in the fork server, unless loading failed there
    limit_memory(memory_mb)  # after the models: the ceiling is what a message may add
    return True


def parse_in_worker(
    raw: bytes, limits: ParseLimits | None, default_kind: RequestKind | None
) -> ParsedMessage:
    """The function run in the worker (module level, so that a worker can import it)."""
    return parse_message(raw, limits=limits, default_kind=default_kind)


def _run_as_json(
    worker: WorkerFn, raw: bytes, limits: ParseLimits | None, default_kind: RequestKind | None
) -> str:
    """Run ``worker`` and hand its result back as JSON: pydantic-core writes and reads it in a
    third of the time pickle takes over the same nested models (about 60 µs saved on each
    side of the pipe for a bench request)."""
    return worker(raw, limits, default_kind).model_dump_json()


def failed_parse(raw: bytes, limits: ParseLimits | None, code: str) -> ParsedMessage:
    """What a parse that could not finish yields: the envelope and one ``code`` problem."""
    envelope = envelope_from_raw(raw, limits)
    request = Request(problems=[problem(code)])
    return ParsedMessage(envelope=envelope, report_kind=None, request=request)


def _timed_out(raw: bytes, limits: ParseLimits | None) -> ParsedMessage:
    return failed_parse(raw, limits, "parse.timeout")


def _out_of_memory(parsed: ParsedMessage) -> bool:
    return any(p.code == "parse.memory_exceeded" for p in parsed.request.problems)


_LEAN = threading.Lock()
_leaning = 0  # threads inside _lean_spawn; the first hides __main__'s path, the last restores it
_main_path: str | None = None


@contextlib.contextmanager
def _lean_spawn() -> Iterator[None]:
    """Start workers without re-running the parent's ``__main__`` in them.

    A worker started by spawn or by the fork server re-executes the parent's main script:
    for the console script that is the whole CLI (web UI, ORM, FHIR models), about 3 s and
    90 MB per worker, none of which a parser needs; the worker function's own module is
    imported by name anyway.
    A main run as a module (``python -m``) is already skipped by multiprocessing itself.
    Workers start on the calling thread and on the pool's manager thread (replacing one that
    left at its parse count), so the path is hidden while any of them is inside.
    """
    global _leaning, _main_path
    main = sys.modules.get("__main__")
    with _LEAN:
        if _leaning == 0 and main is not None and getattr(main, "__spec__", None) is None:
            _main_path = getattr(main, "__file__", None)
            if _main_path is not None:
                del main.__file__
        _leaning += 1
    try:
        yield
    finally:
        with _LEAN:
            _leaning -= 1
            if _leaning == 0 and _main_path is not None and main is not None:
                main.__file__ = _main_path
                _main_path = None


class _Executor(ProcessPoolExecutor):
    """A process pool that starts as many workers as it was asked for, no more.

    The base class starts one whenever a submit finds no idle worker, but it marks a worker
    idle only after handing its result over: a call that submits again as soon as it has
    its result finds none, and a pool that never had two messages at once ends with two
    workers. Here a submit starts workers only up to ``wanted``.
    """

    def __init__(self, max_workers: int, on_start: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(max_workers, **kwargs)
        self.wanted = 1  # raised by ParsePool._grow, never past max_workers
        self._on_start = on_start

    def _spawn_process(self) -> None:
        with _lean_spawn():
            super()._spawn_process()  # type: ignore[misc]
        self._on_start()

    def _adjust_process_count(self) -> None:
        # Called by submit, and by the manager thread when a worker leaves at its
        # max_tasks_per_child, under the pool's lock. Unlike the base class, it never reads
        # the idle-worker semaphore, whose stale tokens make Python 3.11-3.13 leave a
        # departed worker unreplaced and its queue hanging (CPython gh-115634).
        while len(self._processes) < self.wanted:
            self._spawn_process()


def _stop_fork_server() -> None:
    # Alone, the server leaves only once it sees its daemon's end of a pipe close, after the
    # daemon exited. multiprocessing has no public way to stop it; its own tests use this.
    server = getattr(forkserver, "_forkserver", None)
    stop = getattr(server, "_stop", None)
    if callable(stop):
        stop()


class ParsePool:
    """A process pool for ``parse_message``, with per-call timeouts, forked preloaded."""

    def __init__(
        self,
        max_workers: int = 2,
        *,
        worker: WorkerFn = parse_in_worker,
        memory_mb: int = DEFAULT_MEMORY_MB,  # 0: no ceiling
        idle_release: float = IDLE_RELEASE_SECONDS,
        grow_after: float = GROW_AFTER_SECONDS,
        recycle_after: int = RECYCLE_AFTER_PARSES,
    ) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self._max_workers = max_workers
        self._memory_mb = memory_mb
        self._worker = worker
        self._idle_release = idle_release
        self._idle_timer: asyncio.TimerHandle | None = None
        self._grow_after = grow_after
        self._recycle_after = recycle_after
        self._stall_timer: asyncio.TimerHandle | None = None
        self._growing: set[asyncio.Task[None]] = set()
        self._returned = 0  # parses returned, by any executor: the sign of progress
        self.releases = 0  # how many times idle workers were let go
        self.grown = 0  # workers started for messages waiting behind a slow one
        self.workers_started = 0  # every fork: first, grown, recycled and replacement workers
        self._context = multiprocessing.get_context("forkserver")
        # Global to the process, and read only when its fork server starts.
        self._context.set_forkserver_preload([PRELOAD])
        self._executor = self._new_executor()
        self._generation = 0
        self.replacements = 0  # how many times a broken or stuck pool was replaced

    def _new_executor(self) -> _Executor:
        self._warm: asyncio.Future[None] | None = None
        self._busy = 0  # parses submitted to it and not yet returned
        return _Executor(
            self._max_workers,
            self._started,
            mp_context=self._context,
            initializer=_ready,
            initargs=(self._memory_mb,),
            max_tasks_per_child=self._recycle_after,
        )

    def _started(self) -> None:
        # Under the executor's lock, on a thread of its own or the manager's.
        self.workers_started += 1

    def _live_processes(self) -> list[Any]:
        # Private attribute, but the only view of the workers; None once shut down.
        processes = getattr(self._executor, "_processes", None) or {}
        return [process for process in list(processes.values()) if process.is_alive()]

    @property
    def live_workers(self) -> int:
        return len(self._live_processes())

    async def _warm_up(self) -> None:
        """Start the first worker and load its pipeline, once per executor, outside any budget.

        Workers still start lazily (with the first message), so an idle daemon holds none.
        Starting one waits for the fork server to answer, and the first time for it to load
        the NLP pipeline (seconds): that wait happens on a thread, never on the event loop.
        """
        if self._warm is None:
            loop = asyncio.get_running_loop()
            self._warm = loop.create_future()
            executor = self._executor
            try:
                started = await asyncio.to_thread(self._spawn, executor)
                await asyncio.wait_for(asyncio.wrap_future(started), WARM_UP_TIMEOUT)
            except (TimeoutError, BrokenProcessPool, RuntimeError):
                pass  # the message's own call below meets the same fault and handles it
            finally:
                self._warm.set_result(None)
        await asyncio.shield(self._warm)

    def _may_grow(self) -> bool:
        """Messages wait for busy workers, and another worker may start."""
        executor = self._executor
        return self._busy > executor.wanted and executor.wanted < self._max_workers

    def _watch_stall(self) -> None:
        if self._stall_timer is None and self._may_grow():
            self._stall_timer = asyncio.get_running_loop().call_later(
                self._grow_after, self._check_stall, self._returned
            )

    def _check_stall(self, returned: int) -> None:
        self._stall_timer = None
        if not self._may_grow():
            return
        if self._returned != returned:
            self._watch_stall()  # the workers keep up: look again later
            return
        task = asyncio.get_running_loop().create_task(self._grow(self._executor))
        self._growing.add(task)
        task.add_done_callback(self._growing.discard)

    async def _grow(self, executor: _Executor) -> None:
        """Start one more worker, on a thread: the fork server's answer is not the event
        loop's to wait for. The worker is ready in milliseconds (forked loaded) and takes the
        next waiting message; the one on the slow message keeps it."""
        if executor is not self._executor:
            return  # replaced or let go since the check: the new one starts as it needs
        executor.wanted += 1  # before the wait: a concurrent check must not ask again
        self.grown += 1
        with contextlib.suppress(BrokenProcessPool, RuntimeError):  # met by the calls
            await asyncio.to_thread(self._spawn, executor)
        self._watch_stall()

    @staticmethod
    def _spawn(executor: _Executor) -> Future[bool]:
        # The submit starts the workers wanted and not started yet, synchronously, on this
        # thread; a parse submitted meanwhile waits on the pool's lock for a few milliseconds.
        return executor.submit(bool, True)

    def _release_idle(self, generation: int) -> None:
        """Let the workers go when nothing was parsed since the timer was set. A new
        executor takes the old one's place, with no worker until the next message."""
        self._idle_timer = None
        if generation != self._generation or self._busy:
            return
        old = self._executor
        self._executor = self._new_executor()
        self._generation += 1
        self.releases += 1
        old.shutdown(wait=False)  # idle workers read the stop sentinel and leave

    def _replace(self, generation: int) -> None:
        if generation != self._generation:
            return  # another call already replaced it
        old = self._executor
        self._executor = self._new_executor()
        self._generation += 1
        self.replacements += 1
        # Private attribute, but the only way to stop a worker stuck in C code.
        processes = list(getattr(old, "_processes", {}).values())
        for process in processes:
            if process.is_alive():
                process.kill()
        old.shutdown(wait=False, cancel_futures=True)

    async def parse(
        self,
        raw: bytes,
        *,
        limits: ParseLimits | None = None,
        default_kind: RequestKind | None = None,
        timeout: float,  # noqa: ASYNC109  the budget is per call, by contract
    ) -> ParsedMessage:
        loop = asyncio.get_running_loop()
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        for attempt in range(2):
            await self._warm_up()
            generation = self._generation
            executor = self._executor
            self._busy += 1
            self._watch_stall()
            try:
                future = loop.run_in_executor(
                    executor, _run_as_json, self._worker, raw, limits, default_kind
                )
                parsed = ParsedMessage.model_validate_json(await asyncio.wait_for(future, timeout))
            except TimeoutError:
                self._replace(generation)
                return _timed_out(raw, limits)
            except MemoryError:  # raised past parse_message's own handling
                self._replace(generation)
                return failed_parse(raw, limits, "parse.memory_exceeded")
            except BrokenProcessPool:
                if generation != self._generation and attempt == 0:
                    continue  # broken by another call's timeout: retry once on the new pool
                self._replace(generation)
                return failed_parse(raw, limits, "parse.worker_died")
            except RuntimeError:  # submitted to a pool being shut down by another call
                if attempt == 0:
                    continue
                return failed_parse(raw, limits, "parse.worker_died")
            finally:
                self._returned += 1
                if executor is self._executor:  # a replaced executor's count went with it
                    self._busy -= 1
                    if not self._busy and self._idle_timer is None:
                        self._idle_timer = loop.call_later(
                            self._idle_release, self._release_idle, self._generation
                        )
            if _out_of_memory(parsed):
                self._replace(generation)  # a fresh worker, not one with a fragmented heap
            return parsed
        return failed_parse(raw, limits, "parse.worker_died")

    def close(self) -> None:
        """Stop the workers at once (asked first with SIGTERM, killed if stuck in C code),
        then the fork server, so that none outlives the daemon."""
        self._stop_timers()
        processes = self._live_processes()
        for process in processes:
            process.terminate()
        deadline = time.monotonic() + CLOSE_GRACE_SECONDS
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
        self._executor.shutdown(wait=True, cancel_futures=True)
        _stop_fork_server()

    async def __aenter__(self) -> ParsePool:
        return self

    def _stop_timers(self) -> None:
        for timer in (self._idle_timer, self._stall_timer):
            if timer is not None:
                timer.cancel()
        self._idle_timer = self._stall_timer = None

    async def __aexit__(self, *_: object) -> None:
        self._stop_timers()  # on the loop's thread, before closing on another
        await asyncio.to_thread(self.close)
