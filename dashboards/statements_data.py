"""Queries behind the Statements page, over ``marts.fct_statement_release`` (the statement
release gate, docs/statements.md): the statements due, released and held, with their dollars, by
hold reason and work queue. The page shows the gate's decisions in the serving snapshot; which
of them a ``billops statements --release`` has already sent is in the operational store's
ledger, not here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboards import data

MART_SCHEMA = "marts"
MART_TABLE = "fct_statement_release"
MART = f"{MART_SCHEMA}.{MART_TABLE}"
HELD_LIMIT = 1000


@dataclass(frozen=True)
class GateTotals:
    """Statements due and their decisions, with dollars."""

    due: int
    due_amount: float
    released: int
    released_amount: float
    held: int
    held_amount: float


def ensure_mart() -> int:
    """Raise SnapshotUnavailable unless the mart exists; return its number of statements."""
    data.require_relation(MART_SCHEMA, MART_TABLE)
    return int(data.query(f"select count(*) as n from {MART}")["n"].iloc[0])


def totals() -> GateTotals:
    frame = data.query(
        "select count(*) as due, coalesce(sum(amount_due), 0) as due_amount, "
        "count(*) filter (where decision = 'RELEASE') as released, "
        "coalesce(sum(amount_due) filter (where decision = 'RELEASE'), 0) as released_amount, "
        "count(*) filter (where decision = 'HOLD') as held, "
        f"coalesce(sum(amount_due) filter (where decision = 'HOLD'), 0) as held_amount from {MART}"
    )
    row = frame.iloc[0]
    return GateTotals(int(row["due"]), float(row["due_amount"]), int(row["released"]),
                      float(row["released_amount"]), int(row["held"]), float(row["held_amount"]))


def held_by_reason() -> pd.DataFrame:
    """Held statements per reason (a statement with two reasons counts under both)."""
    return data.query(
        "select reason, count(*) as statements, sum(amount_due) as amount from ("
        f"  select unnest(string_split(hold_reasons, ',')) as reason, amount_due from {MART}"
        "  where decision = 'HOLD') group by reason order by amount desc, reason"
    )


def held_by_queue() -> pd.DataFrame:
    """Held statements per work queue (each statement once, in its first reason's queue)."""
    return data.query(
        "select queue, count(*) as statements, sum(amount_due) as amount "
        f"from {MART} where decision = 'HOLD' group by queue order by amount desc, queue"
    )


def held_statements(limit: int = HELD_LIMIT) -> pd.DataFrame:
    """The hold list, largest amounts first."""
    return data.query(
        "select statement_id, account_id, entity, statement_date, amount_due, hold_reasons, "
        f"queue from {MART} where decision = 'HOLD' "
        "order by amount_due desc, statement_id limit ?",
        [limit],
    )


def mart_as_of() -> pd.Timestamp | None:
    frame = data.query(f"select max(as_of) as as_of from {MART}")
    value = frame["as_of"].iloc[0]
    return None if pd.isna(value) else value
