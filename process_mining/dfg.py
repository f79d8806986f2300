"""Directly-follows graph, variants and rework, computed in DuckDB SQL over a staged event log.

Every function takes a connection and the name of a table or view with the columns ``case_id,
activity, ts, event_order`` (see ``process_mining.event_log``). Within a case, events are ordered
by ``ts`` and then ``event_order``, so equal timestamps keep source order.

The log is sorted once (``stage``). Activities are dictionary-encoded to small integers, and each
event becomes one HUGEINT that sorts as (ts, event_order) and carries the activity id in its low
bits; grouping by case and sorting each case's small list of such integers is several times
cheaper than a window over the whole log or a list of structs. From that one ordered relation:

- ``pm_traces``: one row per case: ``trace`` (activity ids in order) and ``tss`` (microseconds
  since the log's first event);
- ``pm_variants``: one row per distinct trace (grouped exactly, by the list of ids) with its case
  count, median throughput and rank;

and every measure reads one of them: the directly-follows waits unnest the traces once; the
cases behind each pair, rework, activity and start/end counts come from the far smaller variants.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter

import duckdb

ACTIVITIES = "pm_activities"
TRACES = "pm_traces"
VARIANTS = "pm_variants"
# Low bits of an event's sort key: event_order << _AID_BITS | activity id.
_AID_BITS = 24
_ORDER_BITS = 64 - _AID_BITS


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


@dataclass(frozen=True)
class Staged:
    """The temporary tables ``stage`` built for one event log, and its activity names by id."""

    names: tuple[str, ...]
    activities: str = ACTIVITIES
    traces: str = TRACES
    variants: str = VARIANTS

    def decode(self, ids: list[int]) -> tuple[str, ...]:
        if len(ids) == 1:
            return (self.names[ids[0]],)
        return itemgetter(*ids)(self.names) if ids else ()


@contextmanager
def unordered(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Lets DuckDB write intermediate tables in any row order (every read orders explicitly)."""
    (old,) = con.execute("select current_setting('preserve_insertion_order')").fetchall()[0]
    con.execute("set preserve_insertion_order = false")
    try:
        yield
    finally:
        con.execute(f"set preserve_insertion_order = {'true' if old else 'false'}")


def build_activity_dictionary(con: duckdb.DuckDBPyConnection, activities_sql: str) -> str:
    """``pm_activities (aid, activity)`` from a query returning an ``activity`` column (nulls
    skipped); returns its name. Ids follow the names' order, so a list of ids sorts as the list
    of names would. Staging a log file calls this once and stores each event's ``aid``."""
    con.execute(f"""
        create or replace temp table {ACTIVITIES} as
        select cast(row_number() over (order by activity) - 1 as uinteger) as aid, activity
        from (select distinct activity from ({activities_sql}) where activity is not null)""")
    return ACTIVITIES


def stage(con: duckdb.DuckDBPyConnection, events: str) -> Staged:
    """Sorts the log once into ``pm_traces`` and groups its cases into ``pm_variants``.

    A log staged from a file already carries ``aid``, encoded against ``pm_activities`` when it
    was loaded; any other table or view is encoded here.
    """
    columns = {r[0] for r in con.execute(f"describe select * from {events}").fetchall()}
    encoded = "aid" in columns
    with unordered(con):
        if not encoded:
            build_activity_dictionary(con, f"select activity from {events}")
        n_activities, base, min_order, max_order = con.execute(
            f"select (select count(*) from {ACTIVITIES}), epoch_us(min(ts)), min(event_order), "
            f"max(event_order) from {events}"
        ).fetchall()[0]
        # Offsets from the minima keep every part of the key non-negative.
        base, min_order = base or 0, min_order or 0
        if n_activities >= 1 << _AID_BITS or (max_order or 0) - min_order >= 1 << _ORDER_BITS:
            raise ValueError(
                "event log too large to encode: more than 16 million activities "
                "or an event_order range beyond 2^40"
            )
        mask = (1 << _AID_BITS) - 1
        con.execute(f"""
            create or replace temp table {TRACES} as
            select case_id,
                   list_transform(keys, lambda x: cast(x & {int(mask)} as uinteger)) as trace,
                   list_transform(keys, lambda x: cast(x >> 64 as bigint)) as tss
            from (
                select e.case_id,
                       list_sort(list((cast(epoch_us(e.ts) - {int(base)} as hugeint) << 64)
                                      + (cast(e.event_order - {int(min_order)} as hugeint)
                                         << {_AID_BITS})
                                      + {"e" if encoded else "a"}.aid)) as keys
                from {events} e {"" if encoded else f"join {ACTIVITIES} a using (activity)"}
                group by e.case_id)""")
        con.execute(f"""
            create or replace temp table {VARIANTS} as
            select trace, cases, median_throughput_s,
                   cast(row_number() over (order by cases desc, trace) as integer)
                       as variant_rank
            from (select trace, count(*) as cases,
                         median(tss[-1] - tss[1]) / 1e6 as median_throughput_s
                  from {TRACES} group by trace)""")
    names = tuple(
        a for (a,) in con.execute(f"select activity from {ACTIVITIES} order by aid").fetchall()
    )
    return Staged(names)


def _staged(con: duckdb.DuckDBPyConnection, events: str, staged: Staged | None) -> Staged:
    return staged if staged is not None else stage(con, events)


def log_stats(
    con: duckdb.DuckDBPyConnection,
    events: str,
    staged: Staged | None = None,
) -> LogStats:
    s = _staged(con, events, staged)
    cases, n_events, n_variants = con.execute(
        f"select coalesce(sum(cases), 0), coalesce(sum(cases * len(trace)), 0), count(*) "
        f"from {s.variants}"
    ).fetchall()[0]
    return LogStats(int(cases), int(n_events), len(s.names), int(n_variants))


def directly_follows(
    con: duckdb.DuckDBPyConnection,
    events: str,
    staged: Staged | None = None,
) -> list[Edge]:
    """Each (activity, next activity in the same case) pair, most frequent first.

    Counts and waits come from the ordered traces; the cases behind each pair from the variants
    (a pair's cases are the cases of the variants that contain it), which is far less work than
    a distinct count over every step.
    """
    s = _staged(con, events, staged)
    rows = con.execute(f"""
        with steps as (  -- DuckDB slices include their end: [:-2] drops the last element
            select unnest(trace[:-2]) as prev_aid, unnest(trace[2:]) as aid,
                   unnest(tss[:-2]) as t0, unnest(tss[2:]) as t1
            from {s.traces}),
        waits as (
            select prev_aid, aid, count(*) as n,
                   quantile_cont(t1 - t0, [0.5, 0.9]) as q, avg(t1 - t0) / 1e6 as mean_s,
                   sum(t1 - t0) / 1e6 as total_s
            from steps group by prev_aid, aid),
        pairs as (
            select distinct variant_rank, cases, unnest(trace[:-2]) as prev_aid,
                   unnest(trace[2:]) as aid
            from {s.variants}),
        reach as (select prev_aid, aid, sum(cases) as cases from pairs group by prev_aid, aid)
        select src.activity, tgt.activity, n, reach.cases, q[1] / 1e6, mean_s, q[2] / 1e6,
               total_s
        from waits join reach using (prev_aid, aid)
        join {s.activities} src on src.aid = waits.prev_aid
        join {s.activities} tgt on tgt.aid = waits.aid
        order by n desc, src.activity, tgt.activity
    """).fetchall()
    return [
        Edge(src, tgt, int(n), int(c), float(med), float(mean), float(p90), float(total))
        for src, tgt, n, c, med, mean, p90, total in rows
    ]


def variants(
    con: duckdb.DuckDBPyConnection,
    events: str,
    limit: int | None = None,
    staged: Staged | None = None,
) -> list[Variant]:
    """Distinct activity sequences, most frequent first (ties by sequence, for a stable rank)."""
    s = _staged(con, events, staged)
    limit_sql = f"where variant_rank <= {int(limit)}" if limit is not None else ""
    ranked = f"(select * from {s.variants} {limit_sql})"
    # Columns as arrays and the traces as one flat array of ids: converting a list per row to
    # Python objects costs more than all the SQL above it on a log with many variants.
    head = con.execute(f"""
        select variant_rank, len(trace) as n, cases,
               cases / (select sum(cases) from {s.variants}) as share, median_throughput_s
        from {ranked} order by variant_rank""").fetchnumpy()
    flat = (
        con.execute(
            f"select unnest(trace) as aid from (select trace from {ranked} order by variant_rank)"
        )
        .fetchnumpy()["aid"]
        .tolist()
    )
    out = []
    end = 0
    for rank, n, cases, share, median in zip(
        head["variant_rank"].tolist(),
        head["n"].tolist(),
        head["cases"].tolist(),
        head["share"].tolist(),
        head["median_throughput_s"].tolist(),
        strict=True,
    ):
        start, end = end, end + n
        out.append(Variant(rank, s.decode(flat[start:end]), cases, share, median))
    return out


def rework(
    con: duckdb.DuckDBPyConnection,
    events: str,
    staged: Staged | None = None,
) -> list[tuple[str, int]]:
    """Activities that occur more than once in a case, with the number of such cases."""
    s = _staged(con, events, staged)
    return [
        (a, int(n))
        for a, n in con.execute(f"""
        with repeated as (
            select variant_rank, any_value(cases) as cases, aid
            from (select variant_rank, cases, unnest(trace) as aid from {s.variants})
            group by variant_rank, aid having count(*) > 1)
        select activity, sum(cases) as cases from repeated join {s.activities} using (aid)
        group by activity order by cases desc, activity
    """).fetchall()
    ]


def activity_counts(
    con: duckdb.DuckDBPyConnection,
    events: str,
    staged: Staged | None = None,
) -> dict[str, int]:
    s = _staged(con, events, staged)
    return {
        a: int(n)
        for a, n in con.execute(f"""
        select activity, sum(cases) from (select cases, unnest(trace) as aid from {s.variants})
        join {s.activities} using (aid) group by activity order by activity""").fetchall()
    }


def endpoint_counts(
    con: duckdb.DuckDBPyConnection,
    events: str,
    staged: Staged | None = None,
) -> tuple[dict[str, int], dict[str, int]]:
    """How many cases start and end with each activity."""
    s = _staged(con, events, staged)
    rows = con.execute(f"""
        select 'start', trace[1], sum(cases) from {s.variants} group by trace[1]
        union all
        select 'end', trace[-1], sum(cases) from {s.variants} group by trace[-1]
    """).fetchall()
    starts = {s.names[a]: int(n) for kind, a, n in rows if kind == "start"}
    ends = {s.names[a]: int(n) for kind, a, n in rows if kind == "end"}
    return starts, ends


def sample_traces(
    con: duckdb.DuckDBPyConnection, events: str, cap: int, staged: Staged | None = None
) -> list[tuple[str, tuple[str, ...]]]:
    """Up to ``cap`` cases with their traces, chosen by a hash of the case id.

    The hash makes the sample deterministic (same log, same sample) without favouring early or
    late cases as an ``order by case_id`` would for sequential account numbers.
    """
    s = _staged(con, events, staged)
    rows = con.execute(f"""
        select case_id, trace from {s.traces} order by md5(case_id), case_id limit {int(cap)}
    """).fetchall()
    return [(case_id, s.decode(trace)) for case_id, trace in rows]
