"""Reading landing batches in worker processes, while one process keeps the ledger.

A large load (the month's history, a backfill) reads its batches in forked worker processes, as
many as there are CPUs (at most :data:`MAX_WORKERS`). A worker reads a batch into temporary
Parquet folders (invisible to the raw views) and hands back what it found: file outcomes,
rejects, messages. The parent alone publishes the Parquet and writes DuckDB, each system's
batches in batch_id order, so the ledger stays single-writer and each batch is recorded
exactly once. Every planned batch is recorded LOADING before any worker starts: a load killed at
any point, parent or worker, is completed by the next run like a serial one.

Duplicate content is decided in the worker from the ledger and the batches of the same system
planned before (taken as loaded). The parent checks the decision when it records the batch and
reads the batch again itself when it was wrong (content repeated across systems, or a batch
quarantined that a later one was skipped for), so the outcome equals a serial load's.

Workers die with the parent (``PR_SET_PDEATHSIG``): a killed load leaves no orphan writing.
Small loads (an hourly batch) run in one process: forking costs more than it saves.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import os
import queue
import signal
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from billops.errors import BillopsError

if TYPE_CHECKING:
    from billops.config import Settings
    from billops.ingest.batches import PlannedBatch, PreparedBatch, Sources

PARALLEL_MIN_BYTES = 64 << 20  # below this a load runs in one process
MAX_WORKERS = 4
_POLL_S = 1.0
_PR_SET_PDEATHSIG = 1

Prepare = Callable[["Settings", "PlannedBatch", "Sources"], "PreparedBatch"]


def _cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def worker_count(plan: Sequence[PlannedBatch]) -> int:
    """Worker processes for ``plan``: 1 (no workers) for small loads or without ``fork``."""
    if len(plan) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if sum(p.size for p in plan) < PARALLEL_MIN_BYTES:
        return 1
    return max(1, min(_cpus(), MAX_WORKERS, len(plan)))


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this worker when the parent dies (Linux), else exit at once."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def _work(
    prepare: Prepare,
    settings: Settings,
    plan: Sequence[PlannedBatch],
    sources: Sequence[Mapping[str, tuple[str, str, str]]],
    order: Sequence[int],
    counter: Any,
    results: Any,
    parent: int,
) -> None:
    """Take the next batch in ``order`` until none is left; put (index, prepared, error)."""
    _die_with_parent(parent)
    while True:
        with counter.get_lock():
            position = counter.value
            counter.value += 1
        if position >= len(order):
            return
        index = order[position]
        try:
            prepared = prepare(settings, plan[index], sources[index])
        except BaseException:
            results.put((index, None, traceback.format_exc(limit=8)))
            return
        results.put((index, prepared, None))
        gc.collect()  # the parent's per-batch collection, inherited disabled
        gc.freeze()


class Workers:
    """Worker processes reading ``plan``; :meth:`in_order` yields the batches as they can be
    recorded (each system's in plan order)."""

    def __init__(
        self,
        settings: Settings,
        plan: Sequence[PlannedBatch],
        sources: Sequence[Mapping[str, tuple[str, str, str]]],
        count: int,
        prepare: Prepare,
    ) -> None:
        self.settings = settings
        self.plan = plan
        self.sources = sources
        self.count = count
        self.prepare = prepare
        self.processes: list[Any] = []

    def __enter__(self) -> Workers:
        context = multiprocessing.get_context("fork")
        # Chronological, so every system's batches complete early and are recorded steadily.
        order = sorted(
            range(len(self.plan)),
            key=lambda i: (self.plan[i].batch.batch_id, self.plan[i].batch.system),
        )
        self.results = context.Queue()
        counter = context.Value("q", 0)
        parent = os.getpid()
        for _ in range(self.count):
            process = context.Process(
                target=_work,
                args=(
                    self.prepare,
                    self.settings,
                    self.plan,
                    self.sources,
                    order,
                    counter,
                    self.results,
                    parent,
                ),
                daemon=True,
            )
            process.start()
            self.processes.append(process)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for process in self.processes:
            if process.is_alive():
                process.kill()
        for process in self.processes:
            process.join(timeout=10)
        self.results.close()
        self.results.join_thread()

    def _receive(self) -> tuple[int, PreparedBatch | None, str | None]:
        while True:
            try:
                return self.results.get(timeout=_POLL_S)
            except queue.Empty:
                dead = [p for p in self.processes if p.exitcode not in (None, 0)]
                if dead:
                    raise BillopsError(
                        f"an ingest worker died (exit code {dead[0].exitcode}); the batches "
                        "not recorded are loaded again by the next run"
                    ) from None
                if all(p.exitcode == 0 for p in self.processes):
                    try:  # a result put just before the last worker exited
                        return self.results.get(timeout=_POLL_S)
                    except queue.Empty:
                        raise BillopsError(
                            "ingest workers finished without reading every batch"
                        ) from None

    def in_order(self) -> Iterator[PreparedBatch]:
        waiting: dict[str, deque[int]] = {}
        for index, planned in enumerate(self.plan):
            waiting.setdefault(planned.batch.system, deque()).append(index)
        done: dict[int, PreparedBatch] = {}
        remaining = len(self.plan)
        while remaining:
            index, prepared, error = self._receive()
            if prepared is None:
                label = self.plan[index].batch.label
                raise BillopsError(f"{label}: reading the batch failed in a worker:\n{error}")
            done[index] = prepared
            for indices in waiting.values():
                while indices and indices[0] in done:
                    remaining -= 1
                    yield done.pop(indices.popleft())
