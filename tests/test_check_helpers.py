"""Large checks in helper processes (expectations.parallel) give the outcomes one process gives."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from billops.config import Settings
from billops.ingest import ingest
from billops.synth import generate
from expectations import parallel
from expectations.runner import run_checks, vectorizable
from expectations.suites import RAW_SUITES, SUITES


def test_assign_gives_the_largest_first_to_the_least_loaded_helper() -> None:
    costs = {"a": 10.0, "b": 6.0, "c": 5.0, "d": 4.0, "e": 1.0}
    chosen = parallel.assign(costs, 2)
    load = [sum(c for n, c in costs.items() if chosen[n] == h) for h in (0, 1)]
    assert chosen["a"] != chosen["b"]
    assert sorted(load) == [12.0, 14.0]  # a+d and b+c+e
    assert parallel.assign(costs, 2) == chosen  # the same costs, the same split


def test_only_declared_suites_can_be_handed_over() -> None:
    assert parallel.can_share(RAW_SUITES)
    stranger = dataclasses.replace(SUITES[0], name="not_declared")
    assert not parallel.can_share([*RAW_SUITES[:2], stranger])


def test_vectorizable_keeps_values_and_out_of_range_timestamps() -> None:
    frame = duckdb.sql(
        "select timestamp '2026-10-01 08:30:00' as at, timestamp '0001-01-01' as far, "
        "date '2026-10-01' as day, 7::integer as n, null::integer as maybe, 'x' as text"
    ).df()
    before = frame.copy()
    out = vectorizable(frame)
    assert str(out["at"].dtype) == "datetime64[ns]" and str(out["day"].dtype) == "datetime64[ns]"
    assert out["far"].dtype == before["far"].dtype  # outside the nanosecond range: as read
    assert str(out["n"].dtype) == "int64"
    assert out["maybe"].dtype == before["maybe"].dtype  # nullable: left alone
    for column in before.columns:
        assert out[column].astype(object).tolist() == before[column].astype(object).tolist()


def _duplicate_a_deposit(landing: Path) -> None:
    """The first ERP batch's first bank deposit twice (its manifest updated): raw_bank_deposits'
    ``deposit_id`` uniqueness fails."""
    folder = sorted((landing / "erp").iterdir())[0]
    path = folder / "bank_deposits.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join([*lines, lines[1]]))
    manifest = json.loads((folder / "_manifest.json").read_text())
    for entry in manifest["files"]:
        if entry["path"] == "bank_deposits.csv":
            entry["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
            entry["records"] += 1
    (folder / "_manifest.json").write_text(json.dumps(manifest))


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("check-helpers")
    generate(home, scale="tiny", seed=5)
    _duplicate_a_deposit(home / "landing")
    settings = Settings(home=home)
    ingest(settings=settings)
    return settings


def _essence(summary) -> list[tuple]:
    return [(o.suite, o.rule, o.success, o.element_count, o.unexpected_count,
             o.unexpected_sample, o.error, o.failing_rows) for o in summary.results]


def test_helpers_give_the_outcomes_one_process_gives(loaded: Settings) -> None:
    alone = run_checks(loaded, suites=RAW_SUITES, share=False)
    shared = run_checks(loaded.model_copy(update={"check_share_rows": 0}), suites=RAW_SUITES)
    assert _essence(shared) == _essence(alone)
    failed = {(o.suite, o.rule) for o in shared.results if not o.success}
    assert ("raw_bank_deposits", "deposit_id_unique") in failed
    index = loaded.data_docs / "index.html"
    assert shared.data_docs == str(index)
    # the index lists the suites of both helpers
    page = index.read_text()
    assert all(spec.name in page for spec in RAW_SUITES if spec.name in
               {r.suite for r in shared.results})
    with duckdb.connect(str(loaded.warehouse), read_only=True) as con:
        runs = con.execute(
            "select run_id, count(*) from dq.validation_results group by 1 order by 1").fetchall()
    assert [n for _run, n in runs] == [len({o.suite for o in alone.results})] * 2
