"""Cash and reference-data rules as a billing office means them (issue 22): the manifest's
per-file snapshot flag recorded by ingestion, and the posting and deposit lag settings reaching
dbt. The rules themselves are dbt unit tests with hand-written rows: int_remittance_live_postings.yml
and int_exc_remit_not_in_gl, int_exc_gl_amount_mismatch, int_exc_gl_duplicate_posting and
int_exc_deposit_mismatch .yml (reversals, duplicates, lag windows, takebacks, split, shared and
lockbox deposits), fct_bank_deposits.yml,
stg_erp__bank_deposit_traces.yml and the reference staging models (merge per key, snapshots)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from billops.config import Settings, get_settings
from billops.ingest import ingest
from billops.ingest.manifest import ManifestError, read_manifest
from billops.transform import dbt_vars

PAYERS_V1 = "payer_id,name,payer_type,timely_filing_days\nP1,One,COMMERCIAL,90\nP2,Two,MEDICAID,365\n"
PAYERS_V2 = "payer_id,name,payer_type,timely_filing_days\nP1,One,COMMERCIAL,120\n"


def _batch(landing: Path, batch_id: str, files: dict[str, str], snapshot: dict[str, object]) -> Path:
    folder = landing / "rcm" / batch_id
    folder.mkdir(parents=True)
    entries = []
    for name, text in files.items():
        (folder / name).write_text(text)
        entry: dict[str, object] = {
            "path": name,
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
            "records": text.count("\n") - 1,
        }
        if name in snapshot:
            entry["snapshot"] = snapshot[name]
        entries.append(entry)
    stamp = f"{batch_id[:4]}-{batch_id[4:6]}-{batch_id[6:8]}T23:00:00Z"
    (folder / "_manifest.json").write_text(json.dumps(
        {"system": "rcm", "batch_id": batch_id, "extracted_at": stamp, "files": entries}))
    return folder


def test_manifest_snapshot_flag_is_optional_and_boolean(tmp_path: Path) -> None:
    folder = _batch(tmp_path, "20240131T230000Z", {"payers.csv": PAYERS_V1,
                                                    "payer_contracts.csv": "payer_id\n"},
                    {"payers.csv": True})
    manifest = read_manifest(folder, "rcm")
    flags = {f.path: f.snapshot for f in manifest.files}
    assert flags == {"payers.csv": True, "payer_contracts.csv": False}

    bad = _batch(tmp_path, "20240207T230000Z", {"payers.csv": PAYERS_V1}, {"payers.csv": "yes"})
    with pytest.raises(ManifestError, match="snapshot"):
        read_manifest(bad, "rcm")


def test_ingestion_records_the_snapshot_flag_per_file(billops_home: Settings) -> None:
    landing = Path(billops_home.landing)  # type: ignore[arg-type]
    _batch(landing, "20240131T230000Z", {"payers.csv": PAYERS_V1}, {})
    _batch(landing, "20240207T230000Z", {"payers.csv": PAYERS_V2}, {"payers.csv": True})
    ingest(settings=billops_home)
    with duckdb.connect(str(billops_home.warehouse), read_only=True) as con:
        rows = con.execute(
            "select batch_id, file, status, snapshot from raw._loads order by batch_id"
        ).fetchall()
    assert rows == [
        ("20240131T230000Z", "payers.csv", "LOADED", False),
        ("20240207T230000Z", "payers.csv", "LOADED", True),
    ]


def test_lag_windows_are_settings_that_reach_dbt(
    billops_home: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert dbt_vars(billops_home)["gl_posting_lag_days"] == 5
    assert dbt_vars(billops_home)["deposit_lag_days"] == 5
    monkeypatch.setenv("BILLOPS_GL_POSTING_LAG_DAYS", "3")
    monkeypatch.setenv("BILLOPS_DEPOSIT_LAG_DAYS", "7")
    settings = get_settings(fresh=True)
    assert dbt_vars(settings)["gl_posting_lag_days"] == 3
    assert dbt_vars(settings)["deposit_lag_days"] == 7


def test_project_defaults_match_the_settings() -> None:
    import yaml

    project = Path(__file__).resolve().parents[1] / "dbt_project" / "dbt_project.yml"
    dbt_defaults = yaml.safe_load(project.read_text())["vars"]
    defaults = Settings()
    for name in ("gl_posting_lag_days", "deposit_lag_days"):
        assert dbt_defaults[name] == getattr(defaults, name)
