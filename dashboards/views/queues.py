"""Work queues page: open items, age, SLA breaches and first-pass resolution per queue and owner
team, per data day (marts.fct_work_queue_daily; docs/metrics.md, "Work-queue metrics")."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import queue_data
from dashboards.formatting import MISSING, count
from dashboards.views.page import render_page

TITLE = "Work queues"
CAPTION = ("Exceptions worked as items in their team's queue: open items, age and service-level "
           "breaches at the end of each data day, and how many were resolved first time.")
_LABELS = {
    "queue": "Queue",
    "owner_team": "Owner team",
    "open_items": "Open",
    "opened": "Opened",
    "resolved": "Resolved",
    "auto_resolved": "Auto-resolved",
    "dismissed": "Dismissed",
    "median_age_days": "Median age (days)",
    "max_age_days": "Max age (days)",
    "breached_open": "Open past due",
    "resolved_late": "Resolved late",
    "first_pass_resolution_rate": "First-pass rate",
}


def render() -> None:
    """Draw the page; snapshot problems become one message, never a traceback."""
    render_page(TITLE, CAPTION, _render_body)


def _rate(value: float | None) -> str:
    return MISSING if value is None or pd.isna(value) else f"{value:.0%}"


def _render_body() -> None:
    if queue_data.ensure_mart() == 0:
        st.info(f"{queue_data.MART} is empty: no work item has been synced yet.")
        return
    day = queue_data.latest_day()
    row = st.columns(5)
    row[0].metric("Open items", count(day.open_items), help=f"End of data day {day.day}")
    row[1].metric("Opened", count(day.opened))
    row[2].metric("Resolved", count(day.resolved))
    row[3].metric("SLA breaches", count(day.sla_breaches),
                  help="Open past due at the end of the day, and resolved after due")
    row[4].metric("First-pass rate", _rate(day.first_pass_rate),
                  help="Resolved without ever being reopened or escalated")
    st.subheader(f"By queue and owner team, {day.day}")
    shown = queue_data.by_queue(day.day)
    shown["first_pass_resolution_rate"] = shown["first_pass_resolution_rate"].map(_rate)
    st.dataframe(shown.rename(columns=_LABELS), hide_index=True, width="stretch")
    st.subheader("Open items per day")
    st.line_chart(queue_data.open_items_per_day())
