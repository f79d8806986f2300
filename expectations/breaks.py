"""``marts.dq_breaks``: the open data-quality breaks, one per failing expectation of the latest
run of its suite, routed to the expectation's owner team. Publish copies it to the serving
snapshot with the rest of the warehouse."""

from __future__ import annotations

import duckdb

BREAKS_TABLE = "marts.dq_breaks"


def refresh_breaks(con: duckdb.DuckDBPyConnection) -> int:
    """Rebuilds the table from ``dq.expectation_results``; returns the number of open breaks.

    An expectation's break is open when it failed in the latest run that checked its whole table
    or in a run on new batches since (``expectations.coverage``): a pass on new batches says
    nothing of the rows it did not see. The row shown is the latest failing result;
    ``first_failed_at`` is the first run of the current failing streak (after the last run that
    passed on the whole table), so a break that was fixed and came back counts afresh.
    """
    con.execute("create schema if not exists marts")
    con.execute(f"""
        create or replace table {BREAKS_TABLE} as
        with history as (
            select *, coalesce(coverage, 'table') = 'table' as whole
            from dq.expectation_results),
        windows as (
            select suite, rule, max(evaluated_at) filter (where whole) as whole_at,
                   max(evaluated_at) filter (where whole and success) as last_passed_at,
                   max(evaluated_at) as last_checked_at
            from history group by all),
        failing as (
            select h.*, w.last_checked_at
            from history h join windows w using (suite, rule)
            where not h.success and (w.whole_at is null or h.evaluated_at >= w.whole_at)
            qualify row_number() over (partition by suite, rule order by evaluated_at desc) = 1),
        streak as (
            select suite, rule, min(evaluated_at) as first_failed_at, count(*) as runs_failing
            from history h join windows w using (suite, rule)
            where not success and (w.last_passed_at is null or evaluated_at > w.last_passed_at)
            group by all)
        select md5(h.suite || '|' || h.rule) as break_id, h.owner_team, h.severity, h.source,
               h.layer, h.suite, h.data_asset, h.rule, h.expectation, h.column_name,
               h.unexpected_count, h.unexpected_percent, h.element_count,
               h.unexpected_sample, h.error, s.first_failed_at,
               h.last_checked_at, s.runs_failing::integer as runs_failing,
               h.run_id, h.as_of, 'OPEN' as status
        from failing h join streak s using (suite, rule)
        order by case h.severity when 'critical' then 0 else 1 end, h.owner_team, h.suite,
                 h.rule""")
    return con.execute(f"select count(*) from {BREAKS_TABLE}").fetchone()[0]
