"""Conformance of the log against the shipped reference model of the billing process.

Token-based replay gives fitness, precision and, per case, whether and where the case left the
model; the temporal profile flags steps whose wait is far from the usual (zeta standard
deviations). Both run on a capped, hash-chosen sample of cases (``sample_traces``), so the cost
stays bounded on a large log. Alignments run on the most frequent variants under a time cap and
fall back to token replay where the cap is hit (``process_mining.alignments``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from process_mining.alignments import (
    TOTAL_LIMIT_S,
    TRACE_LIMIT_S,
    VARIANT_CAP,
    AlignmentSummary,
    align_variants,
)
from process_mining.dfg import Staged, sample_traces, stage, variants
from process_mining.discovery import FITNESS_CASE_CAP, import_pm4py, traces_frame

REFERENCE_MODEL = Path(__file__).resolve().parent / "reference" / "billing_process.pnml"
TEMPORAL_ZETA = 3.0
# pm.alignment_cases lists at most this many cases of each deviating variant.
CASES_PER_VARIANT = 100


@dataclass(frozen=True)
class Deviation:
    case_id: str
    fitness: float
    how: str  # e.g. "unexpected: CLAIM_SUBMITTED; not in the model: FOO"


@dataclass(frozen=True)
class Conformance:
    cases_checked: int
    fitness: float | None
    precision: float | None
    deviations: list[Deviation] = field(default_factory=list)
    temporal: list[dict[str, Any]] = field(default_factory=list)
    alignments: AlignmentSummary | None = None
    alignment_cases: list[dict[str, Any]] = field(default_factory=list)


def _how(diagnosis: dict[str, Any], known: set[str], trace: Sequence[str]) -> str:
    parts = []
    problems = sorted({t.label or t.name for t in diagnosis.get("transitions_with_problems", [])})
    if problems:
        parts.append("unexpected: " + ", ".join(problems))
    unknown = sorted(set(trace) - known)
    if unknown:
        parts.append("not in the model: " + ", ".join(unknown))
    if diagnosis.get("remaining_tokens") or not parts:
        parts.append("ends before the process completes")
    return "; ".join(parts)


def check_traces(
    traces: Sequence[tuple[str, Sequence[str]]], reference: Path = REFERENCE_MODEL
) -> Conformance:
    """Fitness, precision and the deviating cases of the given (case id, trace) pairs."""
    if not traces:
        return Conformance(0, None, None)
    pm4py = import_pm4py()
    net, initial, final = pm4py.read_pnml(str(reference))
    keys = {"activity_key": "activity", "timestamp_key": "ts", "case_id_key": "case_id"}
    frame = traces_frame(traces)
    fitness = pm4py.fitness_token_based_replay(frame, net, initial, final, **keys)["log_fitness"]
    precision = pm4py.precision_token_based_replay(frame, net, initial, final, **keys)
    log = pm4py.convert_to_event_log(frame, case_id_key="case_id")
    diagnoses = pm4py.conformance_diagnostics_token_based_replay(
        log, net, initial, final, activity_key="activity", timestamp_key="ts"
    )
    by_case = dict(traces)
    known = {t.label for t in net.transitions if t.label}
    deviations = []
    for trace, diagnosis in zip(log, diagnoses, strict=True):
        if not diagnosis["trace_is_fit"]:
            case_id = trace.attributes["concept:name"]
            deviations.append(
                Deviation(
                    case_id,
                    float(diagnosis["trace_fitness"]),
                    _how(diagnosis, known, by_case[case_id]),
                )
            )
    deviations.sort(key=lambda d: (d.fitness, d.case_id))
    return Conformance(len(traces), float(fitness), float(precision), deviations)


def temporal_deviations(
    con: duckdb.DuckDBPyConnection,
    events: str,
    case_ids: Sequence[str],
    zeta: float = TEMPORAL_ZETA,
) -> list[dict[str, Any]]:
    """Steps of the given cases whose time apart lies more than ``zeta`` standard deviations
    from the mean of the temporal profile discovered on those same cases."""
    if not case_ids:
        return []
    pm4py = import_pm4py()
    con.register("pm_sample", pd.DataFrame({"case_id": list(case_ids)}))
    try:
        frame = con.execute(
            f"select case_id, activity, ts, event_order from {events} "
            "join pm_sample using (case_id) order by case_id, ts, event_order"
        ).df()
    finally:
        con.unregister("pm_sample")
    frame = frame.rename(
        columns={"case_id": "case:concept:name", "activity": "concept:name", "ts": "time:timestamp"}
    )
    profile = pm4py.discover_temporal_profile(frame)
    log = pm4py.convert_to_event_log(frame)
    results = pm4py.conformance_temporal_profile(log, profile, zeta=zeta)
    out = []
    for trace, found in zip(log, results, strict=True):
        for source, target, seconds, score in found:
            out.append(
                {
                    "case_id": trace.attributes["concept:name"],
                    "source": source,
                    "target": target,
                    "elapsed_s": float(seconds),
                    "zeta": float(score),
                }
            )
    out.sort(key=lambda d: (-d["zeta"], d["case_id"], d["source"], d["target"]))
    return out


def deviating_variant_cases(
    con: duckdb.DuckDBPyConnection,
    staged: Staged,
    ranks: Sequence[int],
    per_variant: int = CASES_PER_VARIANT,
) -> list[dict[str, Any]]:
    """Up to ``per_variant`` cases (by case id) of each given variant rank."""
    if not ranks:
        return []
    con.register("pm_ranks", pd.DataFrame({"variant_rank": list(ranks)}))
    try:
        frame = con.execute(f"""
            select v.variant_rank, t.case_id
            from {staged.traces} t join {staged.variants} v using (trace)
            join pm_ranks r on r.variant_rank = v.variant_rank
            qualify row_number() over (partition by v.variant_rank order by t.case_id)
                    <= {int(per_variant)}
            order by v.variant_rank, t.case_id""").df()
    finally:
        con.unregister("pm_ranks")
    return frame.to_dict("records")


def conformance(
    con: duckdb.DuckDBPyConnection,
    events: str,
    reference: Path = REFERENCE_MODEL,
    cap: int = FITNESS_CASE_CAP,
    staged: Staged | None = None,
    variant_cap: int = VARIANT_CAP,
    trace_limit_s: float = TRACE_LIMIT_S,
    total_limit_s: float = TOTAL_LIMIT_S,
) -> Conformance:
    """Conformance of a capped sample of the log's cases against the reference model, and
    time-capped alignments of the most frequent variants."""
    staged = staged if staged is not None else stage(con, events)
    traces = sample_traces(con, events, cap, staged)
    checked = check_traces(traces, reference)
    temporal = temporal_deviations(con, events, [case_id for case_id, _ in traces])
    top = variants(con, events, limit=variant_cap, staged=staged)
    (cases_total,) = con.execute(f"select count(*) from {staged.traces}").fetchall()[0]
    aligned = align_variants(
        [(v.rank, v.activities, v.cases) for v in top],
        reference,
        cases_total=int(cases_total),
        trace_limit_s=trace_limit_s,
        total_limit_s=total_limit_s,
    )
    cases = deviating_variant_cases(
        con, staged, [c.variant_rank for c in aligned.checks if c.deviates]
    )
    return Conformance(
        checked.cases_checked,
        checked.fitness,
        checked.precision,
        checked.deviations,
        temporal,
        aligned,
        cases,
    )
