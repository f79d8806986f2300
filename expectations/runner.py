"""``billops check``: validate every suite's table and record the results in ``dq``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import pandas as pd

from billops.config import Settings, get_settings
from billops.errors import BillopsError
from billops.warehouse import as_of as warehouse_as_of
from billops.warehouse import connect
from expectations.results_store import append_results
from expectations.spec import SuiteSpec
from expectations.suites import SUITES
from expectations.validate import ExpectationOutcome, FrameValidator, failed_without_result


@dataclass
class CheckSummary:
    run_id: str
    suites: int  # suites validated
    expectations: int
    failed: int
    critical_failed: int
    results: list[ExpectationOutcome] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # suites whose table does not exist yet


def new_run_id(now: datetime) -> str:
    return f"dq-{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def run_checks(settings: Settings | None = None, run_id: str | None = None,
               suites: tuple[SuiteSpec, ...] = SUITES) -> CheckSummary:
    """Validates each suite's table and appends one ``dq.validation_results`` row per expectation.

    Rules that depend on time use the data's as-of; ``evaluated_at`` is the real run time because
    it is an audit timestamp, not a rule input.
    """
    settings = settings or get_settings()
    evaluated_at = datetime.now(UTC).replace(tzinfo=None)
    run_id = run_id or new_run_id(evaluated_at)
    outcomes: list[ExpectationOutcome] = []
    skipped: list[str] = []
    validator: FrameValidator | None = None
    with connect(settings) as con:
        as_of = warehouse_as_of(con)
        for spec in suites:
            columns = _table_columns(con, spec.data_asset)
            if columns is None:
                skipped.append(spec.name)
                continue
            missing = [c for c in spec.columns if c not in columns]
            if missing:
                outcomes += _missing_columns(spec, as_of, missing)
                continue
            validator = validator or FrameValidator()
            outcomes += validator.validate(_read(con, spec), spec, as_of)
        append_results(con, run_id, outcomes, evaluated_at)
    failed = [o for o in outcomes if not o.success]
    return CheckSummary(
        run_id=run_id,
        suites=len(suites) - len(skipped),
        expectations=len(outcomes),
        failed=len(failed),
        critical_failed=sum(o.severity == "critical" for o in failed),
        results=outcomes,
        skipped=skipped,
    )


def _table_columns(con: duckdb.DuckDBPyConnection, data_asset: str) -> list[str] | None:
    schema, table = data_asset.split(".", 1)
    rows = con.execute(
        "select column_name from duckdb_columns() where schema_name = ? and table_name = ? "
        "and database_name = current_database() order by column_index",
        [schema, table],
    ).fetchall()
    return [r[0] for r in rows] or None


def _read(con: duckdb.DuckDBPyConnection, spec: SuiteSpec) -> pd.DataFrame:
    cols = ", ".join(f'"{c}"' for c in spec.columns)
    try:
        return con.execute(f"select {cols} from {spec.data_asset}").df()
    except duckdb.Error as exc:
        reason = " ".join(str(exc).split())[:300]
        raise BillopsError(f"{spec.data_asset}: cannot read for checks ({reason})") from exc


def _missing_columns(spec: SuiteSpec, as_of: datetime | None,
                     missing: list[str]) -> list[ExpectationOutcome]:
    """A table that breaks its column contract fails every rule of its suite, with the reason."""
    error = f"{spec.data_asset} lacks column(s) {', '.join(missing)}"
    return [failed_without_result(spec, rule, error) for rule in spec.rules(as_of)]
