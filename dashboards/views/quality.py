"""Data quality page: a score and grade per source with its trend, open breaks per owner team,
and a link to the Great Expectations Data Docs."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import quality_data
from dashboards.formatting import MISSING, count
from dashboards.views.page import render_page

TITLE = "Data quality"
CAPTION = (
    "Great Expectations on every source feed and on the marts. Scores weigh critical "
    "expectations five times a warning; a critical failure on raw data stops the nightly run "
    "before anything is published (see docs/data-quality.md)."
)

_BREAK_LABELS = {
    "severity": "Severity",
    "owner_team": "Owner team",
    "source": "Source",
    "data_asset": "Table",
    "rule": "Expectation",
    "unexpected_count": "Rows failing",
    "unexpected_percent": "% failing",
    "first_failed_at": "Failing since (UTC)",
    "runs_failing": "Runs failing",
    "unexpected_sample": "Sample (keys, PHI masked)",
}


def render() -> None:
    """Draw the page; snapshot problems become one message, never a traceback."""
    render_page(TITLE, CAPTION, _render_body)


def _render_body() -> None:
    _docs_link()
    quality_data.ensure_tables()
    latest = quality_data.latest_scores()
    if latest.empty:
        st.info("No data-quality results in the serving snapshot yet. Run `billops run`.")
        return
    _grades(latest)
    _trend(quality_data.score_history())
    _held()
    _verdicts()
    _breaks()


def _held() -> None:
    """Units held back by the raw checks: they post nothing until corrected."""
    st.subheader("Held back from the marts")
    units = quality_data.held_units()
    held = units[units["status"] == "HELD"] if not units.empty else units
    if held.empty:
        st.success("Nothing is held back: every loaded unit is in the marts.")
    else:
        per_team = held.groupby("owner_team").agg(units=("unit_key", "size"), amount=("amount", "sum"))
        cols = st.columns(min(len(per_team), 6))
        for col, (team, row) in zip(cols, per_team.iterrows(), strict=False):
            col.metric(team, count(int(row["units"])), help=f"${row['amount'] or 0:,.2f} held")
    if not units.empty:
        st.dataframe(
            units.rename(columns=lambda c: c.replace("_", " ").capitalize()),
            hide_index=True,
            width="stretch",
        )
        st.caption(
            "A held 835 transaction set posts nothing; when its corrected file arrives it posts "
            "once and the held unit is released."
        )


def _verdicts() -> None:
    """Batches the raw checks did not pass: FAILED ones block the run until fixed or waived."""
    st.subheader("Batch verdicts and waivers")
    verdicts = quality_data.batch_verdicts()
    if verdicts.empty:
        st.success("Every checked batch passed.")
        return
    failed = int((verdicts["status"] == "FAILED").sum())
    waived = int((verdicts["status"] == "WAIVED").sum())
    cols = st.columns(2)
    cols[0].metric("Failed (blocking)", count(failed))
    cols[1].metric("Waived", count(waived))
    verdicts = verdicts.assign(waived_by=verdicts["waived_by"].where(verdicts["status"] == "WAIVED"))
    st.dataframe(
        verdicts.rename(columns=lambda c: c.replace("_", " ").capitalize()),
        hide_index=True,
        width="stretch",
    )
    st.caption(
        "A FAILED batch blocks publication until it is corrected or waived with "
        "`billops check --waive SYSTEM/BATCH_ID --reason ... --by NAME` (only a FAILED batch "
        "can be waived; every attempt is audited)."
    )


def _docs_link() -> None:
    index = quality_data.data_docs_index()
    if index is None:
        st.caption("Data Docs have not been built yet (`billops check` builds them).")
        return
    url = quality_data.data_docs_url()
    if url:
        st.link_button("Open Data Docs", url)
        st.caption("The Data Docs ask for your billops user name, and your token as the password.")
    else:
        # Without `billops dashboard`'s docs server only a file link is possible; browsers may
        # refuse it from an http page, so the path is shown too.
        st.link_button("Open Data Docs", index.as_uri())
    st.caption(f"Data Docs: `{index}`")


def _grades(latest: pd.DataFrame) -> None:
    st.subheader("Score per source")
    per_row = 4
    for start in range(0, len(latest), per_row):
        cols = st.columns(per_row)
        for col, row in zip(cols, latest.iloc[start : start + per_row].itertuples(), strict=False):
            trend = None if pd.isna(row.trend) else f"{row.trend:+.1f}"
            col.metric(
                f"{row.source} — grade {row.grade}",
                f"{row.score:.1f}",
                delta=trend,
                help=f"Day {row.day:%Y-%m-%d}: {row.failed} of {row.expectations} expectations "
                f"failed ({row.critical_failed} critical).",
            )


def _trend(history: pd.DataFrame) -> None:
    st.subheader("Trend")
    if history["day"].nunique() < 2:
        st.caption("One day of results so far; the trend appears after the next run.")
    chart = (
        alt.Chart(history)
        .mark_line(point=True)
        .encode(
            x=alt.X("day:T", title="Data day"),
            y=alt.Y("score:Q", title="Score", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color("source:N", title="Source"),
            tooltip=["source", "day:T", "score", "grade"],
        )
    )
    st.altair_chart(chart, width="stretch")


def _breaks() -> None:
    st.subheader("Open breaks by owner team")
    per_team = quality_data.breaks_by_team()
    if per_team.empty:
        st.success("No open data-quality breaks.")
        return
    pivot = (
        per_team.pivot_table(
            index="owner_team", columns="severity", values="breaks", aggfunc="sum", fill_value=0
        )
        .reindex(columns=["critical", "warning"], fill_value=0)
        .rename_axis(None, axis=1)
        .reset_index()
    )
    pivot["rows_affected"] = (
        per_team.groupby("owner_team")["rows_affected"]
        .sum()
        .reindex(pivot["owner_team"])
        .to_numpy()
    )
    cols = st.columns(min(len(pivot), 6))
    for col, row in zip(cols, pivot.itertuples(), strict=False):
        col.metric(
            row.owner_team,
            count(row.critical + row.warning),
            help=f"{row.critical} critical, {row.warning} warning",
        )
    teams = st.multiselect(
        "Owner team", pivot["owner_team"].tolist(), key="dq_teams", placeholder="All"
    )
    breaks = quality_data.open_breaks(tuple(teams))
    breaks["unexpected_percent"] = breaks["unexpected_percent"].round(3)
    st.dataframe(
        breaks.rename(columns=_BREAK_LABELS),
        hide_index=True,
        width="stretch",
        column_config={"Rows failing": st.column_config.NumberColumn(format="%d")},
    )
    st.caption(f"{count(len(breaks))} open break(s) shown. {MISSING} = not measured.")
