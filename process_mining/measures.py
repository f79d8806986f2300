"""Case-level measures in DuckDB SQL: durations, rework and SLA breaches by segment.

A segment is the whole log or one value of a dimension: ``entity`` and ``payer_id`` where the
staged log carries them, and the month in which the case started. A case takes the entity and
payer of its first event that has one. SLA rules come from settings, and an unfinished case is
judged against the log's own latest timestamp, never the wall clock, so a rerun agrees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb
import pandas as pd

from billops.config import Settings
from billops.errors import BillopsError
from process_mining.dfg import Staged, stage

DIMENSION_COLUMNS = ("entity", "payer_id")
ALL = "all"
# How many of the longest-waiting cases pm.bottleneck_cases keeps for each bottleneck edge.
CASES_PER_BOTTLENECK = 50
_ORDER = "order by ts, event_order"


@dataclass(frozen=True)
class SlaRule:
    name: str
    source: str
    target: str
    window_s: float


_UNIT_S = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_RULE = re.compile(
    r"^(?:(?P<name>[\w.-]+)=)?(?P<source>[^>@]+)>(?P<target>[^>@]+)@(?P<n>\d+(?:\.\d+)?)(?P<unit>[smhd])$"
)


def parse_sla_rule(text: str) -> SlaRule:
    """``[name=]SOURCE>TARGET@DURATION`` with DURATION like 90m, 36h or 7d."""
    match = _RULE.match(text.strip())
    if not match:
        raise BillopsError(
            f"SLA rule {text!r}: expected [name=]SOURCE>TARGET@DURATION, e.g. "
            "CHARGE_POSTED>CLAIM_SUBMITTED@7d"
        )
    source, target = match["source"].strip(), match["target"].strip()
    return SlaRule(
        match["name"] or f"{source}>{target}",
        source,
        target,
        float(match["n"]) * _UNIT_S[match["unit"]],
    )


def default_sla_rules(settings: Settings) -> list[SlaRule]:
    """Charge to claim within the billing window; claim to remittance within the follow-up one."""
    return [
        SlaRule(
            "billing_window",
            "CHARGE_POSTED",
            "CLAIM_SUBMITTED",
            settings.billing_window_days * 86400.0,
        ),
        SlaRule(
            "follow_up_window",
            "CLAIM_SUBMITTED",
            "REMIT_RECEIVED",
            settings.follow_up_window_days * 86400.0,
        ),
    ]


def sla_rules(settings: Settings, chosen: list[str] | tuple[str, ...] = ()) -> list[SlaRule]:
    """The rules chosen on the command line, else those of ``BILLOPS_SLA_RULES``, else the
    default billing and follow-up windows. Rule names must be unique."""
    texts = list(chosen) or [t for t in settings.sla_rules.split(";") if t.strip()]
    rules = [parse_sla_rule(t) for t in texts] if texts else default_sla_rules(settings)
    names = [r.name for r in rules]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise BillopsError(f"SLA rules: the name {duplicated[0]!r} is used twice")
    return rules


def dimensions(con: duckdb.DuckDBPyConnection, events: str) -> list[str]:
    """The segment dimensions this log has: entity / payer_id when any event carries one."""
    present = {r[0] for r in con.execute(f"describe select * from {events}").fetchall()}
    dims = []
    for col in DIMENSION_COLUMNS:
        if col in present:
            (n,) = con.execute(f"select count({col}) from {events}").fetchall()[0]
            if n:
                dims.append(col)
    return [*dims, "month"]


def stage_cases(con: duckdb.DuckDBPyConnection, events: str) -> str:
    """One row per case in the temp table ``pm_cases``; returns its name."""
    present = {r[0] for r in con.execute(f"describe select * from {events}").fetchall()}
    dims = ", ".join(
        f"arg_min({c}, ts) filter (where {c} is not null) as {c}"
        if c in present
        else f"cast(null as varchar) as {c}"
        for c in DIMENSION_COLUMNS
    )
    con.execute(f"""
        create or replace temp table pm_cases as
        select case_id, min(ts) as start_ts, max(ts) as end_ts,
               date_diff('microsecond', min(ts), max(ts)) / 1e6 as duration_s,
               count(*) as events, count(*) > count(distinct activity) as rework,
               strftime(min(ts), '%Y-%m') as month, {dims}
        from {events} group by case_id
    """)
    return "pm_cases"


def _segmented(dims: list[str], select: str, source: str) -> str:
    """``select`` over ``source`` for the whole log and for each value of each dimension."""
    parts = [f"select '{ALL}' as dimension, '{ALL}' as segment, {select} from {source}"]
    parts += [
        f"select '{d}', cast({d} as varchar), {select} from {source} "
        f"where {d} is not null group by {d}"
        for d in dims
    ]
    return " union all ".join(parts)


def segments(con: duckdb.DuckDBPyConnection, cases: str, dims: list[str]) -> list[dict]:
    """Cases, events, durations and rework for the whole log and each segment."""
    select = (
        "count(*) as cases, coalesce(sum(events), 0) as events, "
        "median(duration_s) as median_duration_s, avg(duration_s) as mean_duration_s, "
        "quantile_cont(duration_s, 0.9) as p90_duration_s, "
        "count(*) filter (where rework) as rework_cases"
    )
    frame = con.execute(
        f"select * from ({_segmented(dims, select, cases)}) "
        "order by dimension = 'all' desc, dimension, segment"
    ).df()
    return frame.to_dict("records")


def _sla_cases_sql(events: str, cases: str) -> str:
    """Per case that reached the rule's source: when, when it first reached the target after,
    how long that took (or has taken up to the log's latest event), and its segments."""
    return f"""
        with latest as (select max(ts) as as_of from {events}),
        started as (
            select case_id, min(ts) as start_ts from {events} where activity = $source
            group by case_id),
        reached as (
            select s.case_id, s.start_ts, min(e.ts) as end_ts from started s
            left join {events} e
              on e.case_id = s.case_id and e.activity = $target and e.ts >= s.start_ts
            group by s.case_id, s.start_ts)
        select r.case_id, r.start_ts, r.end_ts,
               date_diff('microsecond', r.start_ts, coalesce(r.end_ts, as_of)) / 1e6
                   as elapsed_s,
               r.end_ts is null as open, c.entity, c.payer_id, c.month
        from reached r cross join latest join {cases} c using (case_id)
    """


def sla(
    con: duckdb.DuckDBPyConnection, events: str, cases: str, dims: list[str], rules: list[SlaRule]
) -> tuple[list[dict], list[dict]]:
    """Per rule and segment: cases measured, breaches (open ones too), rate and elapsed times;
    and every breaching case with how long it took."""
    summary: list[dict] = []
    breaches: list[dict] = []
    for rule in rules:
        params = {"source": rule.source, "target": rule.target}
        con.execute(
            f"create or replace temp table pm_sla as {_sla_cases_sql(events, cases)}", params
        )
        w = float(rule.window_s)
        select = (
            f"count(*) as cases, count(*) filter (where elapsed_s > {w}) as breaches, "
            f"count(*) filter (where elapsed_s > {w} and open) as open_breaches, "
            f"coalesce(count(*) filter (where elapsed_s > {w}) / nullif(count(*), 0), 0)"
            " as breach_rate, median(elapsed_s) filter (where not open) as median_s, "
            "quantile_cont(elapsed_s, 0.9) filter (where not open) as p90_s"
        )
        rows = con.execute(
            f"select * from ({_segmented(dims, select, 'pm_sla')}) "
            "order by dimension = 'all' desc, dimension, segment"
        ).df()
        for row in rows.to_dict("records"):
            summary.append(
                {
                    "rule": rule.name,
                    "source": rule.source,
                    "target": rule.target,
                    "window_s": w,
                    **row,
                }
            )
        late = con.execute(
            f"select case_id, start_ts, end_ts, elapsed_s, open from pm_sla "
            f"where elapsed_s > {w} order by elapsed_s desc, case_id"
        ).df()
        breaches += [{"rule": rule.name, **row} for row in late.to_dict("records")]
    con.execute("drop table if exists pm_sla")
    return summary, breaches


def bottleneck_cases(
    con: duckdb.DuckDBPyConnection,
    events: str,
    edges: list[tuple[str, str]],
    per_edge: int = CASES_PER_BOTTLENECK,
    staged: Staged | None = None,
) -> list[dict]:
    """For each (source, target), the cases that waited longest on that step, longest first."""
    if not edges:
        return []
    s = staged if staged is not None else stage(con, events)
    con.register("pm_edges", pd.DataFrame(edges, columns=["source", "target"]))
    try:
        frame = con.execute(f"""
            with steps as (  -- DuckDB slices include their end: [:-2] drops the last element
                select case_id, unnest(trace[:-2]) as prev_aid, unnest(trace[2:]) as aid,
                       (unnest(tss[2:]) - unnest(tss[:-2])) / 1e6 as wait_s
                from {s.traces}),
            picked as (
                select e.source, e.target, st.case_id, st.wait_s
                from pm_edges e
                join {s.activities} src on src.activity = e.source
                join {s.activities} tgt on tgt.activity = e.target
                join steps st on st.prev_aid = src.aid and st.aid = tgt.aid)
            select source, target, case_id, wait_s from picked
            qualify row_number() over (partition by source, target
                                       order by wait_s desc, case_id) <= {int(per_edge)}
            order by source, target, wait_s desc, case_id
        """).df()
    finally:
        con.unregister("pm_edges")
    return frame.to_dict("records")


# Segment tables keep the most frequent variants of each segment only.
VARIANTS_PER_SEGMENT = 20


def _segment_union(dims: list[str], select: str) -> str:
    """``select`` (over ``s`` joined to the case table ``c``) per dimension value."""
    return " union all ".join(
        select.format(dimension=d, segment=f"cast(c.{d} as varchar)", where=f"c.{d} is not null")
        for d in dims
    )


def segment_dfg(
    con: duckdb.DuckDBPyConnection, staged: Staged, cases: str, dims: list[str]
) -> list[dict]:
    """Directly-follows counts and waits (median, mean, p90) per segment."""
    if not dims:
        return []
    select = f"""
        select '{{dimension}}' as dimension, {{segment}} as segment, s.prev_aid, s.aid,
               count(*) as count, quantile_cont(s.wait_us, [0.5, 0.9]) as q,
               avg(s.wait_us) / 1e6 as mean_wait_s
        from steps s join {cases} c using (case_id) where {{where}}
        group by all"""
    frame = con.execute(f"""
        with steps as (  -- DuckDB slices include their end: [:-2] drops the last element
            select case_id, unnest(trace[:-2]) as prev_aid, unnest(trace[2:]) as aid,
                   unnest(tss[2:]) - unnest(tss[:-2]) as wait_us
            from {staged.traces}),
        segmented as ({_segment_union(dims, select)})
        select dimension, segment, src.activity as source, tgt.activity as target, count,
               q[1] / 1e6 as median_wait_s, mean_wait_s, q[2] / 1e6 as p90_wait_s
        from segmented
        join {staged.activities} src on src.aid = segmented.prev_aid
        join {staged.activities} tgt on tgt.aid = segmented.aid
        order by dimension, segment, count desc, source, target
    """).df()
    return frame.to_dict("records")


def segment_variants(
    con: duckdb.DuckDBPyConnection,
    staged: Staged,
    cases: str,
    dims: list[str],
    per_segment: int = VARIANTS_PER_SEGMENT,
) -> list[dict]:
    """The most frequent variants of each segment, with their share of the segment's cases and
    median throughput; ``variant_rank`` is the variant's rank in the whole log."""
    if not dims:
        return []
    select = f"""
        select '{{dimension}}' as dimension, {{segment}} as segment, t.trace,
               count(*) as cases,
               median(t.tss[-1] - t.tss[1]) / 1e6 as median_throughput_s
        from {staged.traces} t join {cases} c using (case_id) where {{where}}
        group by all"""
    frame = con.execute(f"""
        with segmented as ({_segment_union(dims, select)}),
        ranked as (
            select *, cases / sum(cases) over (partition by dimension, segment) as share,
                   row_number() over (partition by dimension, segment
                                      order by cases desc, trace) as segment_rank
            from segmented)
        select r.dimension, r.segment, r.segment_rank, v.variant_rank, r.trace, r.cases,
               r.share, r.median_throughput_s
        from ranked r join {staged.variants} v using (trace)
        where r.segment_rank <= {int(per_segment)}
        order by r.dimension, r.segment, r.segment_rank
    """).df()
    frame["activities"] = [" > ".join(staged.decode(list(t))) for t in frame.pop("trace")]
    return frame.to_dict("records")
