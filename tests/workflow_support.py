"""Helpers of the workflow tests: a warehouse stand-in with marts.billing_exceptions, users of
every role, and a synced store."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import duckdb

from billops.auth import add_user
from billops.config import Settings
from billops.workflow.sync import sync_from_marts

AS_OF = datetime(2026, 12, 4, 10, 0)  # a Friday, 10:00 UTC
USERS = {"ana": "analyst", "sam": "billing_specialist", "sue": "billing_specialist",
         "amy": "approver", "dan": "admin"}

_DDL = """
create schema if not exists marts;
create or replace table marts.billing_exceptions (
    exception_id varchar, exception_type varchar, severity varchar, entity varchar,
    patient_id varchar, account_id varchar, amount_at_risk decimal(18, 2),
    priority_score decimal(18, 4), status varchar
);
create or replace table marts.fct_account_reconciliation (account_id varchar, payer_id varchar);
"""


def exception(exception_id: str, exception_type: str = "DENIAL", *, amount: str = "100.00",
              score: float = 1.0, entity: str = "H1", account: str = "A1",
              patient: str = "MRN-SECRET-1") -> dict[str, Any]:
    return {"exception_id": exception_id, "exception_type": exception_type, "severity": "HIGH",
            "entity": entity, "patient_id": patient, "account_id": account,
            "amount_at_risk": Decimal(amount), "priority_score": score, "status": "OPEN"}


def marts(rows: list[dict[str, Any]], payers: dict[str, str] | None = None,
          con: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse whose marts hold these exceptions (and accounts' payers)."""
    con = con or duckdb.connect(":memory:")
    con.execute(_DDL)
    for row in rows:
        con.execute("insert into marts.billing_exceptions values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    list(row.values()))
    for account, payer in (payers or {}).items():
        con.execute("insert into marts.fct_account_reconciliation values (?, ?)", [account, payer])
    return con


def add_users(settings: Settings) -> None:
    for name, role in USERS.items():
        add_user(name, role, actor="root", settings=settings)


def synced(settings: Settings, rows: list[dict[str, Any]], as_of: datetime = AS_OF,
           payers: dict[str, str] | None = None) -> dict[str, Any]:
    with marts(rows, payers) as con:
        return sync_from_marts(con, as_of=as_of, settings=settings)
