"""dbt project: build a tiny hand-made raw zone and check the reconciliation mart and event log.

The raw zone is written directly as Parquet with the exact columns of billops.raw_schema, so these
tests depend on neither the generator nor the ingest.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from billops.config import Settings, get_settings
from billops.errors import BillopsError
from billops.raw_schema import TABLES, all_columns
from billops.transform import dbt_paths, parse_manifest, transform
from billops.warehouse import connect, refresh_raw_views

pytestmark = pytest.mark.integration  # runs dbt end to end (about 15 s of dbt)

EHR_1, EHR_2, RCM_1, ERP_1 = (
    "20240401T060000Z",
    "20240402T060000Z",
    "20240402T070000Z",
    "20240402T080000Z",
)
AS_OF = datetime(2024, 4, 2, 8, 0)  # the ERP batch: the latest loaded one
RECON_COLUMNS = [
    "account_id",
    "patient_id",
    "entity",
    "facility_id",
    "payer_id",
    "service_date",
    "period",
    "charge_lines",
    "charge_amount",
    "billed_lines",
    "billed_amount",
    "matched_lines",
    "matched_amount",
    "unbilled_lines",
    "unbilled_amount",
    "billed_not_charged_lines",
    "billed_not_charged_amount",
    "variance_amount",
    "claim_count",
    "first_submitted_at",
    "last_submitted_at",
    "secondary_payer_id",
    "payer_paid_amount",
    "primary_paid_amount",
    "secondary_paid_amount",
    "recon_status",
    "as_of",
    "amount_at_risk",
    "age_days",
    "priority_score",
]


def write_raw(settings: Settings, table: str, batch_id: str, rows: list[dict[str, Any]]) -> None:
    """One batch of a raw table as Parquet, typed exactly as the raw-zone contract says."""
    columns = all_columns(table)
    # the 837 and 835 tables of one file share its name: lines find their claim by it
    kind, _, name = TABLES[table].source.partition(":")
    source_file = {"x12": f"{name}/{batch_id}.x12", "ndjson": f"{name}.ndjson"}.get(kind, name)
    folder = settings.raw_zone / table / f"batch_id={batch_id}"
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        con.execute("create table t (" + ", ".join(f"{c} {t}" for c, t in columns.items()) + ")")
        for number, row in enumerate(rows, start=1):
            unknown = set(row) - set(columns)
            assert not unknown, f"{table}: not in the contract: {unknown}"
            values = {
                **row,
                "_batch_id": batch_id,
                "_file": source_file,
                "_record": number,
                "_loaded_at": "2024-04-02 09:00:00",
            }
            con.execute(
                f"insert into t ({', '.join(values)}) values ({', '.join('?' for _ in values)})",
                list(values.values()),
            )
        con.execute(f"copy t to '{folder / 'part-0.parquet'}' (format parquet)")
    finally:
        con.close()


def claim(
    account: str, st: str, submitted: str, freq: str, payer: str = "PAY1", total: float = 0.0
) -> dict[str, Any]:
    return {
        "interchange_control_number": "000000101",
        "st_control_number": st,
        "implementation": "005010X222A1",
        "claim_type": "professional",
        "submitted_at": submitted,
        "payer_id": payer,
        "member_id": "M-" + account,
        "patient_id": "PT-" + account,
        "account_id": account,
        "total_charge": total,
        "claim_frequency_code": freq,
        "statement_from": "2024-03-05",
    }


def line(
    account: str, st: str, number: int, charge_id: str | None, amount: float
) -> dict[str, Any]:
    return {
        "interchange_control_number": "000000101",
        "st_control_number": st,
        "account_id": account,
        "line_number": number,
        "charge_id": charge_id,
        "hcpcs": "G0463",
        "charge_amount": amount,
        "units": 1,
        "service_date": "2024-03-05",
    }


def encounter(account: str, facility: str, start: str) -> dict[str, Any]:
    return {
        "id": account,
        "version_id": "1",
        "status": "finished",
        "class_code": "AMB",
        "patient_id": "PT-" + account,
        "service_provider_id": facility,
        "period_start": start,
        "period_end": start,
    }


def charge(
    charge_id: str, account: str, amount: float, version: str = "1", status: str = "billable"
) -> dict[str, Any]:
    return {
        "id": charge_id,
        "version_id": version,
        "status": status,
        "hcpcs": "G0463",
        "quantity": 1,
        "price_override": amount,
        "occurrence_date": "2024-03-05",
        "entered_date": "2024-03-05 12:00:00",
        "account_id": account,
        "patient_id": "PT-" + account,
    }


def build_raw_zone(settings: Settings) -> None:
    """Accounts: ACC1 tied after a replacement claim, ACC2 unbilled, ACC3 partially billed,
    ACC4 billed at another amount, ACC5 billed a line with no charge, ACC6 no charges at all."""
    write_raw(
        settings,
        "fhir_organization",
        EHR_1,
        [
            {"id": "H1", "type_code": "prov", "name": "Hospital One", "active": True},
            {"id": "CL1", "type_code": "prov", "name": "Clinic One", "part_of_id": "H1"},
            {"id": "PAY1", "type_code": "pay", "name": "Payer One"},
            {"id": "PAY2", "type_code": "pay", "name": "Payer Two"},
        ],
    )
    write_raw(
        settings,
        "fhir_patient",
        EHR_1,
        [
            {
                "id": f"PT-ACC{i}",
                "version_id": "1",
                "family_name": "Doe",
                "given_name": "Pat",
                "birth_date": "1980-01-01",
            }
            for i in range(1, 7)
        ],
    )
    write_raw(
        settings,
        "fhir_coverage",
        EHR_1,
        [
            {
                "id": "CV2",
                "version_id": "1",
                "status": "active",
                "patient_id": "PT-ACC2",
                "payer_id": "PAY1",
                "subscriber_id": "M-ACC2",
                "coverage_order": 1,
                "period_start": "2024-01-01",
            },
        ],
    )
    # a registration update in the next export: a new version with another payer
    write_raw(
        settings,
        "fhir_coverage",
        EHR_2,
        [
            {
                "id": "CV2",
                "version_id": "2",
                "status": "active",
                "patient_id": "PT-ACC2",
                "payer_id": "PAY2",
                "subscriber_id": "M2-ACC2",
                "coverage_order": 1,
                "period_start": "2024-01-01",
            },
        ],
    )
    write_raw(
        settings,
        "fhir_encounter",
        EHR_1,
        [
            encounter("ACC1", "CL1", "2024-03-05 09:00:00"),
            encounter("ACC2", "H1", "2024-03-06 09:00:00"),
            encounter("ACC3", "H1", "2024-03-07 09:00:00"),
            encounter("ACC4", "H1", "2024-03-08 09:00:00"),
            encounter("ACC5", "CL1", "2024-04-01 09:00:00"),
            encounter("ACC6", "H1", "2024-04-01 10:00:00"),
        ],
    )
    write_raw(settings, "fhir_encounter", EHR_2, [encounter("ACC1", "CL1", "2024-03-05 09:00:00")])
    write_raw(
        settings,
        "fhir_charge_item",
        EHR_1,
        [
            charge("CH11", "ACC1", 100),
            # the same code as CH11 at another time of the day: another service, no duplicate
            {**charge("CH12", "ACC1", 45), "occurrence_at": "2024-03-05 14:30:00"},
            charge("CH21", "ACC2", 75),
            charge("CH22", "ACC2", 999, status="entered-in-error"),
            charge("CH31", "ACC3", 40),
            {**charge("CH32", "ACC3", 60), "occurrence_at": "2024-03-05 15:10:00"},
            charge("CH41", "ACC4", 200),
            charge("CH51", "ACC5", 30),
        ],
    )
    # CH12 corrected in the next export: the latest version (50.00) is the charge
    write_raw(settings, "fhir_charge_item", EHR_2,
              [{**charge("CH12", "ACC1", 50, version="2"), "occurrence_at": "2024-03-05 14:30:00"}])

    write_raw(
        settings,
        "x12_claims",
        RCM_1,
        [
            claim("ACC1", "0001", "2024-03-10 08:00:00", "1", total=100),
            claim("ACC1", "0002", "2024-03-20 08:00:00", "7", total=150),
            claim("ACC3", "0003", "2024-03-11 08:00:00", "1", total=40),
            claim("ACC4", "0004", "2024-03-12 08:00:00", "1", total=180),
            claim("ACC5", "0005", "2024-04-01 18:00:00", "1", payer="PAY2", total=40),
        ],
    )
    write_raw(
        settings,
        "x12_claim_lines",
        RCM_1,
        [
            line("ACC1", "0001", 1, "CH11", 100),
            line("ACC1", "0002", 1, "CH11", 100),
            line("ACC1", "0002", 2, "CH12", 50),
            line("ACC3", "0003", 1, "CH31", 40),
            line("ACC4", "0004", 1, "CH41", 180),
            line("ACC5", "0005", 1, "CH51", 30),
            line("ACC5", "0005", 2, "CHX", 10),
        ],
    )
    write_raw(
        settings,
        "x12_remittances",
        RCM_1,
        [
            {
                "trace_number": "TR1",
                "st_control_number": "1001",
                "payment_amount": 120,
                "payment_date": "2024-03-28",
                "payer_id": "PAY1",
                "production_date": "2024-03-27",
            },
            {
                "trace_number": "TR2",
                "st_control_number": "1002",
                "payment_amount": 25,
                "payment_date": "2024-04-02",
                "payer_id": "PAY2",
                "production_date": "2024-04-02",
            },
        ],
    )
    write_raw(
        settings,
        "x12_remit_claims",
        RCM_1,
        [
            {
                "trace_number": "TR1",
                "st_control_number": "1001",
                "claim_seq": 1,
                "account_id": "ACC1",
                "claim_status_code": "1",
                "charge_amount": 150,
                "paid_amount": 120,
                "patient_responsibility_amount": 10,
                "paid_date": "2024-03-27",
            },
            {
                "trace_number": "TR1",
                "st_control_number": "1001",
                "claim_seq": 2,
                "account_id": "ACC4",
                "claim_status_code": "4",
                "charge_amount": 180,
                "paid_amount": 0,
                "patient_responsibility_amount": 0,
                "paid_date": "2024-03-27",
            },
            {
                "trace_number": "TR2",
                "st_control_number": "1002",
                "claim_seq": 1,
                "account_id": "ACC5",
                "claim_status_code": "1",
                "charge_amount": 40,
                "paid_amount": 25,
                "patient_responsibility_amount": 5,
                "paid_date": "2024-04-02",
            },
        ],
    )
    write_raw(
        settings,
        "claim_events",
        RCM_1,
        [
            {
                "claim_id": "ACC1",
                "event_type": "created",
                "event_ts": "2024-03-09 10:00:00",
                "actor": "biller1",
            },
            {
                "claim_id": "ACC1",
                "event_type": "SUBMITTED",
                "event_ts": "2024-03-10 08:00:00",
                "actor": "clearinghouse",
            },
            {
                "claim_id": "ACC3",
                "event_type": "REJECTED",
                "event_ts": "2024-03-12 08:00:00",
                "actor": "clearinghouse",
            },
            {
                "claim_id": "ACC1",
                "event_type": "PAYMENT_POSTED",
                "event_ts": "2024-03-28 10:00:00",
                "actor": "era-autopost",
            },
        ],
    )
    write_raw(
        settings,
        "statements",
        RCM_1,
        [
            {
                "statement_id": "S1",
                "patient_id": "PT-ACC1",
                "account_id": "ACC1",
                "statement_date": "2024-03-30",
                "amount_due": 10,
            },
        ],
    )
    write_raw(
        settings,
        "patient_payments",
        RCM_1,
        [
            {
                "payment_id": "PP1",
                "patient_id": "PT-ACC1",
                "account_id": "ACC1",
                "amount": 10,
                "received_at": "2024-04-01 15:00:00",
                "method": "card",
            },
        ],
    )
    write_raw(
        settings,
        "chart_of_accounts",
        ERP_1,
        [
            {"entity": "H1", "account": "1000", "name": "Operating cash", "account_type": "CASH"},
            {"entity": "H1", "account": "1200", "name": "Patient AR", "account_type": "PATIENT_AR"},
        ],
    )
    write_raw(
        settings,
        "gl_journal_lines",
        ERP_1,
        [
            {
                "journal_id": "J1",
                "line_no": 1,
                "entity": "H1",
                "posting_date": "2024-03-29",
                "period": "2024-03",
                "account": "1000",
                "debit": 120,
                "credit": 0,
                "reference": "TR1",
                "created_by": "cash_poster",
            },
            {
                "journal_id": "J1",
                "line_no": 2,
                "entity": "H1",
                "posting_date": "2024-03-29",
                "period": "2024-03",
                "account": "1200",
                "debit": 0,
                "credit": 120,
                "reference": "TR1",
                "created_by": "cash_poster",
            },
        ],
    )
    write_raw(
        settings,
        "bank_deposits",
        ERP_1,
        [
            {
                "deposit_id": "D1",
                "entity": "H1",
                "bank_account": "OPS",
                "deposit_date": "2024-03-28",
                "amount": 120,
                "trace_number": "TR1",
            },
        ],
    )
    with connect(settings) as con:
        con.executemany(
            "insert into raw._batches values (?, ?, ?, ?, ?, ?)",
            [
                ("ehr", EHR_1, "2024-04-01 06:00:00", "LOADED", None, "2024-04-02 09:00:00"),
                ("ehr", EHR_2, "2024-04-02 06:00:00", "LOADED", None, "2024-04-02 09:00:00"),
                ("rcm", RCM_1, "2024-04-02 07:00:00", "LOADED", None, "2024-04-02 09:00:00"),
                ("erp", ERP_1, AS_OF, "LOADED", None, "2024-04-02 09:00:00"),
                # a later batch that was quarantined does not move the as-of time
                (
                    "erp",
                    "20240405T000000Z",
                    "2024-04-05 00:00:00",
                    "QUARANTINED",
                    "sha256 mismatch",
                    "2024-04-05 01:00:00",
                ),
            ],
        )
        refresh_raw_views(con, settings)


@dataclass
class Built:
    settings: Settings
    result: Any
    build_seconds: float


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    import time

    home = tmp_path_factory.mktemp("billops_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BILLOPS_HOME", str(home))
        settings = get_settings(fresh=True)
        build_raw_zone(settings)
        started = time.perf_counter()
        result = transform(settings=settings, unit_tests=True)
        yield Built(settings, result, time.perf_counter() - started)
    get_settings(fresh=True)


def query(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_build_succeeds_with_unit_tests(built: Built) -> None:
    result = built.result
    print(f"dbt build: {result.elapsed_s:.1f}s in dbt, {built.build_seconds:.1f}s in all")
    assert result.success and result.failed == 0 and result.skipped == 0
    unit_tests = result.nodes_of("unit_test")
    assert result.unit_tests == len(unit_tests) >= 3
    assert {n.status for n in unit_tests} == {"pass"}
    assert any("replacement_claim_supersedes" in n.unique_id for n in unit_tests)
    rules = [n for n in unit_tests if ".int_exc_" in n.unique_id]
    assert len(rules) >= 18  # at least one per exception type (docs/rules.md names them)
    assert result.models >= 30 and result.data_tests > 50
    # dbt's files go under the home, never into the project
    assert (built.settings.home / "dbt" / "target" / "run_results.json").exists()
    assert (built.settings.home / "dbt" / "logs" / "dbt.log").exists()


def test_schemas_are_named_exactly(built: Built) -> None:
    rows = query(built.settings, "select distinct table_schema from information_schema.tables")
    schemas = {r[0] for r in rows}
    assert {"staging", "intermediate", "marts"} <= schemas
    assert not any(s.startswith("main_") for s in schemas)


def test_reconciliation_statuses(built: Built) -> None:
    rows = query(
        built.settings,
        """
        select account_id, recon_status, charge_lines, charge_amount, billed_lines,
               billed_amount, unbilled_amount, billed_not_charged_amount, variance_amount,
               claim_count, entity, facility_id, payer_id, period, as_of
        from marts.fct_account_reconciliation order by account_id""",
    )
    by_account = {r[0]: r for r in rows}
    assert {a: r[1] for a, r in by_account.items()} == {
        "ACC1": "TIED",  # the replacement claim bills both charges (the original billed one)
        "ACC2": "UNBILLED",
        "ACC3": "PARTIALLY_BILLED",
        "ACC4": "AMOUNT_VARIANCE",
        "ACC5": "BILLED_WITHOUT_CHARGE",
    }
    acc1 = by_account["ACC1"]
    assert acc1[2:6] == (2, 150, 2, 150)  # CH12 at its latest version, 50.00
    assert acc1[9] == 2 and acc1[10:14] == ("H1", "CL1", "PAY1", "2024-03")
    assert by_account["ACC2"][2:4] == (1, 75)  # the entered-in-error charge is not a charge
    assert by_account["ACC2"][12] == "PAY2"  # no claim: payer of the current coverage version
    assert by_account["ACC3"][6] == 60
    assert by_account["ACC4"][8] == 20
    assert by_account["ACC5"][7] == 10 and by_account["ACC5"][12] == "PAY2"
    assert {r[14] for r in rows} == {AS_OF}


def test_mart_contract_is_enforced(built: Built) -> None:
    manifest = json.loads((built.result.target_path / "manifest.json").read_text())
    node = manifest["nodes"]["model.billops.fct_account_reconciliation"]
    assert node["config"]["contract"]["enforced"] is True
    assert node["config"]["materialized"] == "table"
    assert list(node["columns"]) == RECON_COLUMNS
    described = query(
        built.settings,
        """
        select column_name, data_type from information_schema.columns
        where table_schema = 'marts' and table_name = 'fct_account_reconciliation'
        order by ordinal_position""",
    )
    assert [c for c, _ in described] == RECON_COLUMNS
    types = dict(described)
    assert types["charge_amount"] == "DECIMAL(18,2)" and types["charge_lines"] == "INTEGER"
    assert types["service_date"] == "DATE" and types["as_of"] == "TIMESTAMP"
    assert types["payer_paid_amount"] == types["secondary_paid_amount"] == "DECIMAL(18,2)"
    paid = dict(
        query(
            built.settings,
            "select account_id, payer_paid_amount from marts.fct_account_reconciliation "
            "where primary_paid_amount + secondary_paid_amount = payer_paid_amount "
            "and secondary_paid_amount = 0 and secondary_payer_id is null",
        )
    )
    assert len(paid) == len(query(built.settings, "select 1 from marts.fct_account_reconciliation"))
    assert float(paid["ACC1"]) == 120 and float(paid["ACC5"]) == 25  # no secondary payer here


def test_staging_grains(built: Built) -> None:
    coverages = query(
        built.settings,
        """
        select version_id, payer_id, is_current_version from staging.stg_ehr__coverages
        order by version_id""",
    )
    assert coverages == [("1", "PAY1", False), ("2", "PAY2", True)]
    assert query(
        built.settings, "select count(*) from staging.stg_ehr__encounters where account_id = 'ACC1'"
    ) == [(1,)]
    phi = json.loads((built.result.target_path / "manifest.json").read_text())["nodes"][
        "model.billops.stg_ehr__patients"
    ]["columns"]["birth_date"]
    assert phi["config"]["meta"]["phi"] is True


def test_event_log(built: Built) -> None:
    rows = query(
        built.settings,
        """
        select activity, source_system, entity, amount from marts.billing_event_log
        where case_id = 'ACC1' order by event_order""",
    )
    activities = [r[0] for r in rows]
    # the claim events' SUBMITTED is not repeated; their PAYMENT_POSTED replaces the 835's
    assert activities == [
        "REGISTERED",
        "CHARGE_POSTED",
        "CHARGE_POSTED",
        "CLAIM_CREATED",
        "CLAIM_SUBMITTED",
        "CLAIM_SUBMITTED",
        "REMIT_RECEIVED",
        "DEPOSITED",
        "PAYMENT_POSTED",
        "GL_POSTED",
        "STATEMENT_SENT",
        "PATIENT_PAID",
    ]
    gl = next(r for r in rows if r[0] == "GL_POSTED")
    assert gl[1:] == ("erp", "H1", 120)
    # ACC5 has no posting event: the 835 payment date stands in; no GL or bank event for TR2
    acc5 = query(
        built.settings,
        """
        select activity, ts, amount from marts.billing_event_log
        where case_id = 'ACC5' and activity in ('PAYMENT_POSTED', 'GL_POSTED', 'DEPOSITED')""",
    )
    assert acc5 == [("PAYMENT_POSTED", datetime(2024, 4, 2), 25)]
    denied = query(
        built.settings,
        "select count(*) from marts.billing_event_log "
        "where case_id = 'ACC4' and activity = 'DENIED'",
    )
    assert denied == [(1,)]
    rejected = query(
        built.settings,
        "select activity from marts.billing_event_log "
        "where case_id = 'ACC3' and source_system = 'rcm' "
        "order by event_order",
    )
    assert ("CLAIM_REJECTED",) in rejected


def test_warehouse_is_released_after_build(built: Built) -> None:
    # dbt ran in this process; the warehouse must open again, read-only and read-write
    assert query(built.settings, "select count(*) from marts.billing_event_log")[0][0] > 0
    with connect(built.settings) as con:
        assert con.execute("select 1").fetchone() == (1,)


def test_parse_manifest_into_a_given_target(tmp_path: Path) -> None:
    manifest = parse_manifest(tmp_path / "target")
    assert manifest == tmp_path / "target" / "manifest.json"
    nodes = json.loads(manifest.read_text())["nodes"]
    assert nodes["model.billops.billing_event_log"]["config"]["contract"]["enforced"] is True
    project_dir, profiles_dir = dbt_paths()
    assert (project_dir / "dbt_project.yml").exists() and (profiles_dir / "profiles.yml").exists()


@pytest.fixture
def empty_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("BILLOPS_HOME", str(tmp_path))
    yield get_settings(fresh=True)
    monkeypatch.undo()
    get_settings(fresh=True)


def test_failing_node_raises_one_line_error(empty_home: Settings) -> None:
    settings = empty_home
    same = claim("ACC9", "0001", "2024-03-10 08:00:00", "1")
    write_raw(settings, "x12_claims", RCM_1, [same, same])  # one claim twice: its key repeats
    with pytest.raises(BillopsError) as caught:
        transform(select="stg_rcm__claims stg_rcm__claim_lines", settings=settings)
    message = str(caught.value)
    assert "\n" not in message
    assert "unique_stg_rcm__claims_claim_key" in message and "1 of" in message
