"""The Process page (AppTest) on a tiny snapshot mined by the real ``mine_warehouse``."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from billops.config import get_settings
from billops.warehouse import connect
from process_mining.mine import mine_warehouse

STEPS = [
    "REGISTERED",
    "CHARGE_POSTED",
    "CLAIM_CREATED",
    "CLAIM_SUBMITTED",
    "REMIT_RECEIVED",
    "PAYMENT_POSTED",
    "CLOSED",
]
# case, entity, payer, start, days from charge to claim submission (billing window: 7 days)
CASES = [
    ("A1", "HOSP-A", "PAYER-1", "2025-01-03", 2),
    ("A2", "HOSP-A", "PAYER-2", "2025-01-10", 12),
    ("A3", "HOSP-A", "PAYER-1", "2025-02-02", 3),
    ("B1", "HOSP-B", "PAYER-2", "2025-01-15", 20),
    ("B2", "HOSP-B", "PAYER-1", "2025-02-20", 1),
]


def _events() -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    order = 0
    for case, entity, payer, start, billing_days in CASES:
        ts = pd.Timestamp(start)
        steps = STEPS if case != "B2" else [*STEPS[:3], "CLAIM_CREATED", *STEPS[3:]]  # rework
        for step in steps:
            ts += (
                pd.Timedelta(days=billing_days)
                if step == "CLAIM_SUBMITTED"
                else pd.Timedelta(hours=5)
            )
            order += 1
            rows.append((case, step, ts.to_pydatetime(), "user", "rcm", entity, payer, 0.0, order))
    return rows


@pytest.fixture(scope="module")
def mined_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with a small event log, mined, and copied as a serving snapshot."""
    home = tmp_path_factory.mktemp("mined")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BILLOPS_HOME", str(home))
        settings = get_settings(fresh=True)
        with connect(settings) as con:
            con.execute("create schema if not exists marts")
            con.execute(
                "create table marts.billing_event_log (case_id varchar, activity "
                "varchar, ts timestamp, resource varchar, source_system varchar, "
                "entity varchar, payer_id varchar, amount double, event_order bigint)"
            )
            con.executemany(
                "insert into marts.billing_event_log values (?, ?, ?, ?, ?, ?, ?, ?, ?)", _events()
            )
        mine_warehouse(settings)
        snapshot = Path(str(settings.warehouse))
    get_settings(fresh=True)
    return snapshot


@pytest.fixture()
def serving(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("BILLOPS_HOME", str(tmp_path))
    path = Path(get_settings(fresh=True).serving)  # type: ignore[arg-type]
    yield path
    get_settings(fresh=True)


def _page() -> None:
    from dashboards.views import process

    process.render()


def _run() -> AppTest:
    return AppTest.from_function(_page, default_timeout=60).run()


def _publish(snapshot: Path, serving: Path) -> None:
    serving.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(snapshot, serving)


def _dot(at: AppTest) -> str:
    [chart] = at.get("graphviz_chart")
    return chart.proto.spec


def _table(at: AppTest, column: str) -> pd.DataFrame:
    return next(df.value for df in at.dataframe if column in df.value.columns)


def test_process_page_shows_map_variants_bottlenecks_and_conformance(
    mined_snapshot: Path, serving: Path
) -> None:
    _publish(mined_snapshot, serving)
    at = _run()

    assert not at.exception and not at.error
    assert at.title[0].value == "Process"
    assert {m.label: m.value for m in at.metric}.items() >= {
        "Cases": "5",
        "Events": "36",
        "Activities": "7",
        "Variants": "2",
    }.items()
    assert "Token-replay fitness" in [m.label for m in at.metric]
    assert "Alignment fitness" in [m.label for m in at.metric]

    frequency = _dot(at)
    assert frequency.startswith("digraph dfg") and "REGISTERED\\n5" in frequency
    at.radio(key="process_view").set_value("Performance").run()
    performance = _dot(at)
    assert performance != frequency and "p90" in performance

    variants = _table(at, "Activities")
    assert list(variants["Cases"]) == [4, 1] and list(variants["Share"]) == ["80.0%", "20.0%"]
    bottlenecks = _table(at, "Total wait")
    assert bottlenecks.iloc[0][["From", "To"]].tolist() == ["CLAIM_CREATED", "CLAIM_SUBMITTED"]
    behind = _table(at, "Wait")
    assert list(behind["Case"])[:2] == ["B1", "A2"]  # longest waits first
    rework = next(
        df.value for df in at.dataframe if list(df.value.columns) == ["Activity", "Cases"]
    )
    assert rework.to_dict("records") == [{"Activity": "CLAIM_CREATED", "Cases": 1}]
    breaches = _table(at, "Still open")
    assert set(breaches["Case"]) == {"A2", "B1"}


def test_filters_narrow_segments_and_case_lists(mined_snapshot: Path, serving: Path) -> None:
    _publish(mined_snapshot, serving)
    at = _run()
    assert at.multiselect(key="process_entity").options == ["HOSP-A", "HOSP-B"]
    assert at.multiselect(key="process_month").options == ["2025-01", "2025-02"]

    at.multiselect(key="process_entity").set_value(["HOSP-B"]).run()
    assert not at.exception
    assert set(_table(at, "Still open")["Case"]) == {"B1"}
    segments = _table(at, "Median duration")
    assert set(zip(segments["Dimension"], segments["Segment"], strict=True)) == {
        ("all", "all"),
        ("entity", "HOSP-B"),
    }
    assert list(_table(at, "Wait")["Case"]) == ["B1", "B2"]  # the A cases are filtered out
    in_segment = _table(at, "Rank in segment")
    assert in_segment[["Segment", "Cases", "Share"]].values.tolist() == [
        ["HOSP-B", 1, "50.0%"],
        ["HOSP-B", 1, "50.0%"],
    ]

    at.multiselect(key="process_entity").set_value(["HOSP-A"])
    at.multiselect(key="process_month").set_value(["2025-02"]).run()
    assert any("No breaching case matches the filters." in c.value for c in at.caption)


def test_snapshot_without_pm_tables_says_what_to_run(serving: Path) -> None:
    serving.parent.mkdir(parents=True)
    with duckdb.connect(str(serving)) as con:
        con.execute("create schema marts; create table marts.x (a int)")
    at = _run()
    assert not at.exception and not at.error
    [info] = at.info
    assert info.value.startswith("No process-mining results in the serving snapshot")
    assert "`billops mine`" in info.value and "`billops publish`" in info.value
    assert not at.metric and not at.get("graphviz_chart")


def test_missing_snapshot_says_what_to_run(serving: Path) -> None:
    at = _run()
    assert not at.exception
    [info] = at.info
    assert info.value.startswith(f"No serving snapshot at {serving}.")
