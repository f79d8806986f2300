"""Reconciliation page: EHR charges against billed 837 claim lines, per account and entity."""

from __future__ import annotations

from datetime import datetime

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import data, recon_data
from dashboards.formatting import count, money, timestamp_utc
from dashboards.recon_data import ReconFilters
from dashboards.views.page import render_page

TITLE = "Reconciliation"
CAPTION = "EHR charges against the lines of each account's current 837 claim."

_MONEY_COLUMNS = (
    "amount_at_risk", "charge_amount", "billed_amount", "unbilled_amount",
    "billed_not_charged_amount", "variance_amount",
)
_LABELS = {
    "account_id": "Account",
    "entity": "Entity",
    "facility_id": "Facility",
    "payer_id": "Payer",
    "period": "Period",
    "service_date": "Service date",
    "recon_status": "Status",
    "accounts": "Accounts",
    "amount_at_risk": "At risk",
    "charge_amount": "Charges",
    "billed_amount": "Billed",
    "unbilled_amount": "Unbilled",
    "billed_not_charged_amount": "Billed w/o charge",
    "variance_amount": "Variance",
    "charge_lines": "Charge lines",
    "billed_lines": "Billed lines",
    "unbilled_lines": "Unbilled lines",
    "billed_not_charged_lines": "Lines w/o charge",
    "claim_count": "Claims",
    "last_submitted_at": "Last submitted",
}
_COMPONENT_COLORS = {
    "Billed, matched to charges": "#1f77b4",
    "Billed without charge": "#ff7f0e",
    "Unbilled": "#d62728",
    "Amount variance (abs)": "#9467bd",
}


def render() -> None:
    """Draw the page; snapshot problems become one message, never a traceback."""
    render_page(TITLE, CAPTION, _render_body)


def _render_body() -> None:
    accounts_in_mart = recon_data.ensure_mart()
    if accounts_in_mart == 0:
        st.info(
            f"{recon_data.MART} in the serving snapshot at {data.snapshot_path()} is empty: no "
            "account has EHR charges or billed claim lines yet. Land extracts in the landing "
            "zone, then run `billops run` (or `make run`) to rebuild and publish it."
        )
        return
    filters = _filters(recon_data.filter_options())
    totals = recon_data.totals(filters)
    _kpis(totals)
    if totals.accounts == 0:
        st.info("No accounts match the filters.")
        return
    _entity_chart(recon_data.entity_breakdown(filters))
    _entity_table(recon_data.entity_status_summary(filters))
    _not_tied_table(recon_data.not_tied_accounts(filters), totals.not_tied_accounts)


def _filters(options: dict[str, list[str]]) -> ReconFilters:
    cols = st.columns(4)
    specs = (
        ("entity", "Entity", "recon_entity"),
        ("period", "Period", "recon_period"),
        ("recon_status", "Status", "recon_status"),
        ("payer_id", "Payer", "recon_payer"),
    )
    chosen: dict[str, tuple[str, ...]] = {}
    for col, (name, label, key) in zip(cols, specs, strict=True):
        with col:
            values = st.multiselect(label, options[name], key=key, placeholder="All")
        chosen[name] = tuple(values)
    return ReconFilters(
        entities=chosen["entity"],
        periods=chosen["period"],
        statuses=chosen["recon_status"],
        payers=chosen["payer_id"],
    )


def _kpis(totals: recon_data.ReconTotals) -> None:
    info = data.snapshot_info()
    as_of = info.as_of or _to_datetime(recon_data.mart_as_of())
    money_row, count_row = st.columns(4), st.columns(4)
    money_row[0].metric("Charges", money(totals.charge_amount))
    money_row[1].metric("Billed", money(totals.billed_amount))
    money_row[2].metric("Unbilled", money(totals.unbilled_amount))
    money_row[3].metric(
        "Amount at risk",
        money(totals.amount_at_risk),
        help="Unbilled charges + claim lines without a charge + |amount difference| on lines "
        "matched by charge id, each dollar counted once.",
    )
    count_row[0].metric("Accounts", count(totals.accounts))
    count_row[1].metric("Accounts not tied", count(totals.not_tied_accounts))
    count_row[2].metric("Net variance", money(totals.variance_amount), help="Charges − billed")
    count_row[3].metric(
        "As of (UTC)", timestamp_utc(as_of), help="Latest extracted_at of the loaded batches"
    )
    published = f"published {timestamp_utc(info.published_at)} UTC" if info.published_at else (
        "publish time unknown (no meta.snapshot)"
    )
    st.caption(f"Serving snapshot {data.snapshot_path()}, {published}.")


def _to_datetime(value: pd.Timestamp | None) -> datetime | None:
    return None if value is None else value.to_pydatetime()


def _entity_chart(parts: pd.DataFrame) -> None:
    st.subheader("By entity")
    chart = (
        alt.Chart(parts)
        .mark_bar()
        .encode(
            x=alt.X("entity:N", title="Entity", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("sum(amount):Q", title="Amount ($)", axis=alt.Axis(format="$,.0f")),
            color=alt.Color(
                "component:N",
                title=None,
                sort=list(_COMPONENT_COLORS),
                scale=alt.Scale(
                    domain=list(_COMPONENT_COLORS), range=list(_COMPONENT_COLORS.values())
                ),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("entity:N", title="Entity"),
                alt.Tooltip("component:N", title="Part"),
                alt.Tooltip("amount:Q", title="Amount", format="$,.2f"),
            ],
        )
        .properties(height=320)
    )
    st.altair_chart(chart, width="stretch")


def _entity_table(summary: pd.DataFrame) -> None:
    st.subheader("Per entity and status")
    st.dataframe(summary, hide_index=True, column_config=_column_config(summary))


def _not_tied_table(accounts: pd.DataFrame, total: int) -> None:
    st.subheader("Accounts not tied")
    shown = len(accounts)
    note = f"the {count(shown)} most at risk of {count(total)}" if shown < total else count(total)
    st.caption(
        f"Showing {note} accounts, sorted by amount at risk: unbilled charges + claim lines "
        "without a charge + |amount difference| on matched lines."
    )
    st.dataframe(accounts, hide_index=True, column_config=_column_config(accounts))


def _column_config(frame: pd.DataFrame) -> dict[str, object]:
    config: dict[str, object] = {}
    for column in frame.columns:
        label = _LABELS.get(column, column)
        if column in _MONEY_COLUMNS:
            config[column] = st.column_config.NumberColumn(label, format="dollar")
        elif column == "service_date":
            config[column] = st.column_config.DateColumn(label, format="YYYY-MM-DD")
        elif column == "last_submitted_at":
            config[column] = st.column_config.DatetimeColumn(label, format="YYYY-MM-DD HH:mm")
        else:
            config[column] = label
    return config
