"""Process model discovery with pm4py (AGPL-3.0), and the DFG as Graphviz DOT text.

pm4py is imported inside functions: its import is slow and it can print a banner. The inductive
miner runs on the distinct variants, not on every case: with noise threshold 0 the miner only
sees which traces exist, so one case per variant yields the same tree at a fraction of the cost.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from process_mining.dfg import Edge, Staged, activity_counts, endpoint_counts, sample_traces

ALGORITHM = "inductive_miner"
# Token replay cost grows with cases x model size; 2,000 cases, picked by hash of the case id,
# estimate the fitness of a billing log well within seconds.
FITNESS_CASE_CAP = 2_000
# The tree is mined on the most frequent variants only; the long tail of one-off traces would
# flatten the model into a flower without telling an analyst more.
MODEL_VARIANT_CAP = 5_000
_EPOCH = pd.Timestamp("2000-01-01")


@dataclass(frozen=True)
class Model:
    algorithm: str
    model_text: str  # str() of the pm4py process tree; empty for an empty log
    dot: str
    fitness: float | None  # token-replay log fitness on the sample; None for an empty log


def import_pm4py() -> Any:
    """pm4py with its banner and progress bars silenced."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        import pm4py
        from pm4py.util import constants

    constants.SHOW_PROGRESS_BAR = False
    return pm4py


def traces_frame(traces: Sequence[tuple[str, Sequence[str]]]) -> pd.DataFrame:
    """A pm4py-ready frame: one row per event, timestamps one second apart to fix the order."""
    rows = [
        (case_id, activity, _EPOCH + pd.Timedelta(seconds=i))
        for case_id, trace in traces
        for i, activity in enumerate(trace)
    ]
    frame = pd.DataFrame(rows, columns=["case_id", "activity", "ts"])
    frame["ts"] = frame["ts"].astype("datetime64[us]")
    return frame


def discover_tree(traces: Sequence[Sequence[str]]) -> Any:
    """Inductive miner (noise threshold 0) process tree of the given distinct traces."""
    pm4py = import_pm4py()
    frame = traces_frame([(f"v{i}", trace) for i, trace in enumerate(traces)])
    return pm4py.discover_process_tree_inductive(
        frame,
        noise_threshold=0.0,
        multi_processing=False,
        activity_key="activity",
        timestamp_key="ts",
        case_id_key="case_id",
    )


def replay_fitness(tree: Any, traces: Sequence[tuple[str, Sequence[str]]]) -> float:
    """Token-based replay log fitness of the cases against the tree's Petri net."""
    pm4py = import_pm4py()
    net, initial, final = pm4py.convert_to_petri_net(tree)
    result = pm4py.fitness_token_based_replay(
        traces_frame(traces),
        net,
        initial,
        final,
        activity_key="activity",
        timestamp_key="ts",
        case_id_key="case_id",
    )
    return float(result["log_fitness"])


def discover_model(
    con: duckdb.DuckDBPyConnection,
    events: str,
    edges: Sequence[Edge],
    variant_traces: Sequence[Sequence[str]],
    staged: Staged | None = None,
) -> Model:
    """Tree from the (capped, most frequent first) variants, fitness on a capped case sample."""
    dot = dfg_dot(
        edges, activity_counts(con, events, staged), *endpoint_counts(con, events, staged)
    )
    if not variant_traces:
        return Model(ALGORITHM, "", dot, None)
    tree = discover_tree(variant_traces[:MODEL_VARIANT_CAP])
    fitness = replay_fitness(tree, sample_traces(con, events, FITNESS_CASE_CAP, staged))
    return Model(ALGORITHM, str(tree), dot, fitness)


# ---------------------------------------------------------------- DOT


def _dot_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def human_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 86400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def process_map_dots(
    con: duckdb.DuckDBPyConnection, events: str, edges: Sequence[Edge], staged: Staged | None = None
) -> dict[str, str]:
    """The process map as DOT text in both views, ``{"frequency": ..., "performance": ...}``."""
    activities = activity_counts(con, events, staged)
    starts, ends = endpoint_counts(con, events, staged)
    return {
        view: dfg_dot(edges, activities, starts, ends, view=view)
        for view in ("frequency", "performance")
    }


def _heat(share: float) -> str:
    """Grey for no waiting, through orange to red for the step with the most waiting time."""
    red, green, blue = 0x9E + (0xD3 - 0x9E) * share, 0x9E - 0x9E * share * 0.8, 0x9E * (1 - share)
    return f"#{int(red):02x}{int(green):02x}{int(blue):02x}"


def dfg_dot(
    edges: Sequence[Edge],
    activities: dict[str, int],
    starts: dict[str, int],
    ends: dict[str, int],
    view: str = "frequency",
) -> str:
    """The DFG as DOT. Frequency view: edge width and label by count (median wait beside it).
    Performance view: edge width and colour by total waiting time, labelled with the median and
    p90 wait, so the bottlenecks stand out.

    Written by hand so no Graphviz binary is needed; any Graphviz renderer (the dashboard's
    ``st.graphviz_chart`` included) draws it.
    """
    if view not in ("frequency", "performance"):
        raise ValueError(f"unknown process map view {view!r}")
    ids = {activity: f"a{i}" for i, activity in enumerate(sorted(activities))}
    top = max([e.count for e in edges] + [*starts.values(), *ends.values(), 1])
    lines = [
        "digraph dfg {",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fillcolor="#eef3f8", fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    if activities:
        lines += [
            '  "start" [shape=circle, label="", width=0.3, fillcolor="#4caf50"];',
            '  "end" [shape=doublecircle, label="", width=0.3, fillcolor="#e53935"];',
        ]
    for activity, node in ids.items():
        label = f"{activity}\n{activities[activity]:,}"
        lines.append(f"  {node} [label={_dot_str(label)}];")

    def width(count: int) -> str:
        return f"{1 + 4 * count / top:.2f}"

    for activity, count in sorted(starts.items()):
        lines.append(
            f'  "start" -> {ids[activity]} [label="{count:,}", penwidth={width(count)}, '
            "style=dashed];"
        )
    top_wait = max([e.total_wait_s for e in edges] + [1.0])
    for edge in edges:
        if view == "performance":
            share = max(edge.total_wait_s, 0.0) / top_wait
            label = (
                f"{human_duration(edge.median_wait_s)} median\n"
                f"{human_duration(edge.p90_wait_s)} p90 ({edge.count:,})"
            )
            style = f'penwidth={1 + 4 * share:.2f}, color="{_heat(share)}"'
        else:
            label = f"{edge.count:,}\n{human_duration(edge.median_wait_s)}"
            style = f"penwidth={width(edge.count)}"
        lines.append(
            f"  {ids[edge.source]} -> {ids[edge.target]} [label={_dot_str(label)}, {style}];"
        )
    for activity, count in sorted(ends.items()):
        lines.append(
            f'  {ids[activity]} -> "end" [label="{count:,}", penwidth={width(count)}, '
            "style=dashed];"
        )
    lines.append("}")
    return "\n".join(lines)
