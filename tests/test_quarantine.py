"""Severity is scope: a failing unit (an 835 transaction set, a GL journal, a record) is held back
on its own and everything else publishes; only an extract that cannot be trusted as a whole (an
unbalanced GL journal) stops the run, until someone named waives it. Cash that is not patient
billing's raises nothing."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import duckdb
import pytest

from billops import pipeline
from billops.config import Settings
from billops.errors import BillopsError
from billops.ops_store import audit_trail
from expectations.batches import FAILED, WAIVED
from expectations.runner import DataQualityError, waive_batch

TRACE = "QTEST00000001"


def _rows(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def _land(settings: Settings, system: str, batch_id: str, files: dict[str, str]) -> None:
    """A landing batch of ``files`` (relative path -> text) with its manifest, written last."""
    folder = Path(settings.landing) / system / batch_id  # type: ignore[arg-type]
    entries = []
    for path, text in files.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        if path.endswith(".csv"):
            records = len(list(csv.reader(io.StringIO(text)))) - 1
        else:
            records = sum(seg.strip().startswith("ST*") for seg in text.split("~"))
        entries.append(
            {"path": path, "sha256": hashlib.sha256(text.encode()).hexdigest(), "records": records}
        )
    manifest = {
        "system": system,
        "batch_id": batch_id,
        "extracted_at": f"{batch_id[:4]}-{batch_id[4:6]}-{batch_id[6:8]}T{batch_id[9:11]}:00:00Z",
        "files": entries,
    }
    (folder / "_manifest.json").write_text(json.dumps(manifest))


def _835(isa: str, control: int, paid_bpr: str, paid_clp: str, account: str) -> str:
    """One 835 interchange with one transaction set paying ``account``; BPR02 and CLP04 given."""
    body = [
        "ST*835*0001",
        f"BPR*I*{paid_bpr}*C*ACH*CCP*01*029966787*DA*9036469657*1919189520**01*061086082*DA"
        "*7610860824*20261020",
        f"TRN*1*{TRACE}*1919189520",
        "N1*PR*QUARANTINE TEST PLAN",
        "N1*PE*TEST HOSPITAL*XX*1371021068",
        "LX*1",
        f"CLP*{account}*1*{paid_clp}*{paid_clp}*0*12*QT0001*11*1",
    ]
    body.append(f"SE*{len(body) + 1}*0001")
    head = isa[:90] + f"{control:09d}" + isa[99:]
    segments = [head, "GS*HP*CLEARHSE01*BILLOPSHS*20261020*0907*9901*X*005010X221A1", *body,
                "GE*1*9901", f"IEA*1*{control:09d}"]
    return "~\n".join(segments) + "~\n"


def _base(settings: Settings) -> tuple[str, str, list[str]]:
    """The generated 835's ISA segment, an account it pays, and the chart of accounts lines."""
    landing = Path(settings.landing)  # type: ignore[arg-type]
    x12 = next((landing / "rcm").glob("*/835/*.x12")).read_text()
    isa = x12.split("~", 1)[0].lstrip()
    account = x12.split("CLP*", 1)[1].split("*", 1)[0]
    chart = next((landing / "erp").glob("*/chart_of_accounts.csv")).read_text().splitlines()
    return isa, account, chart


@pytest.fixture
def generated(billops_home: Settings) -> Settings:
    from billops.synth import generate

    generate(billops_home.home, scale="tiny", seed=7)
    return billops_home


def test_failed_units_are_held_alone_and_everything_else_publishes(generated: Settings) -> None:
    isa, account, chart = _base(generated)
    entity = chart[1].split(",")[0]
    cash = next(line.split(",")[1] for line in chart[1:] if line.endswith(",CASH")
                and line.startswith(entity + ","))
    # an 835 transaction set whose BPR does not tie to its claims: held whole
    _land(generated, "rcm", "20261102T030000Z",
          {"835/remit.x12": _835(isa, 990001, "100.00", "90.00", account)})
    # a journal on an account the chart does not know: held whole; a vendor payment out of the
    # cash account and an interest deposit: non-patient cash, never a break or an exception
    journals = "\n".join([
        "journal_id,line_no,entity,posting_date,period,account,debit,credit,source,reference,"
        "description,created_by,approved_by",
        f"JQTEST01,1,{entity},2026-10-20,2026-10,9999,50.00,0.00,MANUAL,ADJ-1,unknown account,gl,",
        f"JQTEST01,2,{entity},2026-10-20,2026-10,{cash},0.00,50.00,MANUAL,ADJ-1,unknown account,gl,",
        f"JQVEND01,1,{entity},2026-10-20,2026-10,2100,500.00,0.00,AP,CHK000104417,"
        "vendor check,ap,",
        f"JQVEND01,2,{entity},2026-10-20,2026-10,{cash},0.00,500.00,AP,CHK000104417,"
        "vendor check,ap,",
    ]) + "\n"
    deposits = ("deposit_id,entity,bank_account,deposit_date,amount,trace_number,payer_name\n"
                f"DPQTEST1,{entity},OPER-1,2026-10-21,12.34,,INTEREST\n")
    coa = "\n".join([*chart, f"{entity},2100,Accounts payable,OTHER"]) + "\n"
    _land(generated, "erp", "20261102T030000Z", {
        "gl_journal_lines.csv": journals, "bank_deposits.csv": deposits,
        "chart_of_accounts.csv": coa})

    pipeline.run_all(generated)  # publishes

    held = _rows(generated, "select unit, unit_key, status, owner_team, amount, rows_held, rule "
                 "from marts.dq_quarantine order by unit")
    assert [(u, k, s, t, float(a)) for u, k, s, t, a, _, _ in held] == [
        ("journal", "JQTEST01", "HELD", "FINANCE", 50.0),
        ("transaction_set", TRACE, "HELD", "CASH_POSTING", 100.0),
    ]
    assert "account_in_chart" in held[0][6] and "bpr_equals_claims_minus_plb" in held[1][6]
    assert held[0][5] == 2 and held[1][5] >= 2  # both journal lines; the 835 header and claim
    # the held units post nothing; the batches beside them did
    assert _rows(generated, f"select count(*) from marts.fct_remittance_claims "
                 f"where trace_number = '{TRACE}'") == [(0,)]
    assert _rows(generated, "select count(*) from staging.stg_erp__gl_journal_lines "
                 "where journal_id = 'JQTEST01'") == [(0,)]
    assert _rows(generated, "select count(*) from staging.stg_erp__gl_journal_lines "
                 "where journal_id = 'JQVEND01'") == [(2,)]
    assert _rows(generated, "select count(*) from marts.billing_exceptions where journal_id "
                 "in ('JQVEND01', 'JQTEST01') or trace_number in ('CHK000104417', "
                 f"'{TRACE}')") == [(0,)]
    assert not _rows(generated, "select rule from marts.dq_breaks where severity = 'critical' "
                     "and layer = 'raw' and rule not in ('account_in_chart', "
                     "'bpr_equals_claims_minus_plb')")
    ((gl, bank),) = _rows(generated, "select sum(non_patient_gl_cash_amount), "
                          "sum(non_patient_bank_deposit_amount) from marts.reconciliation_summary "
                          f"where entity = '{entity}' and period = '2026-10'")
    # the generator writes non-patient cash of its own beside ours
    assert float(gl) <= -500.0 and float(bank) >= 12.34
    assert _rows(generated, "select count(*) from intermediate.int_gl_cash_receipts "
                 "where journal_id = 'JQVEND01'") == [(0,)]
    verdicts = dict(_rows(generated, "select system || '/' || batch_id, "
                          "arg_max(dq_status, checked_at) from dq.batch_quality group by all"))
    assert FAILED not in verdicts.values()
    assert Path(generated.serving).exists()

    # the corrected 835 arrives: it posts once, and the held set is released as corrected
    _land(generated, "rcm", "20261103T030000Z",
          {"835/remit.x12": _835(isa, 990002, "90.00", "90.00", account)})
    pipeline.run_all(generated)
    assert _rows(generated, "select count(*), sum(payment_amount) from "
                 f"staging.stg_rcm__remittances where trace_number = '{TRACE}'") == [(1, 90)]
    ((status, reason),) = _rows(generated, "select status, release_reason from marts.dq_quarantine "
                                "where unit = 'transaction_set'")
    assert status == "RELEASED" and "corrected transaction set loaded in 20261103T030000Z" in reason


def test_an_unbalanced_journal_blocks_until_someone_named_waives_it(generated: Settings) -> None:
    _, _, chart = _base(generated)
    entity, cash = chart[1].split(",")[0], chart[1].split(",")[1]
    journals = ("journal_id,line_no,entity,posting_date,period,account,debit,credit,source,"
                "reference,description,created_by,approved_by\n"
                f"JQBAD01,1,{entity},2026-10-20,2026-10,{cash},10.00,0.00,MANUAL,X,half,gl,\n")
    pipeline.ingest_step(generated)
    pipeline.check_raw_step(generated)
    _land(generated, "erp", "20261102T030000Z", {"gl_journal_lines.csv": journals})
    pipeline.ingest_step(generated)
    with pytest.raises(DataQualityError, match=r"blocking.*journal_balances"):
        pipeline.check_raw_step(generated)
    status = dict(_rows(generated, "select system || '/' || batch_id, "
                        "arg_max(dq_status, checked_at) from dq.batch_quality group by all"))
    assert status["erp/20261102T030000Z"] == FAILED
    with pytest.raises(BillopsError, match="who waives"):
        waive_batch("erp", "20261102T030000Z", "a reason", " ", generated)
    with pytest.raises(BillopsError, match="needs a reason"):
        waive_batch("erp", "20261102T030000Z", " ", "pat.finance", generated)
    passed = next(b for b, s in status.items() if s != FAILED)
    with pytest.raises(BillopsError, match="only a FAILED batch"):
        waive_batch(*passed.split("/"), "a reason", "pat.finance", generated)
    # an rcm batch with the same id is another batch: the waiver names the system
    waive_batch("erp", "20261102T030000Z", "controller booked the other half by hand",
                "pat.finance", generated)
    ((dq_status, actor, reason),) = _rows(
        generated, "select dq_status, actor, reason from dq.batch_quality "
        "where system = 'erp' and batch_id = '20261102T030000Z' and dq_status = 'WAIVED'")
    assert (dq_status, actor) == (WAIVED, "pat.finance") and "other half" in reason
    # every attempt is in the operational store's audit trail, the refused ones too
    trail = [r for r in audit_trail(settings=generated) if r["table_name"] == "batch_waiver"]
    assert [(r["record_id"], r["operation"]) for r in trail][-1] == (
        "erp/20261102T030000Z", "WAIVE")
    assert {r["operation"] for r in trail} == {"WAIVE", "WAIVE_REFUSED"}
    assert json.loads(trail[-1]["detail"])["reason"] == "controller booked the other half by hand"
    assert trail[-1]["actor"] == "pat.finance"
    pipeline.check_raw_step(generated)  # the run goes on
