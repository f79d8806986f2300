"""Statements page: the statement release gate, released and held statements with their dollars,
by hold reason and work queue (docs/statements.md)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import statements_data
from dashboards.formatting import count, money, timestamp_utc
from dashboards.views.page import render_page

TITLE = "Statements"
CAPTION = ("Patient statements due, re-checked before they go out: released, or held and routed "
           "to patient access or billing.")
_LABELS = {
    "reason": "Reason",
    "queue": "Queue",
    "statements": "Statements",
    "amount": "Amount",
    "statement_id": "Statement",
    "account_id": "Account",
    "entity": "Entity",
    "statement_date": "Statement date",
    "amount_due": "Amount due",
    "hold_reasons": "Hold reasons",
}


def render() -> None:
    """Draw the page; snapshot problems become one message, never a traceback."""
    render_page(TITLE, CAPTION, _render_body)


def _render_body() -> None:
    if statements_data.ensure_mart() == 0:
        st.info(f"{statements_data.MART} is empty: no statement is due in the latest run.")
        return
    totals = statements_data.totals()
    _kpis(totals)
    if totals.held == 0:
        st.success("Every statement due passes the gate: nothing is held.")
        return
    left, right = st.columns(2)
    with left:
        st.subheader("Held by reason")
        _table(statements_data.held_by_reason())
    with right:
        st.subheader("Held by queue")
        _table(statements_data.held_by_queue())
    st.subheader("Hold list")
    _table(statements_data.held_statements())


def _kpis(totals: statements_data.GateTotals) -> None:
    as_of = statements_data.mart_as_of()
    money_row, count_row = st.columns(4), st.columns(4)
    money_row[0].metric("Due", money(totals.due_amount))
    money_row[1].metric("Released", money(totals.released_amount))
    money_row[2].metric("Held", money(totals.held_amount))
    money_row[3].metric("As of (UTC)", timestamp_utc(None if as_of is None else as_of.to_pydatetime()),
                        help="Latest extracted_at of the loaded batches")
    count_row[0].metric("Statements due", count(totals.due))
    count_row[1].metric("Statements released", count(totals.released))
    count_row[2].metric("Statements held", count(totals.held))


def _table(frame: pd.DataFrame) -> None:
    shown = frame.copy()
    for column in ("amount", "amount_due"):
        if column in shown:
            shown[column] = shown[column].map(money)
    st.dataframe(shown.rename(columns=_LABELS), hide_index=True, width="stretch")
