"""Month-end close package: the period's reconciliation, data-quality state and a manifest.

The package folder ``$BILLOPS_HOME/close/<period>/`` is written to a temporary folder and renamed
into place, so a package is either complete or absent. A closed period is locked: closing it
again is refused unless ``reopen`` is given.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from billops.config import Settings, get_settings
from billops.errors import BillopsError
from billops.warehouse import connect

PERIOD = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")  # fullmatch: no trailing newline


@dataclass
class ClosePackage:
    period: str
    folder: Path
    accounts: int
    entities: int
    files: list[str]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _existing_package(target: Path, settings: Settings) -> ClosePackage | None:
    """The locked package when it was built on the same data (a rerun is then a no-op)."""
    try:
        manifest = json.loads((target / "_close_manifest.json").read_text())
    except (OSError, ValueError):
        return None
    with connect(settings, read_only=True) as con:
        as_of = con.execute(
            "select max(extracted_at) from raw._batches where status = 'LOADED'").fetchone()[0]
    if manifest.get("as_of") != str(as_of):
        return None
    return ClosePackage(manifest["period"], target, manifest["accounts"], manifest["entities"],
                        [f["path"] for f in manifest["files"]] + ["_close_manifest.json"])


def last_complete_period(settings: Settings | None = None) -> str:
    """The latest month that ended on or before the data's as-of time."""
    settings = settings or get_settings()
    with connect(settings, read_only=True) as con:
        as_of = con.execute(
            "select max(extracted_at) from raw._batches where status = 'LOADED'").fetchone()[0]
    if as_of is None:
        raise BillopsError(f"{settings.warehouse}: no loaded batches; run 'billops run' first")
    year, month = as_of.year, as_of.month - 1
    if month == 0:
        year, month = year - 1, 12
    return f"{year:04d}-{month:02d}"


def close_period(period: str, settings: Settings | None = None, reopen: bool = False) -> ClosePackage:
    if not PERIOD.fullmatch(period or ""):
        raise BillopsError(f"--period {period!r}: expected YYYY-MM, e.g. 2026-10")
    settings = settings or get_settings()
    root = Path(settings.close)  # type: ignore[arg-type]
    target = root / period
    if target.exists() and not reopen:
        existing = _existing_package(target, settings)
        if existing is not None:
            return existing
        raise BillopsError(f"{target}: period {period} is already closed (locked) and the data has "
                           "changed since; pass --reopen to rebuild it")
    if not Path(settings.warehouse).exists():  # type: ignore[arg-type]
        raise BillopsError(f"{settings.warehouse}: warehouse not found; run 'billops run' first")
    tmp = root / f".{period}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        with connect(settings, read_only=True) as con:
            _require_period(con, period, settings)
            _write_package_files(con, period, tmp)
            manifest = _manifest(con, period, tmp)
        (tmp / "_close_manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    files = [f["path"] for f in manifest["files"]]
    return ClosePackage(period, target, manifest["accounts"], manifest["entities"],
                        [*files, "_close_manifest.json"])


def _require_period(con: duckdb.DuckDBPyConnection, period: str, settings: Settings) -> None:
    """One line unless the reconciliation mart is built and holds accounts of ``period``."""
    has_mart = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'marts' "
        "and table_name = 'fct_account_reconciliation'"
    ).fetchone()[0]
    if not has_mart:
        raise BillopsError(f"{settings.warehouse}: marts.fct_account_reconciliation not built; run 'billops run' first")
    periods = [r[0] for r in con.execute(
        "select distinct period from marts.fct_account_reconciliation order by 1").fetchall()]
    if period not in periods:
        known = ", ".join(periods) or "none"
        raise BillopsError(f"--period {period}: no accounts in that period (periods in the warehouse: {known})")


def _write_package_files(con: duckdb.DuckDBPyConnection, period: str, folder: Path) -> None:
    """The period's reconciliation by entity and its open items, as CSV files in ``folder``."""
    con.sql(
        """select entity, period, count(*) as accounts,
                   sum(charge_amount) as charge_amount, sum(billed_amount) as billed_amount,
                   sum(unbilled_amount) as unbilled_amount,
                   sum(variance_amount) as variance_amount,
                   count(*) filter (where recon_status <> 'TIED') as accounts_not_tied
            from marts.fct_account_reconciliation where period = ?
            group by all order by entity""",
        params=[period],
    ).write_csv(str(folder / "reconciliation_by_entity.csv"), header=True, sep=",")
    con.sql(
        """select account_id, entity, payer_id, service_date, recon_status,
                   charge_amount, billed_amount, unbilled_amount, variance_amount
            from marts.fct_account_reconciliation
            where period = ? and recon_status <> 'TIED'
            order by amount_at_risk desc, account_id""",
        params=[period],
    ).write_csv(str(folder / "open_items.csv"), header=True, sep=",")


def _manifest(con: duckdb.DuckDBPyConnection, period: str, folder: Path) -> dict[str, Any]:
    """The package's manifest: counts, the data-quality state and every file's sha256."""
    accounts, entities, as_of = con.execute(
        "select count(*), count(distinct entity), max(as_of) "
        "from marts.fct_account_reconciliation where period = ?", [period]
    ).fetchone()
    dq = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'dq' "
        "and table_name = 'expectation_results'"
    ).fetchone()[0]
    dq_failed = 0
    if dq:
        dq_failed = con.execute(
            "select count(*) from dq.expectation_results where not success and run_id = "
            "(select run_id from dq.expectation_results order by evaluated_at desc limit 1)"
        ).fetchone()[0]
    return {
        "period": period,
        "as_of": str(as_of),
        "closed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "accounts": accounts,
        "entities": entities,
        "dq_failed_expectations_last_run": dq_failed,
        "files": [{"path": f, "sha256": _sha256(folder / f)}
                  for f in sorted(p.name for p in folder.iterdir())],
        "status": "LOCKED",
    }
