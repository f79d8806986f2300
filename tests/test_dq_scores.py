"""Quality scores per source and day (formula in docs/data-quality.md) and open-break streaks."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from expectations.breaks import refresh_breaks
from expectations.results_store import EXPECTATION_COLUMNS, ensure_tables
from expectations.scores import CRITICAL_WEIGHT, grade, refresh_scores

DAY1, DAY2 = datetime(2026, 11, 1, 2), datetime(2026, 11, 2, 2)


def _con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    ensure_tables(con)
    return con


def _add(
    con: duckdb.DuckDBPyConnection,
    run: str,
    as_of: datetime,
    evaluated: datetime,
    rule: str,
    severity: str,
    success: bool,
    percent: float | None = 0.0,
    source: str = "ehr",
    error: str | None = None,
) -> None:
    row = dict.fromkeys(EXPECTATION_COLUMNS)
    row.update(
        run_id=run,
        suite=f"raw_{source}",
        data_asset="raw.t",
        source=source,
        layer="raw",
        rule=rule,
        severity=severity,
        owner_team="BILLING",
        success=success,
        unexpected_percent=percent,
        unexpected_count=0 if success else 3,
        error=error,
        as_of=as_of,
        evaluated_at=evaluated,
        unexpected_sample="[]",
    )
    marks = ", ".join("?" for _ in row)
    con.execute(
        f"insert into dq.expectation_results ({', '.join(row)}) values ({marks})",
        list(row.values()),
    )


def _scores(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], tuple]:
    refresh_scores(con)
    rows = con.execute(
        "select source, day, score, trend, grade, critical_failed from dq.quality_scores"
    ).fetchall()
    return {(s, str(d)): (score, trend, g, c) for s, d, score, trend, g, c in rows}


def test_score_weighs_critical_failures_and_tracks_the_trend() -> None:
    con = _con()
    for rule in ("a", "b", "c"):
        _add(con, "r1", DAY1, DAY1, rule, "warning", True)
    _add(con, "r1", DAY1, DAY1, "k", "critical", True)
    # day 2: the critical rule fails on 10 % of rows, one warning fails on 90 %
    for rule in ("a", "b"):
        _add(con, "r2", DAY2, DAY2, rule, "warning", True)
    _add(con, "r2", DAY2, DAY2, "c", "warning", False, 90.0)
    _add(con, "r2", DAY2, DAY2, "k", "critical", False, 10.0)
    scores = _scores(con)
    assert scores[("ehr", "2026-11-01")] == (100.0, None, "A", 0)
    total = 3 + CRITICAL_WEIGHT
    expected = round(100 * (2 + 0.1 + CRITICAL_WEIGHT * 0.5) / total, 2)  # failures cap at 0.5
    score, trend, letter, critical = scores[("ehr", "2026-11-02")]
    assert (score, trend, critical) == (expected, round(expected - 100.0, 2), 1)
    assert letter == grade(expected, 1) == ("C" if expected >= 70 else "D")


def test_latest_run_of_a_day_wins_and_errors_earn_nothing() -> None:
    con = _con()
    _add(con, "r1", DAY1, DAY1, "k", "critical", False, None, error="cannot read")
    _add(con, "r1", DAY1, DAY1, "w", "warning", True)
    assert _scores(con)[("ehr", "2026-11-01")][0] == round(100 * 1 / (CRITICAL_WEIGHT + 1), 2)
    _add(con, "r2", DAY1, datetime(2026, 11, 1, 9), "k", "critical", True)
    assert _scores(con)[("ehr", "2026-11-01")][:3] == (100.0, None, "A")


@pytest.mark.parametrize(
    ("score", "critical", "letter"),
    [
        (100.0, 0, "A"),
        (95.0, 0, "A"),
        (94.99, 0, "B"),
        (85.0, 0, "B"),
        (70.0, 0, "C"),
        (50.0, 0, "D"),
        (49.9, 0, "F"),
        (99.0, 1, "C"),
        (60.0, 2, "D"),
        (10.0, 1, "F"),
    ],
)
def test_grade_floors_and_the_critical_cap(score: float, critical: int, letter: str) -> None:
    assert grade(score, critical) == letter


def test_sql_grades_agree_with_the_python_grade() -> None:
    con = _con()
    # ten days with 0..9 failing warnings of 10, and a failing critical on odd days
    for day in range(1, 11):
        at = datetime(2026, 10, day, 2)
        for i in range(10):
            _add(
                con,
                f"r{day}",
                at,
                at,
                f"w{i}",
                "warning",
                i >= day - 1,
                0.0 if i >= day - 1 else 40.0,
            )
        _add(con, f"r{day}", at, at, "k", "critical", day % 2 == 0, 0.0 if day % 2 == 0 else 2.0)
    refresh_scores(con)
    rows = con.execute("select score, critical_failed, grade from dq.quality_scores").fetchall()
    assert len(rows) == 10 and len({g for _, _, g in rows}) >= 3
    assert all(letter == grade(score, critical) for score, critical, letter in rows)


def test_break_streak_restarts_after_a_pass() -> None:
    con = _con()
    con.execute("create schema if not exists marts")
    times = [datetime(2026, 11, d, 3) for d in (1, 2, 3, 4)]
    for t, ok in zip(times, (False, True, False, False), strict=True):
        _add(con, f"r{t.day}", t, t, "k", "critical", ok, 0.0 if ok else 5.0)
    _add(con, "r4", times[3], times[3], "w", "warning", True)
    assert refresh_breaks(con) == 1
    row = con.execute(
        "select rule, first_failed_at, last_checked_at, runs_failing, owner_team, "
        "status from marts.dq_breaks"
    ).fetchone()
    assert row == ("k", times[2], times[3], 2, "BILLING", "OPEN")
    _add(con, "r5", times[3], datetime(2026, 11, 5), "k", "critical", True)
    assert refresh_breaks(con) == 0
