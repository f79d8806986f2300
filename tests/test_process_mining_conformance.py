"""Conformance against the shipped reference model: fitness, precision, deviations and how."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from billops.config import Settings
from billops.warehouse import connect
from process_mining.conformance import REFERENCE_MODEL, check_traces, conformance
from process_mining.discovery import import_pm4py
from process_mining.event_log import stage_frame
from process_mining.mine import mine_warehouse

HAPPY = [
    "REGISTERED",
    "ELIGIBILITY_CHECKED",
    "CHARGE_POSTED",
    "CHARGE_POSTED",
    "CLAIM_CREATED",
    "CLAIM_SUBMITTED",
    "CLAIM_REJECTED",
    "CLAIM_SUBMITTED",
    "REMIT_RECEIVED",
    "DENIED",
    "APPEALED",
    "REMIT_RECEIVED",
    "PAYMENT_POSTED",
    "GL_POSTED",
    "STATEMENT_SENT",
    "STATEMENT_SENT",
    "PATIENT_PAID",
    "CLOSED",
]


def test_reference_model_is_a_workflow_net_with_one_transition_per_activity() -> None:
    pm4py = import_pm4py()
    net, initial, final = pm4py.read_pnml(str(REFERENCE_MODEL))
    labels = [t.label for t in net.transitions if t.label]
    assert len(labels) == len(set(labels)) == 20  # the event log's twenty activities
    assert len(initial) == 1 and len(final) == 1
    assert pm4py.check_soundness(net, initial, final)[0]


def test_fitting_and_deviating_cases() -> None:
    result = check_traces(
        [
            ("fits", HAPPY),
            ("claim-before-charge", ["REGISTERED", "CLAIM_SUBMITTED", "CHARGE_POSTED", "FOO"]),
            ("unfinished", HAPPY[:3]),
        ]
    )
    assert result.cases_checked == 3
    assert 0 < result.fitness < 1 and 0 < result.precision <= 1
    how = {d.case_id: d.how for d in result.deviations}
    assert set(how) == {"claim-before-charge", "unfinished"}
    assert "unexpected: CLAIM_SUBMITTED" in how["claim-before-charge"]
    assert "not in the model: FOO" in how["claim-before-charge"]
    assert how["unfinished"] == "ends before the process completes"
    assert result.deviations[0].case_id == "claim-before-charge"  # worst fitness first
    assert check_traces([("fits", HAPPY)]).fitness == pytest.approx(1.0)


def test_temporal_profile_flags_the_slow_case() -> None:
    steps = [
        "REGISTERED",
        "CHARGE_POSTED",
        "CLAIM_CREATED",
        "CLAIM_SUBMITTED",
        "REMIT_RECEIVED",
        "PAYMENT_POSTED",
        "CLOSED",
    ]
    rows = []
    for i in range(30):
        hours = 400 if i == 7 else 1  # case c7 waits far longer between every step
        for k, activity in enumerate(steps):
            rows.append(
                (
                    f"c{i}",
                    activity,
                    pd.Timestamp("2024-01-01") + pd.Timedelta(hours=k * hours),
                    None,
                    len(rows),
                )
            )
    frame = pd.DataFrame(rows, columns=["case_id", "activity", "ts", "resource", "event_order"])
    with duckdb.connect() as con:
        result = conformance(con, stage_frame(con, frame))
    assert result.fitness == pytest.approx(1.0) and result.deviations == []
    assert result.temporal and {d["case_id"] for d in result.temporal} == {"c7"}
    assert all(d["zeta"] > 3 for d in result.temporal)


def test_mine_warehouse_writes_conformance_tables(billops_home: Settings) -> None:
    with connect(billops_home) as con:
        con.execute(
            "create schema if not exists marts; create table marts.billing_event_log ("
            "case_id varchar, activity varchar, ts timestamp, event_order bigint)"
        )
        rows = [
            ("A1", a, pd.Timestamp("2024-01-01") + pd.Timedelta(hours=k), k)
            for k, a in enumerate(HAPPY)
        ]
        rows += [("A2", "CLAIM_SUBMITTED", pd.Timestamp("2024-01-02"), 0)]
        con.executemany("insert into marts.billing_event_log values (?, ?, ?, ?)", rows)
    mine_warehouse(billops_home)
    with duckdb.connect(str(billops_home.warehouse), read_only=True) as con:
        summary = con.execute(
            "select reference, cases_checked, deviating_cases from pm.conformance"
        ).fetchall()
        deviations = con.execute("select case_id from pm.deviations").fetchall()
    assert summary == [("billing_process.pnml", 2, 1)]
    assert deviations == [("A2",)]
