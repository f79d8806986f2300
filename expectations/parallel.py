"""Helper processes that validate suites' frames, so a large check uses every core.

Great Expectations validates a frame in Python, on one core, and takes about five seconds to
import. For a large check, ``billops check`` reads every suite's frame in its own process (the
one holding the warehouse) and hands each to one of ``CHECK_HELPERS`` :class:`SuiteHelper` s:
spawned processes, each with a GX context of its own (imported while the frames are read), which
validate their suites, write the results to the one validations store, render their Data Docs
pages and send the outcomes back. They never open the warehouse. Suites are shared by expected
cost (the suite's seconds in the last check, else rows times rules), the largest first, each to
the helper with the least work so far; the outcomes are the same whichever process validated a
suite.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from datetime import datetime
from pathlib import Path

import pandas as pd

from expectations.spec import SuiteSpec
from expectations.suites import SUITES
from expectations.validate import ExpectationOutcome, FrameValidator

CHECK_HELPERS = 2
_BY_NAME = {spec.name: spec for spec in SUITES}
_validator: FrameValidator | None = None  # the helper process's own


def _start(docs_dir: Path | None, store_dir: Path | None) -> None:
    global _validator
    _validator = FrameValidator(docs_dir, store_dir)  # imports GX while the parent reads frames


def _validate(
    frame: pd.DataFrame, suite: str, as_of: datetime | None, run_id: str
) -> tuple[list[ExpectationOutcome], float]:
    assert _validator is not None
    started = time.perf_counter()
    outcomes = _validator.validate(frame, _BY_NAME[suite], as_of, run_id=run_id)
    return outcomes, time.perf_counter() - started


def _build_docs(index: bool, also: tuple[str, ...], as_of: datetime | None) -> None:
    assert _validator is not None
    _validator.build_docs(index=index, also=tuple((_BY_NAME[name], as_of) for name in also))


def can_share(suites: Iterable[SuiteSpec]) -> bool:
    """Only the declared suites can be handed over: the helper finds them by name."""
    return all(_BY_NAME.get(spec.name) is spec for spec in suites)


def assign(costs: dict[str, float], helpers: int) -> dict[str, int]:
    """Each suite's helper: largest first, each to the helper with the least work so far."""
    load = [0.0] * helpers
    chosen: dict[str, int] = {}
    for name, cost in sorted(costs.items(), key=lambda item: (-item[1], item[0])):
        helper = load.index(min(load))
        chosen[name] = helper
        load[helper] += cost
    return chosen


class SuiteHelper:
    """A helper process: ``submit`` a suite's frame, ``finish`` to render its Data Docs pages
    and stop it (``close`` stops it without rendering, after a failure)."""

    # Frames sent and not yet validated, at most: the sender keeps each until its result is
    # back, so this bounds the memory both sides hold.
    IN_FLIGHT = 2

    def __init__(self, docs_dir: Path | None, store_dir: Path | None) -> None:
        self._docs = docs_dir is not None
        self._sent: list[Future[tuple[list[ExpectationOutcome], float]]] = []
        self._pool = ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("spawn"),  # the parent holds DuckDB's threads
            initializer=_start,
            initargs=(docs_dir, store_dir),
        )

    def submit(
        self, frame: pd.DataFrame, spec: SuiteSpec, as_of: datetime | None, run_id: str
    ) -> Future[tuple[list[ExpectationOutcome], float]]:
        """Sends the frame once fewer than ``IN_FLIGHT`` of this helper's are still out."""
        self._sent = [f for f in self._sent if not f.done()]
        while len(self._sent) >= self.IN_FLIGHT:
            wait(self._sent, return_when=FIRST_COMPLETED)
            self._sent = [f for f in self._sent if not f.done()]
        future = self._pool.submit(_validate, frame, spec.name, as_of, run_id)
        self._sent.append(future)
        return future

    def render(self, index: bool = False, also: tuple[str, ...] = (),
               as_of: datetime | None = None) -> Future[None] | None:
        """Begins rendering this helper's Data Docs pages; with ``index``, the index too, listing
        the suites ``also`` names beside its own (only one helper writes the index)."""
        if not self._docs:
            return None
        return self._pool.submit(_build_docs, index, also, as_of)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)  # an idle helper exits alone
