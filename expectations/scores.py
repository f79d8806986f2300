"""``dq.quality_scores``: a quality score per source and per day, with its trend and grade.

Formula (docs/data-quality.md): for each source and data day (the as-of date of the run), take
the latest result of every expectation of the source's suites that day, from the checks that
covered whole tables (an intraday check of new batches is not a day's score). An expectation weighs
``CRITICAL_WEIGHT`` when critical and 1 when a warning, and scores 1 when it passed, else
``1 - unexpected_share`` capped to at most ``FAILED_CAP`` (a failure never earns more than half
credit; an expectation that could not run or has no row count earns 0). The score is
``100 * sum(weight * credit) / sum(weight)``. The trend is the change against the source's
previous scored day. Grades: A >= 95, B >= 85, C >= 70, D >= 50, else F; a source with a
critical failure that day grades C at best.
"""

from __future__ import annotations

import duckdb

SCORE_TABLE = "dq.quality_scores"
CRITICAL_WEIGHT = 5
FAILED_CAP = 0.5
GRADE_FLOORS = (("A", 95.0), ("B", 85.0), ("C", 70.0), ("D", 50.0))


def grade(score: float, critical_failed: int) -> str:
    for letter, floor in GRADE_FLOORS:
        if score >= floor and (critical_failed == 0 or letter not in ("A", "B")):
            return letter
    return "F"


def refresh_scores(con: duckdb.DuckDBPyConnection) -> int:
    """Rebuilds the table from ``dq.expectation_results``; returns the number of rows."""
    con.execute(f"""
        create or replace table {SCORE_TABLE} as
        with latest as (
            select source, cast(coalesce(as_of, evaluated_at) as date) as day, suite, rule,
                   arg_max(success, evaluated_at) as success,
                   arg_max(severity, evaluated_at) as severity,
                   arg_max(unexpected_percent, evaluated_at) as unexpected_percent,
                   arg_max(error, evaluated_at) as error,
                   max(evaluated_at) as evaluated_at
            from dq.expectation_results where coalesce(coverage, 'table') = 'table'
            group by all),
        credited as (
            select *, case when severity = 'critical' then {CRITICAL_WEIGHT} else 1 end as weight,
                   case when success then 1.0
                        when error is not null or unexpected_percent is null then 0.0
                        else least({FAILED_CAP}, 1 - unexpected_percent / 100) end as credit
            from latest),
        daily as (
            select source, day,
                   round(100 * sum(weight * credit) / sum(weight), 2) as score,
                   count(*)::integer as expectations,
                   count(*) filter (where not success)::integer as failed,
                   count(*) filter (where not success and severity = 'critical')::integer
                       as critical_failed,
                   count(*) filter (where not success and severity = 'warning')::integer
                       as warning_failed,
                   max(evaluated_at) as evaluated_at
            from credited group by all)
        select source, day, score,
               round(score - lag(score) over (partition by source order by day), 2) as trend,
               case {
        " ".join(
            f"when score >= {floor} and (critical_failed = 0 or '{letter}' not in ('A', 'B')) "
            f"then '{letter}'"
            for letter, floor in GRADE_FLOORS
        )
    }
                    else 'F' end as grade,
               expectations, failed, critical_failed, warning_failed, evaluated_at
        from daily order by source, day""")
    return con.execute(f"select count(*) from {SCORE_TABLE}").fetchone()[0]
