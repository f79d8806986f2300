"""The Data quality page in-process (AppTest) over a serving snapshot built in tmp_path."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from billops.config import get_settings
from expectations.batches import ensure_table as ensure_quality_table
from expectations.breaks import refresh_breaks
from expectations.results_store import EXPECTATION_COLUMNS, ensure_tables
from expectations.scores import refresh_scores

APP = Path(__file__).resolve().parents[1] / "dashboards" / "app.py"


def _page() -> None:
    from dashboards.views import quality

    quality.render()


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BILLOPS_HOME", str(tmp_path))
    get_settings(fresh=True)
    return tmp_path


def _result(
    con: duckdb.DuckDBPyConnection,
    day: int,
    source: str,
    rule: str,
    severity: str,
    team: str,
    success: bool,
    percent: float = 0.0,
) -> None:
    at = datetime(2026, 11, day, 2)
    sample = [] if success else [{"account_id": "A1", "member_id": "***"}]
    row = dict.fromkeys(EXPECTATION_COLUMNS)
    row.update(
        run_id=f"r{day}",
        suite=f"raw_{source}",
        data_asset=f"raw.{source}",
        source=source,
        layer="raw",
        rule=rule,
        severity=severity,
        owner_team=team,
        success=success,
        unexpected_percent=percent,
        unexpected_count=0 if success else 4,
        element_count=400,
        as_of=at,
        evaluated_at=at,
        unexpected_sample=json.dumps(sample),
    )
    con.execute(
        f"insert into dq.expectation_results ({', '.join(row)}) "
        f"values ({', '.join('?' for _ in row)})",
        list(row.values()),
    )


def _snapshot(home: Path, with_results: bool = True) -> None:
    path = Path(get_settings().serving)  # type: ignore[arg-type]
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        ensure_tables(con)
        if with_results:
            for day in (1, 2):
                _result(con, day, "ehr", "hcpcs_format", "critical", "CODING", day == 1, 1.0)
                _result(con, day, "ehr", "gender_allowed", "warning", "PATIENT_ACCESS", True)
                _result(con, day, "erp-gl", "journal_balances", "critical", "FINANCE", True)
                _result(con, day, "erp-gl", "one_side", "warning", "FINANCE", False, 3.0)
        refresh_scores(con)
        refresh_breaks(con)
        con.execute("create schema meta")
        con.execute(
            "create table meta.snapshot as select timestamp '2026-11-02 06:00' "
            "as published_at, timestamp '2026-11-02 02:00' as as_of"
        )


def test_quality_page_shows_grades_trend_breaks_and_the_docs_link(home: Path) -> None:
    _snapshot(home)
    docs = home / "data_docs"
    docs.mkdir()
    (docs / "index.html").write_text("<html></html>")

    at = AppTest.from_function(_page, default_timeout=30).run()

    assert not at.exception and not at.error and not at.warning
    assert at.title[0].value == "Data quality"
    metrics = {m.label: (m.value, m.delta) for m in at.metric}
    # ehr day 2: the critical rule fails (credit 0.5 of weight 5) beside a passing warning
    assert metrics["ehr — grade D"] == ("58.3", "-41.7")
    assert metrics["erp-gl — grade B"] == ("91.7", "+0.0")
    assert metrics["CODING"][0] == "1" and metrics["FINANCE"][0] == "1"
    breaks = at.dataframe[0].value
    assert list(breaks["Owner team"]) == ["CODING", "FINANCE"]
    assert list(breaks["Severity"]) == ["critical", "warning"]
    assert "***" in breaks["Sample (keys, PHI masked)"].iloc[0]
    assert at.get("link_button")[0].proto.url == (docs / "index.html").as_uri()

    at.multiselect(key="dq_teams").select("FINANCE").run()
    assert list(at.dataframe[0].value["Owner team"]) == ["FINANCE"]


def test_the_docs_link_goes_to_the_signed_in_docs_server(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboards.data_docs_server import URL_ENV

    _snapshot(home)
    (home / "data_docs").mkdir()
    (home / "data_docs" / "index.html").write_text("<html></html>")
    monkeypatch.setenv(URL_ENV, "http://127.0.0.1:8502/index.html")
    at = AppTest.from_function(_page, default_timeout=30).run()
    assert at.get("link_button")[0].proto.url == "http://127.0.0.1:8502/index.html"
    assert any("token as the password" in c.value for c in at.caption)


def test_quality_page_lists_the_units_held_back_with_their_dollars(home: Path) -> None:
    _snapshot(home)
    path = Path(get_settings().serving)  # type: ignore[arg-type]
    with duckdb.connect(str(path)) as con:
        con.execute("""create table marts.dq_quarantine as select * from (values
            ('HELD', 'CASH_POSTING', 'rcm', '20261102T030000Z', '835/r.x12', 'transaction_set',
             'T1', 'raw_x12_remittances.bpr_equals_claims_minus_plb', 'x', 100.00, 3,
             timestamp '2026-11-02 03:00', null::timestamp, null::varchar),
            ('RELEASED', 'FINANCE', 'erp', '20261101T030000Z', 'gl.csv', 'journal', 'J1',
             'raw_gl_journal_lines.account_in_chart', 'y', 50.00, 2,
             timestamp '2026-11-01 03:00', timestamp '2026-11-02 03:00', 'passes now'))
            t(status, owner_team, system, batch_id, file, unit, unit_key, rule, reason, amount,
              rows_held, first_seen_at, released_at, release_reason)""")

    at = AppTest.from_function(_page, default_timeout=30).run()

    assert not at.exception and not at.error
    assert "Held back from the marts" in [h.value for h in at.subheader]
    held = at.dataframe[0].value
    assert list(held["Status"]) == ["HELD", "RELEASED"]
    assert list(held["Unit key"]) == ["T1", "J1"]
    assert any(m.label == "CASH_POSTING" and m.value == "1" for m in at.metric)


def test_quality_page_without_results_says_what_to_run(home: Path) -> None:
    at = AppTest.from_function(_page, default_timeout=30).run()
    assert not at.exception
    assert "No serving snapshot" in at.info[0].value

    _snapshot(home, with_results=False)
    at = AppTest.from_function(_page, default_timeout=30).run()
    assert not at.exception
    assert "No data-quality results" in at.info[0].value
    assert "Data Docs have not been built" in at.caption[1].value


def test_quality_page_is_in_the_app_navigation() -> None:
    from dashboards.navigation import pages_for
    from dashboards.session import SignedIn
    from dashboards.views import quality

    assert "pages_for(" in APP.read_text()
    for role in ("analyst", "billing_specialist", "approver", "admin"):
        pages = pages_for(SignedIn("x", role), ["billing_specialist"])
        assert [p.render for p in pages if p.url_path == "quality"] == [quality.render]


def test_quality_page_shows_failed_and_waived_batches_with_who_waived_them(home: Path) -> None:
    _snapshot(home)
    path = Path(get_settings().serving)  # type: ignore[arg-type]
    with duckdb.connect(str(path)) as con:
        ensure_quality_table(con)
        con.executemany(
            "insert into dq.batch_quality (system, batch_id, dq_status, run_id, critical_failed, "
            "warning_failed, reason, checked_at, actor) values (?, ?, ?, 'r', 0, 0, ?, ?, ?)",
            [
                ["erp", "20261101T030000Z", "FAILED", "journal_balances", "2026-11-01 04:00", None],
                ["erp", "20261101T030000Z", "WAIVED", "waived: booked by hand",
                 "2026-11-01 09:00", "pat.finance"],
                ["rcm", "20261101T030000Z", "PASSED", None, "2026-11-01 04:00", None],
                ["ehr", "20261102T030000Z", "FAILED", "schema", "2026-11-02 04:00", None],
            ],
        )

    at = AppTest.from_function(_page, default_timeout=30).run()

    assert not at.exception and not at.error
    assert "Batch verdicts and waivers" in [h.value for h in at.subheader]
    verdicts = next(d.value for d in at.dataframe if "Waived by" in d.value.columns)
    assert list(zip(verdicts["System"], verdicts["Status"], strict=True)) == [
        ("ehr", "FAILED"), ("erp", "WAIVED")]
    assert list(verdicts["Waived by"].fillna("")) == ["", "pat.finance"]
    assert any(m.label == "Waived" and m.value == "1" for m in at.metric)
