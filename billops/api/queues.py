"""Per queue: open work items, those past their due time, and the oldest due time.

One aggregate query over the workflow's ``work_items`` (the workflow has no summary function;
if it gains one, this module should call it). "Open" is every item not closed (OPEN, ASSIGNED,
SNOOZED); "breached" is open and due before the data's as-of time of the latest sync
(``billops.workflow.items.latest_as_of``), never the wall clock, as ``WorkItem.breached`` is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from billops import ops_store
from billops.config import Settings
from billops.workflow.items import latest_as_of
from billops.workflow.tables import work_items
from billops.workflow.vocabulary import CLOSED_STATUSES


def queue_summary(settings: Settings | None = None) -> list[dict[str, Any]]:
    """``[{"queue", "open", "breached", "oldest_due_at"}]``, by queue name."""
    with ops_store.read(settings) as con:
        as_of = latest_as_of(con)
        breached = (sa.and_(work_items.c.due_at.is_not(None), work_items.c.due_at < as_of)
                    if as_of is not None else sa.false())
        query = (
            sa.select(
                work_items.c.queue,
                sa.func.count().label("open"),
                sa.func.sum(sa.case((breached, 1), else_=0)).label("breached"),
                sa.func.min(work_items.c.due_at).label("oldest_due_at"),
            )
            .where(work_items.c.status.not_in(sorted(CLOSED_STATUSES)))
            .group_by(work_items.c.queue)
            .order_by(work_items.c.queue)
        )
        rows = con.execute(query).all()
    return [{"queue": r.queue, "open": int(r.open), "breached": int(r.breached or 0),
             "oldest_due_at": _iso(r.oldest_due_at)} for r in rows]


def _iso(value: datetime | str | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value
