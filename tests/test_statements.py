"""The statement release gate end to end (billops.statements, billops statements; docs/statements.md).

One module fixture generates a tiny two-month system with more statement defects than the default
rates give (STATEMENT_STALE_COVERAGE, CREDIT_BALANCE, PATIENT_BALANCE_MISMATCH: the session
fixture ``phi_system``'s one month carries a single one, too few to check every reason), ingests
and transforms it once. Each test releases into its own folder and operational store.
"""

from __future__ import annotations

import csv
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from billops import ops_store, statements
from billops.cli import main
from billops.config import Settings, get_settings
from billops.errors import BillopsError
from billops.transform import transform
from tests.phi_system import _phi_values

SEED = 7
DEFECT_RATES = {"STATEMENT_STALE_COVERAGE": 0.2, "CREDIT_BALANCE": 0.1, "PATIENT_BALANCE_MISMATCH": 0.2}
# The reason each injected defect must hold its statement for.
REASON_OF_DEFECT = {
    "STATEMENT_STALE_COVERAGE": "OPEN_COVERAGE_EXCEPTION",
    "CREDIT_BALANCE": "OPEN_CREDIT_BALANCE",
    "PATIENT_BALANCE_MISMATCH": "BALANCE_DOES_NOT_TIE",
}


@dataclass(frozen=True)
class GateSystem:
    settings: Settings
    generated: Path

    def mart(self) -> list[tuple]:
        with duckdb.connect(str(self.settings.warehouse), read_only=True) as con:
            return con.execute(
                "select statement_id, account_id, amount_due, decision, hold_reasons, queue "
                "from marts.fct_statement_release order by statement_id").fetchall()


@pytest.fixture(scope="module")
def gate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GateSystem]:
    from billops.ingest import ingest
    from billops.synth import generate

    generated = tmp_path_factory.mktemp("generated_statements")
    home = tmp_path_factory.mktemp("home_statements")
    with pytest.MonkeyPatch.context() as mp:
        for name in [n for n in os.environ if n.startswith("BILLOPS_")]:
            mp.delenv(name)
        mp.setenv("BILLOPS_HOME", str(home))
        settings = get_settings(fresh=True)
        generate(generated, scale="tiny", months=2, seed=SEED, defect_rates=DEFECT_RATES)
        ingest(landing=generated / "landing", settings=settings)
        transform(settings=settings)
        yield GateSystem(settings, generated)
    get_settings(fresh=True)


def _own_store(gate: GateSystem, tmp_path: Path) -> Settings:
    """The system's settings with an operational store of this test's own."""
    return gate.settings.model_copy(update={"ops_url": f"sqlite:///{tmp_path / 'ops.sqlite'}"})


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_released_plus_held_is_due_in_statements_and_dollars(gate: GateSystem, tmp_path: Path) -> None:
    plan = statements.plan_release(_own_store(gate, tmp_path))
    mart = gate.mart()
    assert plan.due.statements == len(mart) > 0
    assert plan.due.amount == sum((r[2] for r in mart), Decimal("0"))
    assert plan.released.statements + plan.held.statements == plan.due.statements
    assert plan.released.amount + plan.held.amount == plan.due.amount
    assert plan.held.statements == sum(1 for r in mart if r[3] == "HOLD") > 0
    assert sum(t.statements for t in plan.held_by_queue.values()) == plan.held.statements
    assert set(plan.held_by_queue) <= {"PATIENT_ACCESS", "BILLING"}
    assert plan.dry_run and plan.release_file is None and not list(tmp_path.glob("*.csv"))


def test_injected_statement_defects_hold_their_statements_for_the_right_reason(gate: GateSystem) -> None:
    by_statement = {r[0]: r for r in gate.mart()}
    by_account = {r[1]: r for r in gate.mart()}
    checked: dict[str, int] = dict.fromkeys(REASON_OF_DEFECT, 0)
    for defect in _read(gate.generated / "truth" / "defects.csv"):
        kind = defect["defect_type"]
        if kind not in REASON_OF_DEFECT:
            continue
        row = by_account.get(defect["account_id"]) if kind == "CREDIT_BALANCE" else (
            by_statement.get(defect["statement_id"]))
        if row is None:  # that statement is not due (superseded, or an earlier cycle's)
            continue
        assert row[3] == "HOLD", (kind, row)
        assert REASON_OF_DEFECT[kind] in row[4].split(","), (kind, row)
        checked[kind] += 1
    assert all(n >= 3 for n in checked.values()), checked


def test_release_writes_owner_only_files_the_ledger_and_one_audit_row(gate: GateSystem, tmp_path: Path) -> None:
    settings = _own_store(gate, tmp_path)
    out = tmp_path / "out"
    summary = statements.release_statements(out, actor="rita", settings=settings)

    mart = gate.mart()
    released = _read(summary.release_file)
    holds = _read(summary.hold_file)
    assert summary.release_file.name == "statement_release_20261201T040000Z.csv"
    assert list(released[0]) == list(statements.RELEASE_COLUMNS)
    assert list(holds[0]) == list(statements.HOLD_COLUMNS)
    assert [r["statement_id"] for r in released] == [r[0] for r in mart if r[3] == "RELEASE"]
    assert {r["statement_id"]: (r["reasons"], r["queue"]) for r in holds} == {
        r[0]: (r[4], r[5]) for r in mart if r[3] == "HOLD"}
    assert sum(Decimal(r["amount"]) for r in released) == summary.released.amount
    for path in (summary.release_file, summary.hold_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary file left

    [audit] = [a for a in ops_store.audit_trail(settings=settings)
               if a["table_name"] == statements.AUDIT_TABLE]
    assert (audit["operation"], audit["actor"]) == ("RELEASE", "rita")
    assert f'"statements": {summary.held.statements}' in audit["detail"]


def test_a_second_release_writes_nothing_already_released(gate: GateSystem, tmp_path: Path) -> None:
    settings = _own_store(gate, tmp_path)
    first = statements.release_statements(tmp_path / "out", actor="rita", settings=settings)
    second = statements.release_statements(tmp_path / "out", actor="rita", settings=settings)

    assert first.released.statements > 0
    assert second.release_file is None and second.released.statements == 0
    assert second.already_released.statements == first.released.statements
    assert second.already_released.amount == first.released.amount
    assert second.held.statements == first.held.statements
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        first.hold_file.name, first.release_file.name]


def test_a_failed_release_file_records_nothing(
    gate: GateSystem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _own_store(gate, tmp_path)
    real = statements._write_atomically

    def failing(path: Path, *args: object, **kwargs: object) -> None:
        if path.name.startswith("statement_release_"):
            raise OSError("disk full")
        real(path, *args, **kwargs)

    monkeypatch.setattr(statements, "_write_atomically", failing)
    with pytest.raises(OSError):
        statements.release_statements(tmp_path / "out", actor="rita", settings=settings)
    monkeypatch.setattr(statements, "_write_atomically", real)
    assert statements.plan_release(settings).already_released.statements == 0
    assert not list((tmp_path / "out").glob("statement_release_*"))


def test_a_release_file_taken_meanwhile_is_never_overwritten(
    gate: GateSystem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _own_store(gate, tmp_path)
    taken = tmp_path / "out" / "statement_release_taken.csv"
    taken.parent.mkdir()
    taken.write_text("another release's file\n")
    monkeypatch.setattr(statements, "_free_path", lambda folder, stem: taken)
    with pytest.raises(BillopsError, match="another release ran at the same time"):
        statements.release_statements(tmp_path / "out", actor="rita", settings=settings)
    assert taken.read_text() == "another release's file\n"
    assert statements.plan_release(settings).already_released.statements == 0


def test_the_files_carry_no_phi(gate: GateSystem, tmp_path: Path) -> None:
    summary = statements.release_statements(
        tmp_path / "out", actor="rita", settings=_own_store(gate, tmp_path))
    landing = gate.generated / "landing"
    phi = _phi_values(landing, as_of_year=2026)
    for path in landing.glob("rcm/*/statements.csv"):
        for row in _read(path):
            phi["patient_id"].add(row["patient_id"])
            if row["member_id_on_file"]:
                phi["member_id"].add(row["member_id_on_file"])
    assert phi["patient_id"] and phi["member_id"] and phi["family_name"]
    for path in (summary.release_file, summary.hold_file):
        cells = {cell for row in csv.reader(path.open(encoding="utf-8")) for cell in row}
        for kind, values in phi.items():
            assert not cells & values, f"{path.name} holds a {kind}"


def test_cli_dry_run_and_release_print_the_counts(
    gate: GateSystem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BILLOPS_HOME", str(gate.settings.home))
    monkeypatch.setenv("BILLOPS_OPS_URL", f"sqlite:///{tmp_path / 'ops.sqlite'}")
    get_settings(fresh=True)
    assert main(["statements", "--json"]) == 0
    assert '"dry_run": true' in capsys.readouterr().out
    assert main(["statements", "--release", "--out", str(tmp_path / "out"), "--by", "rita"]) == 0
    printed = capsys.readouterr().out
    assert "release file" in printed and "hold list" in printed
    assert len(list((tmp_path / "out").glob("*.csv"))) == 2


def test_cli_errors_are_one_line(
    gate: GateSystem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BILLOPS_HOME", str(gate.settings.home))
    monkeypatch.setenv("BILLOPS_OPS_URL", f"sqlite:///{tmp_path / 'ops.sqlite'}")
    get_settings(fresh=True)
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    assert main(["statements", "--release", "--out", str(a_file)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("billops: --out") and "Traceback" not in err

    monkeypatch.setenv("BILLOPS_HOME", str(tmp_path / "empty_home"))
    get_settings(fresh=True)
    assert main(["statements"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "warehouse not found" in err
    get_settings(fresh=True)


def test_a_release_needs_an_actor(gate: GateSystem, tmp_path: Path) -> None:
    with pytest.raises(BillopsError, match="--by"):
        statements.release_statements(tmp_path, actor=" ", settings=_own_store(gate, tmp_path))
