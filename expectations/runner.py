"""``billops check``: validate suites, record results, score sources, route breaks, apply policy.

The nightly run calls ``check_raw`` right after ingest (before dbt) and ``check_marts`` after dbt.
A critical failure on raw data raises ``DataQualityError`` so nothing downstream (dbt, publish)
runs and the previous serving snapshot stays; warnings never stop a run.
"""

from __future__ import annotations

import logging
import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from billops import ops_store
from billops.config import Settings, get_settings
from billops.errors import BillopsError
from billops.warehouse import as_of as warehouse_as_of
from billops.warehouse import connect
from expectations import batches, quarantine
from expectations.breaks import refresh_breaks
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


def new_run_id(now: datetime) -> str:
    return f"dq-{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def run_checks(
    settings: Settings | None = None,
    run_id: str | None = None,
    suites: tuple[SuiteSpec, ...] = SUITES,
    docs: bool = True,
) -> CheckSummary:
    """Validates each suite's table; appends the suite and expectation results; refreshes the
    quality scores and the open breaks; gives pending batches their verdict when raw suites ran.

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
        done = _validate_suites(con, suites, as_of, run_id, docs_dir, store_dir)
        runs, skipped, validator = done.runs, done.skipped, done.validator
        outcomes = [o for run in runs for o in run.outcomes]
        append_runs(con, run_id, runs, as_of, evaluated_at)
        raw_run = any(s.layer == "raw" for s in suites)
        verdicts = (
            batches.record_verdicts(con, run_id, outcomes, evaluated_at) if raw_run else {}
        )
        held = quarantine.refresh(con, run_id, outcomes, evaluated_at) if raw_run else {}
        refresh_scores(con)
        open_breaks = refresh_breaks(con)
    index = validator.build_docs() if validator else None
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
    )


@dataclass
class _Validated:
    """What the suites' validation gave: a run per suite read, the suites with no table yet, and
    the validator (None when no suite was read) that builds the Data Docs."""

    runs: list[SuiteRun] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    validator: FrameValidator | None = None


def _validate_suites(
    con: duckdb.DuckDBPyConnection,
    suites: tuple[SuiteSpec, ...],
    as_of: datetime | None,
    run_id: str,
    docs_dir: Path | None,
    store_dir: Path | None,
) -> _Validated:
    done = _Validated()
    for spec in suites:
        started = time.perf_counter()
        columns = table_columns(con, spec.data_asset)
        if columns is None:
            done.skipped.append(spec.name)
            continue
        try:
            frame = read_frame(con, spec, columns)
        except duckdb.Error as exc:
            reason = f"{spec.data_asset}: cannot read for checks ({' '.join(str(exc).split())[:300]})"
            outcomes = [failed_without_result(spec, r, reason) for r in spec.rules(as_of)]
            element_count = None
        else:
            done.validator = done.validator or FrameValidator(docs_dir, store_dir)
            outcomes = done.validator.validate(frame, spec, as_of, run_id=run_id)
            element_count = len(frame)
        done.runs.append(
            SuiteRun(
                suite=spec.name,
                data_asset=spec.data_asset,
                source=spec.source,
                layer=spec.layer,
                outcomes=tuple(outcomes),
                element_count=element_count,
                duration_s=time.perf_counter() - started,
            )
        )
    return done


def check_raw(settings: Settings | None = None, docs: bool = True) -> CheckSummary:
    """Raw suites; a blocking failure raises ``DataQualityError`` after the results are saved.
    Failed quarantine rules hold back their units and the run goes on."""
    summary = run_checks(settings, suites=RAW_SUITES, docs=docs)
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
    """Mart suites: failures are recorded and routed as breaks, never stop the run."""
    return run_checks(settings, suites=MART_SUITES, docs=docs)


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


def read_frame(con: duckdb.DuckDBPyConnection, spec: SuiteSpec, columns: list[str]) -> pd.DataFrame:
    """The suite's frame. Without a query, the contract columns the table has: a missing one
    fails the schema expectation and the rules that read it, with the reason."""
    if spec.query:
        sql = spec.sql()
    else:
        present = ", ".join(f'"{c}"' for c in spec.columns if c in columns)
        sql = f"select {present} from {spec.data_asset}"
    system = batches.system_of(spec.data_asset)
    params: list[str] = []
    if spec.layer == "raw" and system and table_columns(con, batches.QUALITY_TABLE):
        predicate, params = batches.waived_filter(system)
        sql = f"select * from ({sql}) where {predicate}"
    return con.execute(sql, params).df()


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
