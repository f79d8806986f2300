"""Queries behind the Process page, over the ``pm`` tables of the serving snapshot.

Every ``pm`` table holds the rows of the latest ``billops mine`` run (keyed by ``run_id``).
Segment tables (``pm.segments``, ``pm.sla``) carry a dimension (entity, payer_id, month) and a
segment value; case lists (SLA breaches, bottleneck cases, deviating cases) carry a case id only,
so the entity / payer / month filters reach them through ``marts.billing_event_log`` in the same
snapshot, with the rule the miner uses: a case takes the entity and payer of its first event
that has one, and the month of its first event.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboards import data

SCHEMA = "pm"
EVENT_LOG = ("marts", "billing_event_log")
DIMENSIONS = {"entity": "Entity", "payer_id": "Payer", "month": "Month"}
ALL = "all"
TOP_VARIANTS = 20
CASE_ROWS = 500
EMPTY_HINT = (
    "Run `billops mine` and then `billops publish` (or `billops run`, which does both) to mine "
    "the billing event log and publish the results."
)


@dataclass(frozen=True)
class Run:
    run_id: str
    source: str
    cases: int
    events: int
    activities: int
    variants: int
    mined_at: pd.Timestamp | None


@dataclass(frozen=True)
class ProcessFilters:
    """Selected values per dimension; an empty selection means every value."""

    entities: tuple[str, ...] = ()
    payers: tuple[str, ...] = ()
    months: tuple[str, ...] = ()

    def by_dimension(self) -> dict[str, tuple[str, ...]]:
        return {"entity": self.entities, "payer_id": self.payers, "month": self.months}

    @property
    def active(self) -> bool:
        return any(self.by_dimension().values())


def latest_run() -> Run:
    """The run the pm tables hold; SnapshotUnavailable (info) when nothing was mined yet."""
    if not data.has_relation(SCHEMA, "runs"):
        raise data.SnapshotUnavailable(
            f"No process-mining results in the serving snapshot at {data.snapshot_path()} yet. "
            + EMPTY_HINT
        )
    frame = data.query(
        "select run_id, source, cases, events, activities, variants, mined_at from pm.runs "
        "order by mined_at desc limit 1"
    )
    if frame.empty:
        raise data.SnapshotUnavailable(
            f"pm.runs in the serving snapshot at {data.snapshot_path()} is empty. " + EMPTY_HINT
        )
    row = frame.iloc[0]
    return Run(
        str(row["run_id"]),
        str(row["source"]),
        int(row["cases"]),
        int(row["events"]),
        int(row["activities"]),
        int(row["variants"]),
        None if pd.isna(row["mined_at"]) else pd.Timestamp(row["mined_at"]),
    )


def _table(name: str, sql: str, params: tuple[object, ...]) -> pd.DataFrame | None:
    """The query's rows, or None when the snapshot predates the table."""
    if not data.has_relation(SCHEMA, name):
        return None
    return data.query(sql, params)


def process_map(run: Run, view: str) -> str | None:
    frame = _table(
        "process_map",
        "select dot from pm.process_map where run_id = ? and view = ?",
        (run.run_id, view),
    )
    if frame is None or frame.empty:
        return None
    return str(frame["dot"].iloc[0])


def filter_options(run: Run) -> dict[str, list[str]]:
    """Segment values per dimension, from ``pm.segments``."""
    frame = _table(
        "segments",
        "select dimension, segment from pm.segments where run_id = ? "
        "and dimension <> ? order by dimension, segment",
        (run.run_id, ALL),
    )
    options: dict[str, list[str]] = {d: [] for d in DIMENSIONS}
    if frame is not None:
        for dimension, segment in frame.itertuples(index=False):
            if dimension in options:
                options[dimension].append(str(segment))
    return options


def _segment_rows(
    table: str, columns: str, run: Run, filters: ProcessFilters, order: str
) -> pd.DataFrame | None:
    """The whole-log row and the selected segments (every segment when nothing is selected)."""
    clauses = ["dimension = ?"]
    params: list[object] = [run.run_id, ALL]
    for dimension, values in filters.by_dimension().items():
        if values:
            clauses.append(f"(dimension = ? and segment in ({', '.join('?' * len(values))}))")
            params += [dimension, *values]
    if not filters.active:
        clauses.append("dimension <> ?")
        params.append(ALL)
    return _table(
        table,
        f"select {columns} from pm.{table} where run_id = ? and "
        f"({' or '.join(clauses)}) order by {order}",
        tuple(params),
    )


def segments(run: Run, filters: ProcessFilters) -> pd.DataFrame | None:
    return _segment_rows(
        "segments",
        "dimension, segment, cases, events, median_duration_s, p90_duration_s, rework_cases",
        run,
        filters,
        "dimension = 'all' desc, dimension, segment",
    )


def sla_summary(run: Run, filters: ProcessFilters) -> pd.DataFrame | None:
    return _segment_rows(
        "sla",
        "rule, source, target, window_s, dimension, segment, cases, breaches, "
        "open_breaches, breach_rate, median_s, p90_s",
        run,
        filters,
        "rule, dimension = 'all' desc, dimension, segment",
    )


def can_filter_cases() -> bool:
    return data.has_relation(*EVENT_LOG)


def _case_filter(filters: ProcessFilters, column: str = "case_id") -> tuple[str, list[object]]:
    """``and <column> in (cases of the selected segments)``, or "" when nothing is selected or
    the snapshot has no event log to place cases in segments."""
    if not filters.active or not can_filter_cases():
        return "", []
    clauses, params = [], []
    for dimension, values in filters.by_dimension().items():
        if values:
            clauses.append(f"{dimension} in ({', '.join('?' * len(values))})")
            params += list(values)
    schema, table = EVENT_LOG
    sql = (
        f" and {column} in (select case_id from ("
        "select cast(case_id as varchar) as case_id, "
        "cast(arg_min(entity, ts) filter (where entity is not null) as varchar) as entity, "
        "cast(arg_min(payer_id, ts) filter (where payer_id is not null) as varchar) "
        "as payer_id, strftime(min(ts), '%Y-%m') as month "
        f"from {schema}.{table} where case_id is not null and ts is not null "
        f"group by case_id) where {' and '.join(clauses)})"
    )
    return sql, params


def top_variants(run: Run, limit: int = TOP_VARIANTS) -> pd.DataFrame | None:
    return _table(
        "variants",
        "select variant_rank, activities, cases, share, "
        "median_throughput_s from pm.variants where run_id = ? "
        "order by variant_rank limit ?",
        (run.run_id, limit),
    )


def bottlenecks(run: Run) -> pd.DataFrame | None:
    return _table(
        "bottlenecks",
        "select source, target, cases, median_wait_s, total_wait_s "
        "from pm.bottlenecks where run_id = ? order by total_wait_s desc, source, "
        "target",
        (run.run_id,),
    )


def bottleneck_cases(
    run: Run,
    source: str,
    target: str,
    filters: ProcessFilters,
) -> pd.DataFrame | None:
    where, params = _case_filter(filters)
    return _table(
        "bottleneck_cases",
        "select case_id, wait_s from pm.bottleneck_cases "
        f"where run_id = ? and source = ? and target = ?{where} "
        "order by wait_s desc, case_id",
        (run.run_id, source, target, *params),
    )


def rework(run: Run) -> pd.DataFrame | None:
    return _table(
        "rework",
        "select activity, cases from pm.rework where run_id = ? order by cases desc, activity",
        (run.run_id,),
    )


def sla_breaches(run: Run, filters: ProcessFilters) -> pd.DataFrame | None:
    where, params = _case_filter(filters)
    return _table(
        "sla_breaches",
        "select rule, case_id, start_ts, end_ts, elapsed_s, open "
        f"from pm.sla_breaches where run_id = ?{where} "
        "order by elapsed_s desc, case_id limit ?",
        (run.run_id, *params, CASE_ROWS),
    )


def conformance(run: Run) -> pd.Series | None:
    frame = _table(
        "conformance",
        "select reference, cases_checked, fitness, precision, "
        "deviating_cases from pm.conformance where run_id = ?",
        (run.run_id,),
    )
    return None if frame is None or frame.empty else frame.iloc[0]


def alignment_summary(run: Run) -> pd.Series | None:
    frame = _table(
        "alignment_summary", "select * from pm.alignment_summary where run_id = ?", (run.run_id,)
    )
    return None if frame is None or frame.empty else frame.iloc[0]


def alignments(run: Run) -> pd.DataFrame | None:
    return _table(
        "alignments",
        "select variant_rank, activities, cases, method, fitness, "
        "log_moves, model_moves, how from pm.alignments where run_id = ? "
        "order by fitness, cases desc, variant_rank",
        (run.run_id,),
    )


def deviating_cases(run: Run, filters: ProcessFilters) -> pd.DataFrame | None:
    """Cases of the variants that deviate from the reference model, with how they deviate."""
    if not (
        data.has_relation(SCHEMA, "alignment_cases") and data.has_relation(SCHEMA, "alignments")
    ):
        return None
    where, params = _case_filter(filters, "c.case_id")
    return data.query(
        "select c.case_id, a.variant_rank, a.method, a.fitness, a.how "
        "from pm.alignment_cases c join pm.alignments a "
        "on a.run_id = c.run_id and a.variant_rank = c.variant_rank "
        f"where c.run_id = ?{where} order by a.fitness, a.variant_rank, c.case_id limit ?",
        (run.run_id, *params, CASE_ROWS),
    )


def segment_variants(run: Run, filters: ProcessFilters) -> pd.DataFrame | None:
    """The top variants of each selected segment (``pm.segment_variants``)."""
    clauses: list[str] = []
    params: list[object] = [run.run_id]
    for dimension, values in filters.by_dimension().items():
        if values:
            clauses.append(f"(dimension = ? and segment in ({', '.join('?' * len(values))}))")
            params += [dimension, *values]
    if not clauses:
        return None
    return _table(
        "segment_variants",
        "select dimension, segment, segment_rank, activities, cases, share, "
        f"median_throughput_s from pm.segment_variants where run_id = ? and "
        f"({' or '.join(clauses)}) order by dimension, segment, segment_rank",
        tuple(params),
    )
