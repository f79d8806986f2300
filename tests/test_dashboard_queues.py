"""The Work queues page in-process (AppTest) over a serving snapshot carrying
marts.fct_work_queue_daily (the shared dashboard snapshot plus the queue metrics)."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from billops.config import get_settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dashboard_fixtures import build_snapshot

_DDL = """
create table marts.fct_work_queue_daily (
    as_of_date date, day_as_of timestamp, queue varchar, owner_team varchar, open_items integer,
    opened integer, resolved integer, auto_resolved integer, dismissed integer,
    median_age_days decimal(10, 2), max_age_days decimal(10, 2), breached_open integer,
    resolved_late integer, sla_breaches integer, resolved_first_pass integer,
    first_pass_resolution_rate decimal(6, 4)
)
"""
ROWS = [
    ("2026-09-01", "2026-09-01 06:00:00", "BILLING", "BILLING", 5, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, None),
    ("2026-09-02", "2026-09-02 06:00:00", "BILLING", "BILLING", 3, 1, 2, 1, 0, 1, 1, 1, 0, 1, 1, 0.5),
    ("2026-09-02", "2026-09-02 06:00:00", "FINANCE", "CASH_POSTING", 1, 0, 2, 0, 0, 4, 4, 1, 1, 2, 2, 1),
]


def _page() -> None:
    from dashboards.views import queues

    queues.render()


@pytest.fixture()
def serving(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BILLOPS_HOME", str(tmp_path))
    path = build_snapshot(Path(get_settings(fresh=True).serving))  # type: ignore[arg-type]
    with duckdb.connect(str(path)) as con:
        con.execute(_DDL)
        con.executemany(f"insert into marts.fct_work_queue_daily values ({', '.join('?' * 16)})",
                        ROWS)
    return path


def _run() -> AppTest:
    return AppTest.from_function(_page, default_timeout=30).run()


def test_queues_page_shows_the_latest_days_counts_by_queue_and_team(serving: Path) -> None:
    at = _run()
    assert not at.exception and not at.error and not at.warning
    assert at.title[0].value == "Work queues"
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Open items"], metrics["Opened"], metrics["Resolved"],
            metrics["SLA breaches"], metrics["First-pass rate"]) == ("4", "1", "4", "3", "75%")
    table = at.dataframe[0].value
    assert list(table["Queue"]) == ["BILLING", "FINANCE"]
    assert list(table["Open"]) == [3, 1]
    assert list(table["First-pass rate"]) == ["50%", "100%"]


def test_snapshot_without_the_mart_says_what_to_run(serving: Path) -> None:
    with duckdb.connect(str(serving)) as con:
        con.execute("drop table marts.fct_work_queue_daily")
    at = _run()
    assert not at.exception
    assert "fct_work_queue_daily" in at.warning[0].value


def test_an_empty_mart_says_so(serving: Path) -> None:
    with duckdb.connect(str(serving)) as con:
        con.execute("delete from marts.fct_work_queue_daily")
    at = _run()
    assert not at.exception
    assert "no work item has been synced yet" in at.info[0].value


def test_queues_page_is_in_the_app_navigation() -> None:
    from dashboards.navigation import pages_for
    from dashboards.session import SignedIn
    from dashboards.views import queues

    for role in ("analyst", "billing_specialist", "approver", "admin"):
        pages = pages_for(SignedIn("x", role), ["billing_specialist"])
        assert [p.render for p in pages if p.url_path == "queues"] == [queues.render]
