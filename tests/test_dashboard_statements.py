"""The Statements page in-process (AppTest) over the shared dashboard snapshot
(tests/dashboard_fixtures.py, which carries marts.fct_statement_release)."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from billops.config import get_settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dashboard_fixtures import build_snapshot


def _page() -> None:
    from dashboards.views import statements

    statements.render()


@pytest.fixture()
def serving(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BILLOPS_HOME", str(tmp_path))
    return Path(get_settings(fresh=True).serving)  # type: ignore[arg-type]


def _run() -> AppTest:
    return AppTest.from_function(_page, default_timeout=30).run()


def test_statements_page_shows_released_and_held_dollars_by_reason_and_queue(serving: Path) -> None:
    build_snapshot(serving)
    at = _run()

    assert not at.exception and not at.error and not at.warning
    assert at.title[0].value == "Statements"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Due"] == "$255.50"
    assert metrics["Released"] == "$59.75"
    assert metrics["Held"] == "$195.75"
    assert (metrics["Statements due"], metrics["Statements released"],
            metrics["Statements held"]) == ("5", "2", "3")
    by_reason, by_queue, hold_list = (frame.value for frame in at.dataframe)
    reasons = dict(zip(by_reason["Reason"], by_reason["Statements"], strict=True))
    assert reasons == {"BALANCE_DOES_NOT_TIE": 2, "COVERAGE_CHANGED": 1, "OPEN_CREDIT_BALANCE": 1}
    queues = dict(zip(by_queue["Queue"], by_queue["Amount"], strict=True))
    assert queues == {"PATIENT_ACCESS": "$125.50", "BILLING": "$70.25"}
    assert list(hold_list["Statement"]) == ["ST-2", "ST-3", "ST-5"]


def test_statements_page_with_nothing_held_says_so(serving: Path) -> None:
    build_snapshot(serving)
    with duckdb.connect(str(serving)) as con:
        con.execute("delete from marts.fct_statement_release where decision = 'HOLD'")
    at = _run()
    assert not at.exception
    assert "nothing is held" in at.success[0].value


def test_snapshot_without_the_gate_says_what_to_run(serving: Path) -> None:
    build_snapshot(serving)
    with duckdb.connect(str(serving)) as con:
        con.execute("drop table marts.fct_statement_release")
    at = _run()
    assert not at.exception
    assert "fct_statement_release" in at.warning[0].value


def test_statements_page_is_in_the_app_navigation() -> None:
    from dashboards.navigation import pages_for
    from dashboards.session import SignedIn
    from dashboards.views import statements

    for role in ("analyst", "billing_specialist", "approver", "admin"):
        pages = pages_for(SignedIn("x", role), ["billing_specialist"])
        assert [p.render for p in pages if p.url_path == "statements"] == [statements.render]
