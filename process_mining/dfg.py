"""Directly-follows graph, variants and rework, computed in DuckDB SQL over a staged event log.

Every function takes a connection and the name of a table or view with the columns ``case_id,
activity, ts, event_order`` (see ``process_mining.event_log``). Within a case, events are ordered
by ``ts`` and then ``event_order``, so equal timestamps keep source order.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

_ORDER = "order by ts, event_order"


@dataclass(frozen=True)
class LogStats:
    cases: int
    events: int
    activities: int
    variants: int


@dataclass(frozen=True)
class Edge:
    """A directly-follows relation with the waits (seconds) between its two events."""

    source: str
    target: str
    count: int
    cases: int
    median_wait_s: float
    mean_wait_s: float
    p90_wait_s: float
    total_wait_s: float


@dataclass(frozen=True)
class Variant:
    rank: int
    activities: tuple[str, ...]
    cases: int
    share: float
    median_throughput_s: float


def _traces(events: str) -> str:
    # Sorting each case's small list of (ts, event_order, activity) structs is about a third
    # faster than ``list(activity order by ts, event_order)``; structs compare field by field,
    # and event_order is unique, so the order is that of ``_ORDER``.
    return (f"select case_id, [e.a for e in ev] as trace, [e.t for e in ev] as tss from ("
            f"select case_id, list_sort(list({{'t': ts, 'o': event_order, 'a': activity}})) "
            f"as ev from {events} group by case_id)")


def stage_traces(con: duckdb.DuckDBPyConnection, events: str) -> str:
    """One row per case with its ordered activities and timestamps, in the temp table
    ``pm_traces``; returns its name. Sorting the events once here, rather than in each measure,
    is most of the DuckDB path's advantage on a large log."""
    con.execute(f"create or replace temp table pm_traces as {_traces(events)}")
    return "pm_traces"


def _source(events: str, traces: str | None) -> str:
    return traces if traces is not None else f"({_traces(events)})"


def log_stats(con: duckdb.DuckDBPyConnection, events: str, traces: str | None = None,
              ) -> LogStats:
    (activities,) = con.execute(f"select count(distinct activity) from {events}").fetchone()
    cases, n_events, n_variants = con.execute(
        f"select count(*), coalesce(sum(len(trace)), 0), count(distinct trace) "
        f"from {_source(events, traces)}").fetchone()
    return LogStats(int(cases), int(n_events), int(activities), int(n_variants))


def directly_follows(con: duckdb.DuckDBPyConnection, events: str, traces: str | None = None,
                     ) -> list[Edge]:
    """Each (activity, next activity in the same case) pair, most frequent first."""
    rows = con.execute(f"""
        with pairs as (  -- DuckDB slices include their end: [:-2] drops the last element
            select case_id, unnest(trace[:-2]) as source, unnest(trace[2:]) as target,
                   unnest(tss[:-2]) as t0, unnest(tss[2:]) as t1
            from {_source(events, traces)}
        ), steps as (
            select case_id, source, target, date_diff('microsecond', t0, t1) / 1e6 as wait_s
            from pairs
        )
        select source, target, count(*) as n, count(distinct case_id) as cases,
               median(wait_s), avg(wait_s), quantile_cont(wait_s, 0.9), sum(wait_s)
        from steps
        group by source, target
        order by n desc, source, target
    """).fetchall()
    return [Edge(s, t, int(n), int(c), float(med), float(mean), float(p90), float(total))
            for s, t, n, c, med, mean, p90, total in rows]


def variants(con: duckdb.DuckDBPyConnection, events: str, limit: int | None = None,
             traces: str | None = None) -> list[Variant]:
    """Distinct activity sequences, most frequent first (ties by sequence, for a stable rank)."""
    limit_sql = f"limit {int(limit)}" if limit is not None else ""
    rows = con.execute(f"""
        select trace, count(*) as cases, count(*) / sum(count(*)) over () as share,
               median(date_diff('microsecond', tss[1], tss[-1]) / 1e6)
        from {_source(events, traces)} group by trace
        order by cases desc, trace
        {limit_sql}
    """).fetchall()
    return [Variant(rank, tuple(trace), int(cases), float(share), float(median))
            for rank, (trace, cases, share, median) in enumerate(rows, start=1)]


def rework(con: duckdb.DuckDBPyConnection, events: str) -> list[tuple[str, int]]:
    """Activities that occur more than once in a case, with the number of such cases."""
    return [(a, int(n)) for a, n in con.execute(f"""
        select activity, count(*) as cases from (
            select case_id, activity from {events} group by case_id, activity having count(*) > 1
        ) group by activity order by cases desc, activity
    """).fetchall()]


def activity_counts(con: duckdb.DuckDBPyConnection, events: str) -> dict[str, int]:
    return {a: int(n) for a, n in con.execute(
        f"select activity, count(*) from {events} group by activity order by activity").fetchall()}


def endpoint_counts(con: duckdb.DuckDBPyConnection, events: str,
                    ) -> tuple[dict[str, int], dict[str, int]]:
    """How many cases start and end with each activity."""
    rows = con.execute(f"""
        with traces as ({_traces(events)})
        select 'start', trace[1], count(*) from traces group by trace[1]
        union all
        select 'end', trace[-1], count(*) from traces group by trace[-1]
    """).fetchall()
    starts = {a: int(n) for kind, a, n in rows if kind == "start"}
    ends = {a: int(n) for kind, a, n in rows if kind == "end"}
    return starts, ends


def sample_traces(con: duckdb.DuckDBPyConnection, events: str, cap: int,
                  ) -> list[tuple[str, tuple[str, ...]]]:
    """Up to ``cap`` cases with their traces, chosen by a hash of the case id.

    The hash makes the sample deterministic (same log, same sample) without favouring early or
    late cases as an ``order by case_id`` would for sequential account numbers.
    """
    rows = con.execute(f"""
        with traces as ({_traces(events)})
        select case_id, trace from traces order by md5(case_id), case_id limit {int(cap)}
    """).fetchall()
    return [(case_id, tuple(trace)) for case_id, trace in rows]
