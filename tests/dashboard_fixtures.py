"""A tiny serving snapshot for the dashboard tests, built to the mart contract."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from billops.auth import add_user
from billops.config import Settings

RECON_DDL = """
create table marts.fct_account_reconciliation (
    account_id varchar primary key, patient_id varchar, entity varchar, facility_id varchar,
    payer_id varchar, service_date date, period varchar,
    charge_lines integer, charge_amount decimal(18,2),
    billed_lines integer, billed_amount decimal(18,2),
    matched_lines integer, matched_amount decimal(18,2),
    unbilled_lines integer, unbilled_amount decimal(18,2),
    billed_not_charged_lines integer, billed_not_charged_amount decimal(18,2),
    variance_amount decimal(18,2), claim_count integer,
    first_submitted_at timestamp, last_submitted_at timestamp,
    recon_status varchar, as_of timestamp, amount_at_risk decimal(18,2)
)
"""

STATEMENT_RELEASE_DDL = """
create table marts.fct_statement_release (
    statement_id varchar primary key, account_id varchar, entity varchar, statement_date date,
    period varchar, amount_due decimal(18,2), decision varchar, hold_reasons varchar,
    hold_reason_count integer, queue varchar, as_of timestamp
)
"""

AS_OF = datetime(2025, 2, 28, 23, 30)
PUBLISHED_AT = datetime(2025, 3, 1, 6, 0)

# account, entity, facility, payer, service date,
# (charge lines, $), (billed lines, $), (matched lines, $), (unbilled lines, $),
# (billed-not-charged lines, $), claims, status
_ACCOUNTS = [
    ("ACC-A1", "HOSP-A", "FAC-A1", "PAYER-1", date(2025, 1, 5),
     (2, "300.00"), (2, "300.00"), (2, "300.00"), (0, "0"), (0, "0"), 1, "TIED"),
    ("ACC-A2", "HOSP-A", "CLIN-A2", "PAYER-2", date(2025, 1, 10),
     (3, "1250.50"), (0, "0"), (0, "0"), (3, "1250.50"), (0, "0"), 0, "UNBILLED"),
    ("ACC-A3", "HOSP-A", "FAC-A1", "PAYER-1", date(2025, 2, 3),
     (3, "900.00"), (2, "600.00"), (2, "600.00"), (1, "300.00"), (0, "0"), 2, "PARTIALLY_BILLED"),
    ("ACC-B1", "HOSP-B", "FAC-B1", "PAYER-2", date(2025, 1, 20),
     (1, "100.00"), (2, "175.25"), (1, "100.00"), (0, "0"), (1, "75.25"), 1,
     "BILLED_WITHOUT_CHARGE"),
    ("ACC-B2", "HOSP-B", "FAC-B1", "PAYER-1", date(2025, 2, 14),
     (2, "500.00"), (2, "480.00"), (2, "500.00"), (0, "0"), (0, "0"), 1, "AMOUNT_VARIANCE"),
    ("ACC-B3", "HOSP-B", "FAC-B1", None, date(2025, 2, 20),
     (1, "80.00"), (0, "0"), (0, "0"), (1, "80.00"), (0, "0"), 0, "UNBILLED"),
    ("ACC-B4", "HOSP-B", "FAC-B1", "PAYER-2", date(2025, 2, 1),
     (2, "420.00"), (2, "420.00"), (2, "420.00"), (0, "0"), (0, "0"), 1, "TIED"),
]


# The statement release gate (marts.fct_statement_release): statement, account, entity, amount
# due, hold reasons (None: released), queue.
_STATEMENTS = [
    ("ST-1", "ACC-A1", "HOSP-A", "40.00", None, None),
    ("ST-2", "ACC-A3", "HOSP-A", "125.50", "COVERAGE_CHANGED,BALANCE_DOES_NOT_TIE", "PATIENT_ACCESS"),
    ("ST-3", "ACC-B1", "HOSP-B", "60.25", "OPEN_CREDIT_BALANCE", "BILLING"),
    ("ST-4", "ACC-B4", "HOSP-B", "19.75", None, None),
    ("ST-5", "ACC-B2", "HOSP-B", "10.00", "BALANCE_DOES_NOT_TIE", "BILLING"),
]


def statement_release_rows() -> list[tuple[object, ...]]:
    """Rows of marts.fct_statement_release in contract column order."""
    rows = []
    for statement, account, entity, amount, reasons, queue in _STATEMENTS:
        count = len(reasons.split(",")) if reasons else 0
        rows.append((statement, account, entity, date(2025, 2, 20), "2025-02", Decimal(amount),
                     "HOLD" if reasons else "RELEASE", reasons, count, queue, AS_OF))
    return rows


def recon_rows() -> list[tuple[object, ...]]:
    """Rows of marts.fct_account_reconciliation in contract column order."""
    rows = []
    for n, (acc, entity, facility, payer, served, charge, billed, matched, unbilled, extra,
            claims, status) in enumerate(_ACCOUNTS):
        submitted = datetime(served.year, served.month, served.day, 12) if claims else None
        # as the mart computes it: unbilled + billed without a charge + |matched - billed with one|
        at_risk = (Decimal(unbilled[1]) + Decimal(extra[1])
                   + abs(Decimal(matched[1]) - (Decimal(billed[1]) - Decimal(extra[1]))))
        rows.append((
            acc, f"PAT-{n}", entity, facility, payer, served, f"{served:%Y-%m}",
            charge[0], Decimal(charge[1]), billed[0], Decimal(billed[1]),
            matched[0], Decimal(matched[1]), unbilled[0], Decimal(unbilled[1]),
            extra[0], Decimal(extra[1]), Decimal(charge[1]) - Decimal(billed[1]), claims,
            submitted, submitted, status, AS_OF, at_risk,
        ))
    return rows


def build_snapshot(
    path: Path,
    rows: list[tuple[object, ...]] | None = None,
    with_mart: bool = True,
    with_meta: bool = True,
) -> Path:
    """Write a serving snapshot: meta.snapshot and the reconciliation mart, each optional."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        if with_meta:
            con.execute("create schema meta")
            con.execute("create table meta.snapshot (published_at timestamp, as_of timestamp)")
            con.execute("insert into meta.snapshot values (?, ?)", [PUBLISHED_AT, AS_OF])
        if with_mart:
            con.execute("create schema marts")
            con.execute(RECON_DDL)
            data = recon_rows() if rows is None else rows
            if data:
                marks = ", ".join("?" for _ in data[0])
                con.executemany(
                    f"insert into marts.fct_account_reconciliation values ({marks})", data
                )
            con.execute(STATEMENT_RELEASE_DDL)
            con.executemany(
                f"insert into marts.fct_statement_release values ({', '.join('?' * 11)})",
                statement_release_rows(),
            )
    return path


def create_user(home: Path, name: str = "ana", role: str = "analyst") -> str:
    """A dashboard user in the operational store under ``home``; returns its token."""
    return add_user(name, role, actor="test", settings=Settings(home=home))
