"""``billops check``: validate suites, record results, score sources, route breaks, apply policy.

The nightly run calls ``check_raw`` right after ingest (before dbt) and ``check_marts`` after dbt.
A critical failure on raw data raises ``DataQualityError`` so nothing downstream (dbt, publish)
runs and the previous serving snapshot stays; warnings never stop a run.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from billops import ops_store
from billops.config import Settings, get_settings
from billops.errors import BillopsError
from billops.warehouse import as_of as warehouse_as_of
from billops.warehouse import connect
from expectations import batches, parallel, quarantine
from expectations.breaks import refresh_breaks
from expectations.coverage import Coverage
from expectations.results_store import SuiteRun, append_runs
from expectations.scores import refresh_scores
from expectations.spec import SuiteSpec
from expectations.suites import MART_SUITES, RAW_SUITES, SUITES
from expectations.validate import ExpectationOutcome, FrameValidator, failed_without_result

log = logging.getLogger(__name__)

DOCS_RUNS_KEPT = 30  # validation results (and their Data Docs pages) kept per suite


class DataQualityError(BillopsError):
    """A critical expectation failed on raw data: the run stops before anything is published."""


@dataclass
class CheckSummary:
    run_id: str
    suites: int  # suites validated
    expectations: int
    failed: int
    critical_failed: int
    warning_failed: int = 0
    open_breaks: int = 0
    data_docs: str | None = None
    batches: dict[str, int] = field(default_factory=dict)  # verdicts given, per status
    quarantine: dict[str, int] = field(default_factory=dict)  # units per status (raw checks)
    results: list[ExpectationOutcome] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # suites whose table does not exist yet
    coverage: str = "table"  # what the raw suites covered (expectations.coverage)


def new_run_id(now: datetime) -> str:
    return f"dq-{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def run_checks(
    settings: Settings | None = None,
    run_id: str | None = None,
    suites: tuple[SuiteSpec, ...] = SUITES,
    docs: bool = True,
    share: bool = True,
    new_batches: bool = False,
) -> CheckSummary:
    """Validates each suite's table (``share``: large checks in helper processes); appends the
    suite and expectation results; refreshes the quality scores and the open breaks; gives
    pending batches their verdict when raw suites ran. Raw suites cover every row, or with
    ``new_batches`` the rows of the batches awaiting a verdict (``expectations.coverage``).

    Rules that depend on time use the data's as-of; ``evaluated_at`` is the real run time because
    it is an audit timestamp, not a rule input.
    """
    settings = settings or get_settings()
    evaluated_at = datetime.now(UTC).replace(tzinfo=None)
    run_id = run_id or new_run_id(evaluated_at)
    docs_dir = Path(settings.data_docs) if docs else None
    store_dir = Path(settings.home) / "gx" / "validations" if docs else None
    with connect(settings) as con:
        batches.ensure_table(con)
        as_of = warehouse_as_of(con)
        coverage = Coverage.new_batches(con) if new_batches else Coverage()
        raw_run = any(s.layer == "raw" for s in suites)
        suites = tuple(s for s in suites if s.layer != "raw" or coverage.covers(s))
        done = _validate_suites(con, suites, as_of, run_id, docs_dir, store_dir,
                                share_rows=settings.check_share_rows if share else None,
                                coverage=coverage)
        runs, skipped, validator = done.runs, done.skipped, done.validator
        outcomes = [o for run in runs for o in run.outcomes]
        append_runs(con, run_id, runs, as_of, evaluated_at, coverage=coverage.kind)
        verdicts = (
            batches.record_verdicts(con, run_id, outcomes, evaluated_at) if raw_run else {}
        )
        held = (quarantine.refresh(con, run_id, outcomes, evaluated_at, coverage)
                if raw_run else {})
        refresh_scores(con)
        open_breaks = refresh_breaks(con)
    index = (validator.build_docs() if validator else None) or done.docs_index
    if docs_dir is not None and store_dir is not None:
        _prune(store_dir, docs_dir)
    failed = [o for o in outcomes if not o.success]
    return CheckSummary(
        run_id=run_id,
        suites=len(runs),
        expectations=len(outcomes),
        failed=len(failed),
        critical_failed=sum(o.severity == "critical" for o in failed),
        warning_failed=sum(o.severity == "warning" for o in failed),
        open_breaks=open_breaks,
        data_docs=str(index) if index else None,
        batches=verdicts,
        quarantine=held,
        results=outcomes,
        skipped=skipped,
        coverage=coverage.kind,
    )


@dataclass
class _Validated:
    """What the suites' validation gave: a run per suite read, the suites with no table yet, and
    the validator (None when no suite was read) that builds the Data Docs."""

    runs: list[SuiteRun] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    validator: FrameValidator | None = None
    docs_index: Path | None = None  # the Data Docs the helper processes rendered


def _validate_suites(
    con: duckdb.DuckDBPyConnection,
    suites: tuple[SuiteSpec, ...],
    as_of: datetime | None,
    run_id: str,
    docs_dir: Path | None,
    store_dir: Path | None,
    share_rows: int | None = None,
    coverage: Coverage | None = None,
) -> _Validated:
    """Each suite's run, in ``suites`` order. When the suites' tables hold ``share_rows`` rows or
    more, helper processes validate them (``expectations.parallel``) and this one reads."""
    coverage = coverage or Coverage()
    done = _Validated()
    present: dict[str, tuple[SuiteSpec, list[str]]] = {}
    for spec in suites:
        columns = table_columns(con, spec.data_asset)
        if columns is None:
            done.skipped.append(spec.name)
        else:
            present[spec.name] = (spec, columns)
    rows = {name: _row_count(con, spec, coverage) for name, (spec, _c) in present.items()}
    if not coverage.whole:  # a table the new batches sent no row of has nothing new to check
        present = {name: kept for name, kept in present.items() if rows[name]}
    chosen: dict[str, int] = {}
    if share_rows is not None and len(present) > 1 and sum(rows.values()) >= share_rows and \
            parallel.can_share(spec for spec, _c in present.values()):
        chosen = parallel.assign(_costs(con, present, rows, as_of, coverage.kind),
                                 parallel.CHECK_HELPERS)
    helpers = [parallel.SuiteHelper(docs_dir, store_dir)
               for _ in range(max(chosen.values(), default=-1) + 1)]
    runs: dict[str, SuiteRun] = {}
    try:
        handed: dict[str, Future[tuple[list[ExpectationOutcome], float]]] = {}
        for name in sorted(present, key=lambda n: -rows[n]):
            spec, columns = present[name]
            started = time.perf_counter()
            try:
                frame = read_frame(con, spec, columns, coverage)
            except duckdb.Error as exc:
                reason = (f"{spec.data_asset}: cannot read for checks "
                          f"({' '.join(str(exc).split())[:300]})")
                outcomes = [failed_without_result(spec, r, reason) for r in spec.rules(as_of)]
                runs[name] = _suite_run(spec, outcomes, None, time.perf_counter() - started)
                continue
            rows[name] = len(frame)
            if name in chosen:
                handed[name] = helpers[chosen[name]].submit(frame, spec, as_of, run_id)
                continue
            done.validator = done.validator or FrameValidator(docs_dir, store_dir)
            outcomes = done.validator.validate(frame, spec, as_of, run_id=run_id)
            runs[name] = _suite_run(spec, outcomes, len(frame), time.perf_counter() - started)
        for name, future in handed.items():
            outcomes, seconds = future.result()
            runs[name] = _suite_run(present[name][0], outcomes, rows[name], seconds)
        if helpers:  # every helper renders its pages at once; the last also writes the index
            others = tuple(name for name, helper in chosen.items() if helper != len(helpers) - 1)
            rendering = [helper.render(index=i == len(helpers) - 1, also=others, as_of=as_of)
                         for i, helper in enumerate(helpers)]
            for future in rendering:
                if future is not None:
                    future.result()
            done.docs_index = docs_dir / "index.html" if docs_dir else None
    finally:
        for helper in helpers:
            helper.close()
    done.runs = [runs[spec.name] for spec in suites if spec.name in runs]
    return done


def _costs(con: duckdb.DuckDBPyConnection, present: dict[str, tuple[SuiteSpec, list[str]]],
           rows: dict[str, int], as_of: datetime | None, coverage: str) -> dict[str, float]:
    """Each suite's expected cost: its seconds in the last check of the same coverage that ran
    it, else rows times rules (scaled to seconds by the suites that have both)."""
    last: dict[str, float] = {}
    if table_columns(con, "dq.validation_results"):
        last = dict(con.execute(
            "select suite, arg_max(duration_s, evaluated_at) from dq.validation_results "
            "where coalesce(coverage, 'table') = ? group by suite", [coverage]).fetchall())
    work = {name: max(rows[name], 1) * len(spec.rules(as_of)) for name, (spec, _c) in present.items()}
    known = [name for name in present if last.get(name)]
    per_unit = (sum(last[n] for n in known) / sum(work[n] for n in known)) if known else 1.0
    return {name: last.get(name) or work[name] * per_unit for name in present}


def _row_count(con: duckdb.DuckDBPyConnection, spec: SuiteSpec, coverage: Coverage) -> int:
    """The rows of the suite's table the check covers: its cost estimate (a Parquet view answers
    a whole count from metadata)."""
    sql, params = f"select * from {spec.data_asset}", []
    if not coverage.whole:
        new, params = coverage.new_rows(spec)
        sql = f"{sql} where {new}"
    try:
        return int(con.execute(f"select count(*) from ({sql})", params).fetchone()[0])
    except duckdb.Error:
        return 0


def _suite_run(spec: SuiteSpec, outcomes: list[ExpectationOutcome], element_count: int | None,
               seconds: float) -> SuiteRun:
    return SuiteRun(suite=spec.name, data_asset=spec.data_asset, source=spec.source,
                    layer=spec.layer, outcomes=tuple(outcomes), element_count=element_count,
                    duration_s=seconds)


def check_raw(settings: Settings | None = None, docs: bool = True,
              new_batches: bool = False) -> CheckSummary:
    """Raw suites; a blocking failure raises ``DataQualityError`` after the results are saved.
    Failed quarantine rules hold back their units and the run goes on. ``new_batches``: only the
    rows of the batches awaiting a verdict (the intraday check, ``expectations.coverage``)."""
    summary = run_checks(settings, suites=RAW_SUITES, docs=docs, new_batches=new_batches)
    blocking = sorted({f"{o.suite}.{o.rule}" for o in summary.results if batches.blocks(o)})
    if blocking:
        shown = ", ".join(blocking[:5]) + (
            f" and {len(blocking) - 5} more" if len(blocking) > 5 else ""
        )
        raise DataQualityError(
            f"raw data quality: {len(blocking)} blocking expectation(s) failed ({shown}); "
            f"{summary.batches.get(batches.FAILED, 0)} batch(es) marked FAILED in "
            f"{batches.QUALITY_TABLE}; marts not published (run {summary.run_id}; see "
            "marts.dq_breaks and Data Docs)"
        )
    return summary


def check_marts(settings: Settings | None = None, docs: bool = True) -> CheckSummary:
    """Mart suites: failures are recorded and routed as breaks, never stop the run. They run in
    one process: ``billops run`` mines the event log on the other core meanwhile."""
    return run_checks(settings, suites=MART_SUITES, docs=docs, share=False)


def waive_batch(
    system: str, batch_id: str, reason: str, actor: str, settings: Settings | None = None
) -> None:
    """Accepts a FAILED batch; who, why and when are recorded in ``dq.batch_quality`` and, with
    a refused attempt too, in the operational store's audit trail (``batch_waiver``)."""
    settings = settings or get_settings()
    detail = {"system": system, "batch_id": batch_id, "reason": reason.strip()[:1000]}
    try:
        with connect(settings) as con:
            batches.waive(con, system, batch_id, reason, datetime.now(UTC).replace(tzinfo=None), actor)
    except BillopsError as exc:
        ops_store.record_audit("batch_waiver", f"{system}/{batch_id}", "WAIVE_REFUSED", actor,
                               {**detail, "refused": str(exc)}, settings)
        raise
    ops_store.record_audit("batch_waiver", f"{system}/{batch_id}", "WAIVE", actor, detail, settings)


def table_columns(con: duckdb.DuckDBPyConnection, data_asset: str) -> list[str] | None:
    schema, table = data_asset.split(".", 1)
    rows = con.execute(
        "select column_name from duckdb_columns() where schema_name = ? and table_name = ? "
        "and database_name = current_database() order by column_index",
        [schema, table],
    ).fetchall()
    return [r[0] for r in rows] or None


def read_frame(con: duckdb.DuckDBPyConnection, spec: SuiteSpec, columns: list[str],
               coverage: Coverage | None = None) -> pd.DataFrame:
    """The suite's frame (the rows ``coverage`` covers, by default all). Without a query, the
    contract columns the table has: a missing one fails the schema expectation and the rules that
    read it, with the reason."""
    if spec.query:
        sql = spec.sql()
    else:
        present = ", ".join(f'"{c}"' for c in spec.columns if c in columns)
        sql = f"select {present} from {spec.data_asset}"
    system = batches.system_of(spec.data_asset)
    params: list[object] = []
    if spec.layer == "raw" and system and table_columns(con, batches.QUALITY_TABLE):
        predicate, params = batches.waived_filter(system)
        sql = f"select * from ({sql}) where {predicate}"
    if spec.layer == "raw" and coverage is not None:
        sql, more = coverage.restrict(sql, spec)
        params = [*params, *more]
    # In a fixed order, so the failing rows GX samples are the same on every run of the same
    # data (a parallel scan returns rows in any order).
    return vectorizable(con.execute(f"select * from ({sql}) order by all", params).df())


def vectorizable(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with timestamps in nanoseconds where every value fits, and integers in 64 bits.

    DuckDB gives microsecond timestamps and 8-to-32-bit integers; GX compares only
    datetime64[ns] and int64/float64 columns as whole arrays and maps a Python function over
    any other column, value by value (about 60 times slower on a medium month's charge lines).
    The values do not change: a timestamp column with a value outside the nanosecond range
    (before 1677 or after 2262) stays as it was read.
    """
    for name, column in frame.items():
        dtype = column.dtype
        if isinstance(dtype, pd.DatetimeTZDtype):
            target = None if dtype.unit == "ns" else pd.DatetimeTZDtype("ns", dtype.tz)
        elif pd.api.types.is_datetime64_dtype(dtype):
            target = None if dtype == "datetime64[ns]" else "datetime64[ns]"
        elif isinstance(dtype, np.dtype) and dtype.kind == "i" and dtype.itemsize < 8:
            target = "int64"
        else:
            target = None
        if target is not None:
            with contextlib.suppress(OverflowError, pd.errors.OutOfBoundsDatetime):
                frame[name] = column.astype(target)
    return frame


def _prune(store_dir: Path, docs_dir: Path) -> None:
    """Keep the latest ``DOCS_RUNS_KEPT`` runs per suite in the GX store and the Data Docs site;
    the warehouse tables keep the full history."""
    for root in (store_dir, docs_dir / "validations"):
        if not root.is_dir():
            continue
        for suite_dir in (p for p in root.iterdir() if p.is_dir()):
            runs = sorted(
                (p for p in suite_dir.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime
            )
            for old in runs[:-DOCS_RUNS_KEPT]:
                shutil.rmtree(old, ignore_errors=True)
