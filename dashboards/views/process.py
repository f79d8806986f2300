"""Process page: where billing stalls, loops and leaks, from the latest ``billops mine`` run."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import process_data
from dashboards.formatting import count, timestamp_utc
from dashboards.process_data import ProcessFilters, Run
from dashboards.views.page import render_page

TITLE = "Process"
CAPTION = (
    "The billing event log mined by `billops mine`: the process map, variants, "
    "bottlenecks, rework, SLA breaches and conformance to the reference model."
)
VIEWS = {"Frequency": "frequency", "Performance": "performance"}
_DURATION_COLUMNS = (
    "median_duration_s",
    "p90_duration_s",
    "median_throughput_s",
    "median_wait_s",
    "total_wait_s",
    "wait_s",
    "elapsed_s",
    "window_s",
    "median_s",
    "p90_s",
)
_LABELS = {
    "variant_rank": "Rank",
    "activities": "Activities",
    "cases": "Cases",
    "share": "Share",
    "median_throughput_s": "Median throughput",
    "source": "From",
    "target": "To",
    "median_wait_s": "Median wait",
    "total_wait_s": "Total wait",
    "activity": "Activity",
    "case_id": "Case",
    "wait_s": "Wait",
    "rule": "Rule",
    "start_ts": "Started",
    "end_ts": "Reached",
    "elapsed_s": "Elapsed",
    "open": "Still open",
    "window_s": "Window",
    "dimension": "Dimension",
    "segment": "Segment",
    "breaches": "Breaches",
    "open_breaches": "Open breaches",
    "breach_rate": "Breach rate",
    "median_s": "Median",
    "p90_s": "p90",
    "events": "Events",
    "median_duration_s": "Median duration",
    "p90_duration_s": "p90 duration",
    "rework_cases": "Rework cases",
    "method": "Checked by",
    "fitness": "Fitness",
    "log_moves": "Log moves",
    "model_moves": "Model moves",
    "how": "How it deviates",
    "segment_rank": "Rank in segment",
}


def duration(seconds: float | None) -> str:
    """Seconds as the largest sensible unit: 45s, 12m, 3.5h, 2.0d."""
    if seconds is None or pd.isna(seconds):
        return "—"
    value = float(seconds)
    if value < 60:
        return f"{value:.0f}s"
    if value < 3600:
        return f"{value / 60:.0f}m"
    if value < 86400:
        return f"{value / 3600:.1f}h"
    return f"{value / 86400:.1f}d"


def render() -> None:
    """Draw the page; snapshot problems become one message, never a traceback."""
    render_page(TITLE, CAPTION, _render_body)


def _render_body() -> None:
    run = process_data.latest_run()
    mined = timestamp_utc(run.mined_at.to_pydatetime()) if run.mined_at is not None else "—"
    st.caption(f"Run {run.run_id} on {run.source}, mined {mined} UTC.")
    columns = st.columns(4)
    for column, (label, value) in zip(
        columns,
        (
            ("Cases", run.cases),
            ("Events", run.events),
            ("Activities", run.activities),
            ("Variants", run.variants),
        ),
        strict=True,
    ):
        column.metric(label, count(value))
    if run.cases == 0:
        st.info("The event log of this run has no cases.")
        return
    filters = _filters(process_data.filter_options(run))
    _process_map(run)
    _variants(run, filters)
    _bottlenecks(run, filters)
    _rework(run)
    _segments(run, filters)
    _sla(run, filters)
    _conformance(run, filters)


def _filters(options: dict[str, list[str]]) -> ProcessFilters:
    columns = st.columns(3)
    chosen = {}
    for column, (dimension, label) in zip(columns, process_data.DIMENSIONS.items(), strict=True):
        chosen[dimension] = tuple(
            column.multiselect(
                label,
                options[dimension],
                key=f"process_{dimension}",
                placeholder=f"All {label.lower()}s" if options[dimension] else "Not in this log",
                disabled=not options[dimension],
            )
        )
    filters = ProcessFilters(chosen["entity"], chosen["payer_id"], chosen["month"])
    if filters.active:
        note = (
            "Filters narrow the segment tables, the segments' top variants and the case "
            "lists; the map, bottlenecks and rework describe the whole log."
        )
        if not process_data.can_filter_cases():
            note += " (The snapshot has no event log, so case lists are not filtered.)"
        st.caption(note)
    return filters


def _show(frame: pd.DataFrame | None, missing: str, empty: str) -> None:
    if frame is None:
        st.caption(missing)
        return
    if frame.empty:
        st.caption(empty)
        return
    shown = frame.copy()
    for column in _DURATION_COLUMNS:
        if column in shown.columns:
            shown[column] = shown[column].map(duration)
    for column in ("share", "breach_rate"):
        if column in shown.columns:
            shown[column] = shown[column].map(lambda v: "—" if pd.isna(v) else f"{v:.1%}")
    st.dataframe(shown.rename(columns=_LABELS), hide_index=True, width="stretch")


def _process_map(run: Run) -> None:
    st.subheader("Process map")
    label = st.radio(
        "View",
        list(VIEWS),
        horizontal=True,
        key="process_view",
        help="Frequency: edges by how often one step follows another. "
        "Performance: edges by total waiting time, bottlenecks in red.",
    )
    dot = process_data.process_map(run, VIEWS[label])
    if dot is None:
        st.caption("This run stored no process map.")
        return
    st.graphviz_chart(dot, width="stretch")


def _variants(run: Run, filters: ProcessFilters) -> None:
    st.subheader("Top variants")
    _show(process_data.top_variants(run), "This run stored no variants.", "No variants.")
    if filters.active:
        st.markdown("**Top variants of the selected segments**")
        _show(
            process_data.segment_variants(run, filters),
            "This run stored no variants by segment.",
            "No variant in the selected segments.",
        )


def _bottlenecks(run: Run, filters: ProcessFilters) -> None:
    st.subheader("Bottlenecks")
    st.caption("Steps ranked by the total time cases waited on them.")
    frame = process_data.bottlenecks(run)
    _show(frame, "This run stored no bottlenecks.", "No step has any waiting time.")
    if frame is None or frame.empty:
        return
    steps = [f"{s} → {t}" for s, t in zip(frame["source"], frame["target"], strict=True)]
    picked = st.selectbox("Cases behind the step", steps, key="process_bottleneck")
    source, target = frame.iloc[steps.index(picked)][["source", "target"]]
    _show(
        process_data.bottleneck_cases(run, str(source), str(target), filters),
        "This run stored no bottleneck cases.",
        "No case matches the filters.",
    )


def _rework(run: Run) -> None:
    st.subheader("Rework")
    st.caption("Activities repeated within a case, and how many cases repeat them.")
    _show(process_data.rework(run), "This run stored no rework.", "No activity repeats.")


def _segments(run: Run, filters: ProcessFilters) -> None:
    st.subheader("Case durations by segment")
    _show(
        process_data.segments(run, filters),
        "This run stored no segments.",
        "No segment matches the filters.",
    )


def _sla(run: Run, filters: ProcessFilters) -> None:
    st.subheader("SLA breaches")
    _show(
        process_data.sla_summary(run, filters),
        "This run stored no SLA results.",
        "No SLA result matches the filters.",
    )
    _show(
        process_data.sla_breaches(run, filters),
        "This run stored no SLA breaches.",
        "No breaching case matches the filters.",
    )


def _conformance(run: Run, filters: ProcessFilters) -> None:
    st.subheader("Conformance to the reference model")
    replay = process_data.conformance(run)
    aligned = process_data.alignment_summary(run)
    if replay is None and aligned is None:
        st.caption("This run stored no conformance results.")
        return
    columns = st.columns(4)
    if replay is not None:
        columns[0].metric("Token-replay fitness", _ratio(replay["fitness"]))
        columns[1].metric("Precision", _ratio(replay["precision"]))
        columns[2].metric(
            "Deviating cases (sample)",
            f"{count(replay['deviating_cases'])} of {count(replay['cases_checked'])}",
        )
    if aligned is not None:
        columns[3].metric("Alignment fitness", _ratio(aligned["fitness"]))
        (st.warning if bool(aligned["capped"]) else st.caption)(f"Alignments: {aligned['note']}.")
    _show(process_data.alignments(run), "This run stored no alignments.", "No variant was aligned.")
    st.markdown("**Deviating cases**")
    _show(
        process_data.deviating_cases(run, filters),
        "This run stored no deviating cases.",
        "No deviating case matches the filters.",
    )


def _ratio(value: object) -> str:
    return "—" if value is None or pd.isna(value) else f"{float(value):.3f}"
