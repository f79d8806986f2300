"""Alignments against the reference model: moves per activity, the time cap and its fallback."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from billops.config import Settings
from billops.warehouse import connect
from process_mining.alignments import ALIGNED, FALLBACK, align_variants
from process_mining.conformance import REFERENCE_MODEL, conformance
from process_mining.event_log import stage_frame
from process_mining.mine import mine_warehouse

HAPPY = (
    "REGISTERED",
    "ELIGIBILITY_CHECKED",
    "CHARGE_POSTED",
    "CLAIM_CREATED",
    "CLAIM_SUBMITTED",
    "CLAIM_ACCEPTED",
    "REMIT_RECEIVED",
    "PAYMENT_POSTED",
    "GL_POSTED",
    "DEPOSITED",
    "CLOSED",
)
# Claim submitted before any charge, and an activity the model does not know.
OUT_OF_ORDER = ("REGISTERED", "CLAIM_SUBMITTED", "CHARGE_POSTED", "FOO")
UNFINISHED = HAPPY[:3]
VARIANTS = [(1, HAPPY, 10), (2, OUT_OF_ORDER, 3), (3, UNFINISHED, 2)]


def test_alignment_names_log_and_model_moves_per_activity() -> None:
    result = align_variants(VARIANTS, REFERENCE_MODEL)
    checks = {c.variant_rank: c for c in result.checks}

    assert not result.capped and result.variants_aligned == 3 and result.variants_fallback == 0
    assert all(c.method == ALIGNED for c in result.checks)
    assert checks[1].fitness == 1.0 and not checks[1].deviates and checks[1].how == ""
    assert checks[2].log_moves == {"CHARGE_POSTED": 1, "FOO": 1}
    assert {"CHARGE_POSTED", "CLAIM_CREATED", "REMIT_RECEIVED"} <= set(checks[2].model_moves)
    assert checks[3].log_moves == {}
    assert set(checks[3].model_moves) >= {"CLAIM_CREATED", "CLAIM_SUBMITTED"}
    assert "model moves (missing): " in checks[3].how
    # Cases weigh in through their variant: 3 + 2 deviating cases of 15.
    assert (result.cases_covered, result.deviating_cases) == (15, 5)
    expected = (10 * 1.0 + 3 * checks[2].fitness + 2 * checks[3].fitness) / 15
    assert result.fitness == pytest.approx(expected)
    assert result.note == "3 of 3 most frequent variants aligned (100.0% of cases)"


def test_time_cap_falls_back_to_token_replay_and_says_so() -> None:
    result = align_variants(VARIANTS, REFERENCE_MODEL, cases_total=20, trace_limit_s=0.0)

    assert result.capped and result.variants_aligned == 0 and result.variants_fallback == 3
    assert all(c.method == FALLBACK and c.cost is None for c in result.checks)
    fitness = {c.variant_rank: c.fitness for c in result.checks}
    assert fitness[1] == 1.0 and fitness[2] < 1.0 and fitness[3] < 1.0
    assert "token replay" in result.checks[1].how
    assert "time cap hit (0 s per trace, 30 s in all)" in result.note
    assert "(75.0% of cases)" in result.note  # 15 of the 20 cases are in the checked variants


def test_no_variants_is_an_empty_result() -> None:
    result = align_variants([], REFERENCE_MODEL)
    assert (result.variants_checked, result.fitness, result.capped) == (0, None, False)
    assert result.note == "no variants to align"


def test_conformance_aligns_the_most_frequent_variants_only() -> None:
    rows = []
    for case, trace in [("a", HAPPY), ("b", HAPPY), ("c", OUT_OF_ORDER), ("d", UNFINISHED)]:
        rows += [
            (case, act, pd.Timestamp("2024-01-01") + pd.Timedelta(hours=i), None, i)
            for i, act in enumerate(trace)
        ]
    frame = pd.DataFrame(rows, columns=["case_id", "activity", "ts", "resource", "event_order"])
    con = duckdb.connect()
    checked = conformance(con, stage_frame(con, frame), variant_cap=2)

    aligned = checked.alignments
    assert aligned is not None
    assert [c.variant_rank for c in aligned.checks] == [1, 2]  # of 3 variants
    assert aligned.checks[0].activities == HAPPY and aligned.checks[0].cases == 2
    assert (aligned.cases_covered, aligned.cases_total) == (3, 4)
    deviating_rank = aligned.checks[1].variant_rank
    assert checked.alignment_cases == [
        {
            "variant_rank": deviating_rank,
            "case_id": "c" if aligned.checks[1].activities == OUT_OF_ORDER else "d",
        }
    ]


def test_mine_warehouse_writes_alignment_tables(billops_home: Settings) -> None:
    with connect(billops_home) as con:
        con.execute(
            "create schema if not exists marts; create table marts.billing_event_log ("
            "case_id varchar, activity varchar, ts timestamp, event_order bigint)"
        )
        rows = []
        for case, trace in [("A1", HAPPY), ("A2", HAPPY), ("A3", OUT_OF_ORDER)]:
            rows += [
                (case, a, pd.Timestamp("2024-01-01") + pd.Timedelta(hours=k), k)
                for k, a in enumerate(trace)
            ]
        con.executemany("insert into marts.billing_event_log values (?, ?, ?, ?)", rows)
    mine_warehouse(billops_home)
    with duckdb.connect(str(billops_home.warehouse), read_only=True) as con:
        summary = con.execute(
            "select variants_checked, variants_aligned, cases_covered, deviating_cases, capped "
            "from pm.alignment_summary"
        ).fetchall()
        variants = con.execute(
            "select variant_rank, cases, method, log_moves > 0 "
            "from pm.alignments order by variant_rank"
        ).fetchall()
        moves = con.execute(
            "select activity from pm.alignment_moves where move = 'log' order by activity"
        ).fetchall()
        cases = con.execute("select variant_rank, case_id from pm.alignment_cases").fetchall()
    assert summary == [(2, 2, 3, 1, False)]
    assert variants == [(1, 2, "alignment", False), (2, 1, "alignment", True)]
    assert moves == [("CHARGE_POSTED",), ("FOO",)]
    assert cases == [(2, "A3")]
