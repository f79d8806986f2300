"""835 identity: a payment is (originator, TRN02), not TRN02 alone."""

from __future__ import annotations


def test_a_trace_number_from_another_originator_is_held_not_merged() -> None:
    """A payment is (originator, TRN02): a re-send from the same originator passes (the models
    post it once); the same TRN02 from another originator fails its record's rule."""
    import duckdb

    from expectations.suites.raw_remittance import REMITTANCES

    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute(
        "create table raw.x12_remittances as select * from (values "
        "('T1', '1111111111', 'PAY1', 'B1', 'a.x12', 10),"
        "('T1', '1111111111', 'PAY1', 'B2', 'resent.x12', 10),"
        "('T1', '2222222222', 'PAY2', 'B3', 'other.x12', 10),"
        "('T2', null, 'PAY3', 'B1', 'a.x12', 40)"
        ") v(trace_number, originator_id, payer_id, _batch_id, _file, _record)"
    )
    con.execute("create table raw.x12_remit_claims as select 'B1' _batch_id, 'a.x12' _file, "
                "'T1' trace_number, 1.0 paid_amount")
    con.execute("create table raw.x12_remit_plb as select 'B1' _batch_id, 'a.x12' _file, "
                "'T1' trace_number, 0.0 amount")
    con.execute("create table raw._x12_validation (batch_id varchar, file varchar, status varchar)")
    rows = con.execute(
        f"select _file, same_originator_as_first_delivery from ({REMITTANCES.sql()}) "
        "order by _batch_id, _file"
    ).fetchall()
    assert rows == [("a.x12", True), ("a.x12", True), ("resent.x12", True), ("other.x12", False)]


def test_a_takeback_balances_with_its_sign() -> None:
    """BPR02 is unsigned: a debit 835 (BPR03 = D) recovering 50 balances claims paying -50, and a
    credit 835 of the same numbers does not."""
    import pandas as pd

    from expectations.suites.raw_remittance import _prepare_remittances

    frame = pd.DataFrame({
        "payment_date": ["2026-10-01"] * 3,
        "credit_debit": ["C", " d", "C"],
        "payment_amount": [100.0, 50.0, 50.0],
        "claims_paid": [100.0, -50.0, -50.0],
        "plb_total": [0.0, 0.0, 0.0],
    })
    assert _prepare_remittances(frame)["bpr_minus_claims_plb_cents"].tolist() == [0, 0, 10000]
