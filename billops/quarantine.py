"""Units held back from the marts: ``dq.quarantine_units`` and what a unit of each raw table is.

A failing record is held back at the smallest unit that can be held without making the rest
wrong (docs/data-quality.md): one CSV row or NDJSON line (``record``, keyed by its record number
in the file), a whole 835 transaction set (``transaction_set``, keyed by its TRN02 trace number:
a payment must never post in part), an 837 claim with its lines (``claim``, keyed by CLM01) or a
GL journal (``journal``, keyed by journal id: a journal posts whole or not at all).

The raw checks (``expectations.quarantine``) write the table; the dbt staging models leave out
the rows of every unit marked ``excluded`` (macro ``without_held_units``); ``marts.dq_quarantine``
shows it. Ingestion's rejects (``raw._rejects``) are listed too: their rows never reached the
raw zone, so they are held by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from billops.raw_schema import TABLES

TABLE = "dq.quarantine_units"
HELD, RELEASED = "HELD", "RELEASED"
UNITS = ("record", "transaction_set", "claim", "journal")

COLUMNS: dict[str, str] = {
    "system": "varchar",
    "batch_id": "varchar",
    "file": "varchar",
    "unit": "varchar",
    "unit_key": "varchar",
    "source_table": "varchar",  # the raw table whose rows failed, or raw._rejects
    "rule": "varchar",  # the failing rule(s), comma separated
    "reason": "varchar",  # why, without PHI values
    "owner_team": "varchar",
    "amount": "decimal(18, 2)",  # the dollars held back (BPR02, CLM02, journal debits, row amount)
    "rows_held": "bigint",  # raw rows left out of the marts (0 for an ingestion reject)
    "excluded": "boolean",  # whether the staging models leave the unit's rows out
    "status": "varchar",  # HELD | RELEASED
    "first_seen_at": "timestamp",
    "last_seen_at": "timestamp",
    "released_at": "timestamp",
    "release_reason": "varchar",
    "run_id": "varchar",
}


@dataclass(frozen=True)
class HoldUnit:
    """What one unit of a raw table is: its kind, the column holding its key and the SQL of the
    amount it carries (aggregated over the unit's rows, ``null`` when it carries none)."""

    kind: str
    key_column: str
    amount_sql: str = "null"


# Tables whose unit is not a record. An 835 detail table is held with its whole transaction set,
# an 837 detail table with its claim.
_UNITS: dict[str, HoldUnit] = {
    "x12_remittances": HoldUnit("transaction_set", "trace_number", "max(payment_amount)"),
    "x12_claims": HoldUnit("claim", "account_id", "sum(total_charge)"),
    "gl_journal_lines": HoldUnit("journal", "journal_id", "sum(debit)"),
}
_AMOUNTS: dict[str, str] = {  # the dollar column of a record unit
    "fhir_charge_item": "price_override",
    "statements": "amount_due",
    "patient_payments": "amount",
    "bank_deposits": "amount",
}


def hold_unit(table: str) -> HoldUnit:
    """The unit a failing row of raw ``table`` is held back with."""
    if table in _UNITS:
        return _UNITS[table]
    source = TABLES[table].source
    if source == "x12:835":
        return HoldUnit("transaction_set", "trace_number")
    if source == "x12:837":
        return HoldUnit("claim", "account_id")
    amount = _AMOUNTS.get(table)
    return HoldUnit("record", "_record", f"sum({amount})" if amount else "null")


def unit_table(table: str) -> str:
    """The raw table whose rows carry the unit's amount (an 835's BPR, an 837's CLM)."""
    source = TABLES[table].source
    if source == "x12:835":
        return "x12_remittances"
    if source == "x12:837":
        return "x12_claims"
    return table


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists dq")
    body = ", ".join(f"{c} {t}" for c, t in COLUMNS.items())
    con.execute(f"create table if not exists {TABLE} ({body})")
