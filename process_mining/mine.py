"""``billops mine``: process mining on the warehouse event log or on an external log file.

Both entry points return the contract object of docs/architecture.md::

    cases, events, activities, variants, top_variants [{activities, cases, share}],
    dfg [{source, target, count, median_wait_s, mean_wait_s}],
    bottlenecks [{source, target, cases, median_wait_s, total_wait_s}], rework [{activity, cases}]

``mine_warehouse`` also replaces the previous run's rows in ``pm.runs``, ``pm.dfg``,
``pm.variants``, ``pm.model``, ``pm.bottlenecks``, ``pm.rework``, and the measures'
``pm.segments``, ``pm.segment_dfg``, ``pm.segment_variants``, ``pm.sla``, ``pm.sla_breaches``, ``pm.bottleneck_cases``, ``pm.process_map``,
the conformance's ``pm.conformance``, ``pm.deviations``, ``pm.temporal_deviations``, and the
alignments' ``pm.alignment_summary``, ``pm.alignments``, ``pm.alignment_moves``,
``pm.alignment_cases`` (all keyed by run_id).
"""

from __future__ import annotations

import multiprocessing
import shutil
import tempfile
import uuid
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from billops.config import Settings, get_settings
from billops.sql import literal
from billops.warehouse import connect
from process_mining.conformance import REFERENCE_MODEL, Conformance, conformance
from process_mining.dfg import (
    Edge,
    LogStats,
    Staged,
    Variant,
    directly_follows,
    log_stats,
    rework,
    stage,
    variants,
)
from process_mining.discovery import MODEL_VARIANT_CAP, Model, discover_model, process_map_dots
from process_mining.event_log import (
    PARQUET_SUFFIXES,
    WAREHOUSE_LOG,
    load_log_file,
    stage_frame,
    stage_parquet,
    stage_warehouse_log,
)
from process_mining.measures import (
    bottleneck_cases,
    dimensions,
    segment_dfg,
    segment_variants,
    segments,
    sla,
    sla_rules,
    stage_cases,
)
from process_mining.tables import pm_columns, pm_ddl, pm_frame

TOP_VARIANTS = 10
TOP_BOTTLENECKS = 10
# pm.variants keeps the most frequent variants only; pm.runs.variants has the full count.
VARIANT_ROWS = 1_000
# pm.temporal_deviations keeps the steps furthest from their usual time apart.
TEMPORAL_ROWS = 1_000


@dataclass(frozen=True)
class Analysis:
    stats: LogStats
    edges: list[Edge]
    variants: list[Variant]  # most frequent first, at most max(VARIANT_ROWS, MODEL_VARIANT_CAP)
    rework: list[tuple[str, int]]
    staged: Staged  # the sorted log and its variants, for the measures that follow

    @property
    def bottlenecks(self) -> list[Edge]:
        """Edges where cases spend the most waiting time in total."""
        waiting = [e for e in self.edges if e.total_wait_s > 0]
        return sorted(waiting, key=lambda e: (-e.total_wait_s, e.source, e.target))[
            :TOP_BOTTLENECKS
        ]

    def contract(self) -> dict[str, Any]:
        s = self.stats
        return {
            "cases": s.cases,
            "events": s.events,
            "activities": s.activities,
            "variants": s.variants,
            "top_variants": [
                {"activities": list(v.activities), "cases": v.cases, "share": v.share}
                for v in self.variants[:TOP_VARIANTS]
            ],
            "dfg": [
                {
                    "source": e.source,
                    "target": e.target,
                    "count": e.count,
                    "median_wait_s": e.median_wait_s,
                    "mean_wait_s": e.mean_wait_s,
                }
                for e in self.edges
            ],
            "bottlenecks": [
                {
                    "source": e.source,
                    "target": e.target,
                    "cases": e.cases,
                    "median_wait_s": e.median_wait_s,
                    "total_wait_s": e.total_wait_s,
                }
                for e in self.bottlenecks
            ],
            "rework": [{"activity": a, "cases": n} for a, n in self.rework],
        }


def analyze(con: duckdb.DuckDBPyConnection, events: str) -> Analysis:
    staged = stage(con, events)
    return Analysis(
        stats=log_stats(con, events, staged),
        edges=directly_follows(con, events, staged),
        variants=variants(con, events, limit=max(VARIANT_ROWS, MODEL_VARIANT_CAP), staged=staged),
        rework=rework(con, events, staged),
        staged=staged,
    )


@dataclass(frozen=True)
class Measures:
    """Segmented measures and the case lists behind them (see ``process_mining.measures``)."""

    segments: list[dict[str, Any]]
    sla: list[dict[str, Any]]
    sla_breaches: list[dict[str, Any]]
    bottleneck_cases: list[dict[str, Any]]
    dots: dict[str, str]
    segment_dfg: list[dict[str, Any]]
    segment_variants: list[dict[str, Any]]


def measure(
    con: duckdb.DuckDBPyConnection,
    events: str,
    analysis: Analysis,
    settings: Settings,
    sla_chosen: tuple[str, ...] = (),
) -> Measures:
    dims = dimensions(con, events)
    cases = stage_cases(con, events)
    summary, breaches = sla(con, events, cases, dims, sla_rules(settings, sla_chosen))
    return Measures(
        segments=segments(con, cases, dims),
        sla=summary,
        sla_breaches=breaches,
        bottleneck_cases=bottleneck_cases(
            con,
            events,
            [(e.source, e.target) for e in analysis.bottlenecks],
            staged=analysis.staged,
        ),
        dots=process_map_dots(con, events, analysis.edges, analysis.staged),
        segment_dfg=segment_dfg(con, analysis.staged, cases, dims),
        segment_variants=segment_variants(con, analysis.staged, cases, dims),
    )


def mine_file(
    path: str | Path,
    case: str,
    activity: str,
    timestamp: str,
    resource: str | None = None,
    sep: str = ",",
    sla_chosen: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Mines an external CSV(.GZ), Parquet or XES(.GZ) log in memory; nothing is written.
    Parquet is staged straight in DuckDB; the others go through ``load_log_file``.
    With SLA rules chosen, the object gains ``sla`` and ``sla_breaches`` (whole log)."""
    rules = sla_rules(get_settings(), sla_chosen) if sla_chosen else []
    with duckdb.connect() as con:
        if str(path).lower().endswith(PARQUET_SUFFIXES):
            events = stage_parquet(con, path, case, activity, timestamp, resource=resource)
        else:
            frame = load_log_file(path, case, activity, timestamp, resource=resource, sep=sep)
            events = stage_frame(con, frame)
        result = analyze(con, events).contract()
        if rules:
            summary, breaches = sla(con, events, stage_cases(con, events), [], rules)
            result["sla"] = summary
            result["sla_breaches"] = breaches
        return result


def mine_warehouse(
    settings: Settings | None = None, sla_chosen: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Mines ``marts.billing_event_log`` and replaces the ``pm`` results with this run's."""
    return MiningJob(settings or get_settings(), sla_chosen).finish()


@dataclass(frozen=True)
class MinedLog:
    """A mining run's contract object and its rows for every ``pm`` table."""

    contract: dict[str, Any]
    frames: dict[str, pd.DataFrame]


def mine_log_snapshot(
    path: Path, settings: Settings, run_id: str, mined_at: datetime, sla_chosen: tuple[str, ...]
) -> MinedLog:
    """Mines a Parquet copy of the warehouse log in an in-memory database, as
    ``marts.billing_event_log``, so the same code runs wherever the copy is read: no warehouse
    connection is needed, and a worker process may do it while the pipeline writes elsewhere."""
    with duckdb.connect() as con:
        con.execute("create schema marts")
        con.execute(f"create view {WAREHOUSE_LOG} as select * from read_parquet({literal(str(path))})")
        events = stage_warehouse_log(con)
        analysis = analyze(con, events)
        model = discover_model(
            con, events, analysis.edges, [v.activities for v in analysis.variants], analysis.staged
        )
        measures = measure(con, events, analysis, settings, sla_chosen)
        checked = conformance(con, events, staged=analysis.staged)
    frames = _analysis_frames(run_id, mined_at, analysis, model)
    frames.update(_measure_frames(run_id, measures))
    frames.update(_conformance_frames(run_id, checked))
    return MinedLog(analysis.contract(), frames)


class MiningJob:
    """One mining run of the warehouse log, in three parts: a snapshot of the staged log is
    written to Parquet under the home (by the process that holds the warehouse; about a second
    on a medium month), mined in memory (:func:`mine_log_snapshot`: here, or with
    ``background=True`` in a worker process while this one goes on with other steps), and its
    rows written to the ``pm`` tables by :meth:`finish`. The snapshot fixes what is mined, so the
    result does not depend on what the warehouse holds meanwhile."""

    def __init__(
        self, settings: Settings, sla_chosen: tuple[str, ...] = (), background: bool = False
    ) -> None:
        self.settings = settings
        self.mined_at = datetime.now(UTC).replace(tzinfo=None)  # audit time, not a rule input
        self.run_id = f"pm-{self.mined_at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
        scratch = Path(settings.home) / "work"
        scratch.mkdir(parents=True, exist_ok=True)
        self._folder = Path(tempfile.mkdtemp(prefix="mine-", dir=scratch))
        snapshot = self._folder / "events.parquet"
        args = (snapshot, settings, self.run_id, self.mined_at, sla_chosen)
        self._pool: ProcessPoolExecutor | None = None
        self._future: Future[MinedLog] | None = None
        self._mined: MinedLog | None = None
        try:
            with connect(settings) as con:
                staged = stage_warehouse_log(con)
                con.execute(f"copy (select * from {staged}) to {literal(str(snapshot))} (format parquet)")
            if background:
                # spawn, not fork: this process holds DuckDB's threads.
                self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
                self._future = self._pool.submit(mine_log_snapshot, *args)
            else:
                self._mined = mine_log_snapshot(*args)
        except BaseException:
            self._close()
            raise

    def finish(self) -> dict[str, Any]:
        """Waits for the mining, writes its rows and returns the contract object."""
        try:
            mined = self._future.result() if self._future is not None else self._mined
            assert mined is not None
            with connect(self.settings) as con:
                write_frames(con, mined.frames)
            return mined.contract
        finally:
            self._close()

    def cancel(self) -> None:
        """Abandons the run: the worker is stopped and the snapshot removed; nothing is written."""
        self._close()

    def _close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
        shutil.rmtree(self._folder, ignore_errors=True)


# ---------------------------------------------------------------- pm.* tables


def _analysis_frames(
    run_id: str, mined_at: datetime, analysis: Analysis, model: Model
) -> dict[str, pd.DataFrame]:
    s = analysis.stats
    run = {
        "source": WAREHOUSE_LOG,
        "cases": s.cases,
        "events": s.events,
        "activities": s.activities,
        "variants": s.variants,
        "mined_at": mined_at,
    }
    return {
        "runs": pm_frame("runs", run_id, [run]),
        "dfg": pm_frame(
            "dfg",
            run_id,
            (
                {
                    "source": e.source,
                    "target": e.target,
                    "count": e.count,
                    "median_wait_s": e.median_wait_s,
                    "mean_wait_s": e.mean_wait_s,
                    "p90_wait_s": e.p90_wait_s,
                }
                for e in analysis.edges
            ),
        ),
        "variants": pm_frame(
            "variants",
            run_id,
            (
                {
                    "variant_rank": v.rank,
                    "activities": " > ".join(v.activities),
                    "cases": v.cases,
                    "share": v.share,
                    "median_throughput_s": v.median_throughput_s,
                }
                for v in analysis.variants[:VARIANT_ROWS]
            ),
        ),
        "model": pm_frame(
            "model",
            run_id,
            [
                {
                    "algorithm": model.algorithm,
                    "model_text": model.model_text,
                    "dot": model.dot,
                    "fitness": model.fitness,
                }
            ],
        ),
        "bottlenecks": pm_frame(
            "bottlenecks",
            run_id,
            (
                {
                    "source": e.source,
                    "target": e.target,
                    "cases": e.cases,
                    "median_wait_s": e.median_wait_s,
                    "total_wait_s": e.total_wait_s,
                }
                for e in analysis.bottlenecks
            ),
        ),
        "rework": pm_frame(
            "rework", run_id, ({"activity": a, "cases": n} for a, n in analysis.rework)
        ),
    }


def _alignment_frames(run_id: str, checked: Conformance) -> dict[str, pd.DataFrame]:
    summary = checked.alignments
    checks = summary.checks if summary is not None else []
    summary_rows = []
    if summary is not None:
        measured = [c for c in pm_columns("alignment_summary") if c not in ("run_id", "reference")]
        summary_rows.append(
            {"reference": REFERENCE_MODEL.name, **{k: getattr(summary, k) for k in measured}}
        )
    return {
        "alignment_summary": pm_frame("alignment_summary", run_id, summary_rows),
        "alignments": pm_frame(
            "alignments",
            run_id,
            (
                {
                    "variant_rank": c.variant_rank,
                    "activities": " > ".join(c.activities),
                    "cases": c.cases,
                    "method": c.method,
                    "fitness": c.fitness,
                    "cost": c.cost,
                    "log_moves": sum(c.log_moves.values()),
                    "model_moves": sum(c.model_moves.values()),
                    "how": c.how,
                }
                for c in checks
            ),
        ),
        "alignment_moves": pm_frame(
            "alignment_moves",
            run_id,
            (
                {
                    "variant_rank": c.variant_rank,
                    "activity": a,
                    "move": kind,
                    "moves": n,
                    "cases": c.cases,
                }
                for c in checks
                for kind, moves in (("log", c.log_moves), ("model", c.model_moves))
                for a, n in sorted(moves.items())
            ),
        ),
        "alignment_cases": pm_frame("alignment_cases", run_id, checked.alignment_cases),
    }


def _conformance_frames(run_id: str, checked: Conformance) -> dict[str, pd.DataFrame]:
    conformance_row = {
        "reference": REFERENCE_MODEL.name,
        "cases_checked": checked.cases_checked,
        "fitness": checked.fitness,
        "precision": checked.precision,
        "deviating_cases": len(checked.deviations),
    }
    return {
        **_alignment_frames(run_id, checked),
        "conformance": pm_frame("conformance", run_id, [conformance_row]),
        "deviations": pm_frame(
            "deviations",
            run_id,
            (
                {"case_id": d.case_id, "fitness": d.fitness, "how": d.how}
                for d in checked.deviations
            ),
        ),
        "temporal_deviations": pm_frame(
            "temporal_deviations", run_id, checked.temporal[:TEMPORAL_ROWS]
        ),
    }


# Measures whose rows are already dicts keyed by the table's columns.
_MEASURE_TABLES = (
    "segment_dfg",
    "segment_variants",
    "segments",
    "sla",
    "sla_breaches",
    "bottleneck_cases",
)


def _measure_frames(run_id: str, measures: Measures) -> dict[str, pd.DataFrame]:
    frames = {table: pm_frame(table, run_id, getattr(measures, table)) for table in _MEASURE_TABLES}
    frames["process_map"] = pm_frame(
        "process_map", run_id, ({"view": view, "dot": dot} for view, dot in measures.dots.items())
    )
    return frames


def write_frames(con: duckdb.DuckDBPyConnection, frames: dict[str, pd.DataFrame]) -> None:
    """Replaces the rows of each named pm table with its frame's, in one transaction."""
    con.execute(pm_ddl())
    con.begin()
    try:
        for table, frame in frames.items():
            con.execute(f"delete from pm.{table}")
            if len(frame):
                con.register("pm_rows", frame)
                con.execute(f"insert into pm.{table} by name select * from pm_rows")
                con.unregister("pm_rows")
        con.commit()
    except Exception:
        con.rollback()
        raise
