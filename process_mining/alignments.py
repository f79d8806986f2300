"""Alignments of the most frequent variants against the reference model, with a time cap.

An optimal alignment says exactly how a trace deviates: a *log move* is an event the model could
not follow at that point (an extra or misplaced step), a *model move* a step the model required
that the trace lacks. Alignment search can explode on long, looping traces, so it runs

- on variants, not cases (one trace stands for every case of its variant; the cases are weighed
  back in), the most frequent first, at most ``VARIANT_CAP`` of them;
- with pm4py's own limits: ``max_align_time_trace`` seconds per trace and ``max_align_time``
  seconds for the whole run. A trace whose search hits a limit comes back without an alignment.

Each variant without an alignment falls back to token-based replay (fitness and the transitions
it could not fire, no moves), and the result says so: per variant (``method``) and overall
(``capped`` and the counts in ``AlignmentSummary``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from process_mining.discovery import import_pm4py, traces_frame

VARIANT_CAP = 200
TRACE_LIMIT_S = 2.0
TOTAL_LIMIT_S = 30.0
SKIP = ">>"  # pm4py's label for "no event" / "no transition" in an alignment move
ALIGNED = "alignment"
FALLBACK = "token_replay"


@dataclass(frozen=True)
class VariantCheck:
    """One variant's conformance: by alignment, or by token replay when the cap was hit."""

    variant_rank: int
    activities: tuple[str, ...]
    cases: int
    method: str  # ALIGNED or FALLBACK
    fitness: float
    cost: float | None  # alignment cost; None for token replay
    log_moves: dict[str, int] = field(default_factory=dict)  # activity -> moves per trace
    model_moves: dict[str, int] = field(default_factory=dict)

    @property
    def deviates(self) -> bool:
        return self.fitness < 1.0 or bool(self.log_moves) or bool(self.model_moves)

    @property
    def how(self) -> str:
        parts = []
        if self.log_moves:
            parts.append("log moves (not allowed here): " + _counts(self.log_moves))
        if self.model_moves:
            parts.append("model moves (missing): " + _counts(self.model_moves))
        if self.method == FALLBACK:
            parts.append("alignment time cap hit: token replay fitness only")
        return "; ".join(parts)


@dataclass(frozen=True)
class AlignmentSummary:
    variants_checked: int
    variants_aligned: int
    variants_fallback: int
    cases_covered: int
    cases_total: int
    fitness: float | None  # case-weighted over the checked variants
    deviating_cases: int
    capped: bool
    seconds: float
    trace_limit_s: float
    total_limit_s: float
    checks: list[VariantCheck] = field(default_factory=list)

    @property
    def note(self) -> str:
        if not self.variants_checked:
            return "no variants to align"
        share = self.cases_covered / self.cases_total if self.cases_total else 0.0
        text = (
            f"{self.variants_aligned} of {self.variants_checked} most frequent variants "
            f"aligned ({share:.1%} of cases)"
        )
        if self.capped:
            text += (
                f"; time cap hit ({self.trace_limit_s:g} s per trace, "
                f"{self.total_limit_s:g} s in all): {self.variants_fallback} variant(s) "
                "checked by token replay instead"
            )
        return text


def _counts(moves: dict[str, int]) -> str:
    return ", ".join(
        f"{a} x{n}" if n > 1 else a
        for a, n in sorted(moves.items(), key=lambda kv: (-kv[1], kv[0]))
    )


def _moves(
    alignment: Sequence[tuple[str | None, str | None]],
) -> tuple[dict[str, int], dict[str, int]]:
    log_moves: Counter[str] = Counter()
    model_moves: Counter[str] = Counter()
    for event, transition in alignment:
        if transition == SKIP and event not in (None, SKIP):
            log_moves[event] += 1
        elif event == SKIP and transition not in (None, SKIP):
            model_moves[transition] += 1  # a silent transition (label None) is no deviation
    return dict(log_moves), dict(model_moves)


def align_variants(
    variants: Sequence[tuple[int, tuple[str, ...], int]],
    reference: Path,
    cases_total: int | None = None,
    trace_limit_s: float = TRACE_LIMIT_S,
    total_limit_s: float = TOTAL_LIMIT_S,
) -> AlignmentSummary:
    """Aligns each (rank, activities, cases) variant against the reference Petri net."""
    total_cases = cases_total if cases_total is not None else sum(c for _, _, c in variants)
    if not variants:
        return AlignmentSummary(
            variants_checked=0,
            variants_aligned=0,
            variants_fallback=0,
            cases_covered=0,
            cases_total=total_cases,
            fitness=None,
            deviating_cases=0,
            capped=False,
            seconds=0.0,
            trace_limit_s=trace_limit_s,
            total_limit_s=total_limit_s,
        )
    found = _diagnose(variants, reference, trace_limit_s, total_limit_s)
    checks = [
        _variant_check(
            rank, trace, cases, found.aligned.get(f"v{rank}"), found.replayed.get(f"v{rank}")
        )
        for rank, trace, cases in variants
    ]
    covered = sum(c.cases for c in checks)
    fitness = sum(c.fitness * c.cases for c in checks) / covered if covered else None
    fallback = sum(c.method == FALLBACK for c in checks)
    return AlignmentSummary(
        variants_checked=len(checks),
        variants_aligned=len(checks) - fallback,
        variants_fallback=fallback,
        cases_covered=covered,
        cases_total=total_cases,
        fitness=fitness,
        deviating_cases=sum(c.cases for c in checks if c.deviates),
        capped=fallback > 0,
        seconds=found.seconds,
        trace_limit_s=trace_limit_s,
        total_limit_s=total_limit_s,
        checks=checks,
    )


@dataclass(frozen=True)
class _Diagnoses:
    """pm4py's alignment of each variant (by case id ``v<rank>``), token replay's diagnosis of
    those the time caps left unaligned, and the seconds both took."""

    aligned: dict[str, dict]
    replayed: dict[str, dict]
    seconds: float


def _diagnose(
    variants: Sequence[tuple[int, tuple[str, ...], int]],
    reference: Path,
    trace_limit_s: float,
    total_limit_s: float,
) -> _Diagnoses:
    pm4py = import_pm4py()
    net, initial, final = pm4py.read_pnml(str(reference))
    frame = traces_frame([(f"v{rank}", trace) for rank, trace, _ in variants])
    start = time.perf_counter()
    log = pm4py.convert_to_event_log(frame, case_id_key="case_id")
    results = pm4py.conformance_diagnostics_alignments(
        log,
        net,
        initial,
        final,
        multi_processing=False,
        activity_key="activity",
        timestamp_key="ts",
        max_align_time_trace=trace_limit_s,
        max_align_time=total_limit_s,
    )
    by_case = {
        trace.attributes["concept:name"]: result for trace, result in zip(log, results, strict=True)
    }
    aligned = {case: result for case, result in by_case.items() if result is not None}
    missing = [f"v{rank}" for rank, _, _ in variants if f"v{rank}" not in aligned]
    if not missing:
        return _Diagnoses(aligned=aligned, replayed={}, seconds=time.perf_counter() - start)
    subset = pm4py.convert_to_event_log(
        frame[frame["case_id"].isin(missing)], case_id_key="case_id"
    )
    diagnoses = pm4py.conformance_diagnostics_token_based_replay(
        subset, net, initial, final, activity_key="activity", timestamp_key="ts"
    )
    replayed = {
        trace.attributes["concept:name"]: d for trace, d in zip(subset, diagnoses, strict=True)
    }
    return _Diagnoses(aligned=aligned, replayed=replayed, seconds=time.perf_counter() - start)


def _variant_check(
    rank: int, trace: tuple[str, ...], cases: int, aligned: dict | None, replayed: dict | None
) -> VariantCheck:
    if aligned is not None:
        log_moves, model_moves = _moves(aligned["alignment"])
        return VariantCheck(
            variant_rank=rank,
            activities=tuple(trace),
            cases=cases,
            method=ALIGNED,
            fitness=float(aligned["fitness"]),
            cost=float(aligned["cost"]),
            log_moves=log_moves,
            model_moves=model_moves,
        )
    return VariantCheck(
        variant_rank=rank,
        activities=tuple(trace),
        cases=cases,
        method=FALLBACK,
        fitness=float(replayed["trace_fitness"]),
        cost=None,
    )
