"""Queries behind the Work queues page, over ``marts.fct_work_queue_daily`` (the queue metrics
per data day, queue and owner team; docs/metrics.md, "Work-queue metrics"). Days are the data's
as-of dates, never the wall clock; the snapshot holds no patient column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from dashboards import data

MART_SCHEMA = "marts"
MART_TABLE = "fct_work_queue_daily"
MART = f"{MART_SCHEMA}.{MART_TABLE}"


@dataclass(frozen=True)
class DayTotals:
    """All queues on one data day."""

    day: date
    open_items: int
    opened: int
    resolved: int
    auto_resolved: int
    sla_breaches: int
    first_pass_rate: float | None


def ensure_mart() -> int:
    """Raise SnapshotUnavailable unless the mart exists; return its number of rows."""
    data.require_relation(MART_SCHEMA, MART_TABLE)
    return int(data.query(f"select count(*) as n from {MART}")["n"].iloc[0])


def latest_day() -> DayTotals:
    frame = data.query(
        "select as_of_date as day, sum(open_items) as open_items, sum(opened) as opened, "
        "sum(resolved) as resolved, sum(auto_resolved) as auto_resolved, "
        "sum(sla_breaches) as sla_breaches, "
        "sum(resolved_first_pass) / nullif(sum(resolved), 0) as first_pass_rate "
        f"from {MART} where as_of_date = (select max(as_of_date) from {MART}) group by as_of_date"
    )
    row = frame.iloc[0]
    rate = row["first_pass_rate"]
    return DayTotals(pd.Timestamp(row["day"]).date(), int(row["open_items"]), int(row["opened"]),
                     int(row["resolved"]), int(row["auto_resolved"]), int(row["sla_breaches"]),
                     None if pd.isna(rate) else float(rate))


def by_queue(day: date) -> pd.DataFrame:
    """The day's rows, queues with the most open items first."""
    return data.query(
        "select queue, owner_team, open_items, opened, resolved, auto_resolved, dismissed, "
        "median_age_days, max_age_days, breached_open, resolved_late, "
        f"first_pass_resolution_rate from {MART} where as_of_date = ? "
        "order by open_items desc, queue, owner_team",
        [day],
    )


def open_items_per_day() -> pd.DataFrame:
    """Open items at the end of each data day, one column per queue (for a line chart)."""
    frame = data.query(
        f"select as_of_date, queue, sum(open_items) as open_items from {MART} "
        "group by as_of_date, queue order by as_of_date, queue"
    )
    if frame.empty:
        return frame
    return frame.pivot(index="as_of_date", columns="queue", values="open_items").fillna(0)
