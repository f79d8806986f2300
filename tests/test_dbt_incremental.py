"""The warehouse on generated data: incremental runs equal a full refresh, the AR roll-forward's
variance is explained to the cent, and detection scores against the generator's truth.

A tiny system is generated with daily batches. The nightly batches before the last day's intraday
extracts are loaded and built; then the intraday extracts are loaded and folded in by the intraday
run (`transform_intraday`: the facts and the tables they read, no tests, no unchanged views), and
the final nightly batch by a nightly build; both rebuild only what their batches touch. A copy of
that warehouse is then built with --full-refresh, and every mart must hold the same rows in both.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from billops.config import Settings, get_settings
from billops.ingest import ingest
from billops.scorecard import scorecard
from billops.synth import generate
from billops.transform import TransformResult, transform, transform_intraday

pytestmark = pytest.mark.integration  # generates, ingests and runs dbt four times (minutes)

SEED = 11
CASH_DEFECTS = {"REMIT_NOT_IN_GL": 0.03, "GL_AMOUNT_MISMATCH": 0.03}
INCREMENTAL_MODELS = (
    "fct_charges",
    "fct_claims",
    "fct_claim_lines",
    "fct_remittance_claims",
    "fct_remittance_service_lines",
    "fct_remittance_adjustments",
    "billing_event_log",
)
# The touched-key tables the facts read: incremental too, on their own newest touch.
TOUCHED_MODELS = ("int_touched_accounts", "int_touched_traces")


@dataclass
class Runs:
    settings: Settings
    first: TransformResult
    intraday: TransformResult
    incremental: TransformResult
    full_refresh: TransformResult
    full_refresh_warehouse: Path
    intraday_batches: int
    # nodes in target/run_results.json after the intraday run (it writes no artifacts)
    run_results_nodes_after_intraday: int
    incremental_sql: dict[str, tuple[str, str]]  # model -> (compiled select, executed SQL)


def _split(landing: Path) -> tuple[list[Path], list[Path], list[Path]]:
    """(history, intraday, final): per system, the batches before its first intraday extract, the
    intraday extracts, and the nightly batches that follow them. Nightly batches share one time
    of day; an intraday batch is one at another time."""
    history, intraday, final = [], [], []
    for system in sorted(p for p in landing.iterdir() if p.is_dir()):
        batches = sorted(p for p in system.iterdir() if p.is_dir())
        times = Counter(b.name[9:] for b in batches)
        nightly = times.most_common(1)[0][0]
        extracts = [b.name for b in batches if b.name[9:] != nightly]
        first = min(extracts) if extracts else None
        for b in batches:
            if first is None or b.name < first:
                history.append(b)
            else:
                (intraday if b.name[9:] != nightly else final).append(b)
    return history, intraday, final


def _land(batches: list[Path], landing: Path) -> None:
    for batch in batches:
        shutil.copytree(batch, landing / batch.parent.name / batch.name)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    generated = tmp_path_factory.mktemp("generated")
    home = tmp_path_factory.mktemp("home")
    # cash posted by billing but missing or wrong in the GL, so the AR roll-forward has a
    # variance to explain whatever the seed draws
    generate(generated, scale="tiny", seed=SEED, cadence="daily", defect_rates=CASH_DEFECTS)
    daily, intraday, final = _split(generated / "landing")
    assert daily and len(intraday) > 3 and final
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BILLOPS_HOME", str(home))
        settings = get_settings(fresh=True)
        _land(daily, settings.landing)
        ingest(settings=settings)
        first = transform(settings=settings)
        _land(intraday, settings.landing)
        ingest(settings=settings)
        intraday_run = transform_intraday(settings=settings)
        target = home / "dbt" / "target"
        run_results_nodes = len(json.loads((target / "run_results.json").read_text())["results"])
        folders = {**{n: "marts" for n in INCREMENTAL_MODELS},
                   **{n: "intermediate/incremental" for n in TOUCHED_MODELS}}
        incremental_sql = {
            name: tuple(
                (target / kind / "billops" / "models" / folder / f"{name}.sql").read_text()
                for kind in ("compiled", "run")
            )
            for name, folder in folders.items()
        }
        _land(final, settings.landing)
        ingest(settings=settings)
        incremental = transform(settings=settings)

        copy = home / "warehouse" / "full_refresh.duckdb"
        shutil.copyfile(settings.warehouse, copy)
        refreshed = settings.model_copy(update={"warehouse": copy})
        full_refresh = transform(settings=refreshed, full_refresh=True)
        shutil.copytree(generated / "truth", home / "truth")
        yield Runs(
            settings,
            first,
            intraday_run,
            incremental,
            full_refresh,
            copy,
            len(intraday),
            run_results_nodes,
            incremental_sql,
        )
    get_settings(fresh=True)


def test_incremental_facts_are_incremental(runs: Runs) -> None:
    manifest = (runs.settings.home / "dbt" / "target" / "manifest.json").read_text()
    nodes = json.loads(manifest)["nodes"]
    for name in (*INCREMENTAL_MODELS, *TOUCHED_MODELS):
        config = nodes[f"model.billops.{name}"]["config"]
        assert config["materialized"] == "incremental", name
        assert config["incremental_strategy"] == "delete+insert", name


def test_incremental_run_equals_full_refresh(runs: Runs) -> None:
    with duckdb.connect(str(runs.settings.warehouse), read_only=True) as con:
        con.execute(f"attach '{runs.full_refresh_warehouse}' as refreshed (read_only)")
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where database_name = 'billops' "
                "and schema_name = 'marts' order by 1"
            ).fetchall()
        ]
        assert set(INCREMENTAL_MODELS) <= set(tables)
        for table in tables:
            columns = ", ".join(
                r[0]
                for r in con.execute(
                    "select column_name from duckdb_columns() where database_name = 'billops' "
                    f"and schema_name = 'marts' and table_name = '{table}' order by column_index"
                ).fetchall()
            )
            ours = f"select {columns} from billops.marts.{table}"
            theirs = f"select {columns} from refreshed.marts.{table}"
            counts = tuple(
                con.execute(f"select count(*) from ({a} except all {b})").fetchone()[0]
                for a, b in ((ours, theirs), (theirs, ours))
            )
            assert counts == (0, 0), f"marts.{table}: rows only in incremental/full: {counts}"
            total = con.execute(f"select count(*) from billops.marts.{table}").fetchone()[0]
            # no PLB and nothing held back are normal on a clean generated system; the work
            # queues are empty while no sync has opened a work item (this test runs dbt only)
            may_be_empty = ("fct_remittance_plb", "dq_quarantine", "fct_work_queue_daily")
            assert total or table in may_be_empty, f"marts.{table} is empty"


def test_second_run_merged_only_touched_rows(runs: Runs) -> None:
    """The intraday run deleted and re-inserted the touched keys; it did not rebuild the tables."""
    for run in (runs.intraday, runs.incremental):
        statuses = {
            n.unique_id.rsplit(".", 1)[1]: n.status for n in run.nodes if n.resource_type == "model"
        }
        for name in INCREMENTAL_MODELS:
            assert statuses[name] == "success", name
    for name in INCREMENTAL_MODELS:
        compiled, executed = (text.lower() for text in runs.incremental_sql[name])
        # merged into the existing table, not rebuilt whole
        assert "delete from" in executed and "insert into" in executed, name
        # and the rows merged are those of the keys touched after the fact's watermark
        assert f'"marts"."{name}" as built' in compiled, name  # the watermark
        assert '"int_touched_accounts" as touched' in compiled, name
        assert "touched.touched_at >" in compiled, name


def test_touched_keys_are_read_from_what_arrived_after_the_newest_touch(runs: Runs) -> None:
    """The intraday run merges the touched-key tables too: the raw rows and held units it reads
    are those after the newest touch the table already holds (the history is not scanned)."""
    for name in TOUCHED_MODELS:
        compiled, executed = (text.lower() for text in runs.incremental_sql[name])
        assert "delete from" in executed and "insert into" in executed, name
        assert f'"{name}" as kept' in compiled, name
        assert "_loaded_at > (select coalesce(max(kept.touched_at)" in compiled, name


def test_intraday_run_builds_the_facts_and_the_tables_they_read(runs: Runs) -> None:
    """No tests and no unchanged staging view: the nightly build keeps those."""
    built = {
        n.unique_id.split(".")[0] + "." + n.unique_id.rsplit(".", 1)[1] for n in runs.intraday.nodes
    }
    assert {f"model.{name}" for name in INCREMENTAL_MODELS} <= built
    assert {"model.int_touched_accounts", "model.int_touched_traces", "model.int_accounts"} <= built
    assert not any(n.resource_type in ("test", "unit_test") for n in runs.intraday.nodes)
    assert not any(".stg_" in n.unique_id for n in runs.intraday.nodes)
    assert runs.intraday.failed == 0 and runs.intraday.passed == len(runs.intraday.nodes)


def test_intraday_run_leaves_the_whole_builds_artifacts(runs: Runs) -> None:
    """The intraday run writes no manifest.json or run_results.json: target/ keeps the last
    whole build's, and its result comes back in process."""
    assert runs.run_results_nodes_after_intraday == len(runs.first.nodes)
    assert len(runs.intraday.nodes) < len(runs.first.nodes)


def test_ar_variance_is_explained_to_the_cent(runs: Runs) -> None:
    with duckdb.connect(str(runs.settings.warehouse), read_only=True) as con:
        rows = con.execute(
            "select entity, period, variance, explained_by_exceptions, "
            "unexplained_variance from marts.ar_rollforward"
        ).fetchall()
        unexplained_items = con.execute(
            "select count(*) from intermediate.int_ar_reconciling_items where explained_by is null"
        ).fetchone()[0]
    assert rows
    for entity, period, variance, explained, unexplained in rows:
        assert abs(unexplained) <= 0.01, (entity, period, variance, explained)
    assert unexplained_items == 0
    # the generated data has cash exceptions (CASH_DEFECTS), so there is a variance to explain
    assert any(abs(r[2]) > 0.01 for r in rows)


def test_detection_meets_the_scorecard_target(runs: Runs) -> None:
    card = scorecard(runs.settings.home / "truth", settings=runs.settings)
    assert card["overall"]["injected"] > 0
    # an injected type needs precision and recall of 0.98; one with nothing injected, no flag
    misses = {
        t: (s["precision"], s["recall"], s["flagged"])
        for t, s in card["types"].items()
        if (s["scored"] and ((s["precision"] or 0) < 0.98 or s["recall"] < 0.98))
        or (not s["scored"] and s["flagged"])
    }
    assert not misses, misses
