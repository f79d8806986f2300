"""Detection precision and recall per exception type against a generator's truth."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path
from typing import Any

from billops.config import Settings, get_settings
from billops.errors import BillopsError
from billops.warehouse import connect

TRUTH_COLUMNS = ("defect_type", "key")


def read_truth(truth_dir: Path) -> dict[str, set[str]]:
    path = Path(truth_dir) / "defects.csv"
    if not path.is_file():
        raise BillopsError(
            f"{path}: truth file not found (expected defects.csv from 'billops generate')"
        )
    truth: dict[str, set[str]] = defaultdict(set)
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in TRUTH_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise BillopsError(f"{path}: header lacks column(s) {', '.join(missing)}")
            for n, row in enumerate(reader, start=2):
                if not row.get("defect_type") or not row.get("key"):
                    raise BillopsError(f"{path}: record {n}: empty defect_type or key")
                truth[row["defect_type"]].add(row["key"])
    except UnicodeDecodeError as exc:
        raise BillopsError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    return truth


def _exception_keys(con: Any) -> dict[str, set[str]]:
    exists = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'marts' "
        "and table_name = 'billing_exceptions'"
    ).fetchone()[0]
    if not exists:
        raise BillopsError("marts.billing_exceptions not built; run 'billops run' first")
    key_of = {
        "account_id": (
            "COVERAGE_MISMATCH",
            "COVERAGE_INACTIVE",
            "MISSING_PRIOR_AUTH",
            "CLAIM_NO_RESPONSE",
            "DENIAL",
            "UNDERPAYMENT",
            "CREDIT_BALANCE",
            "REMIT_UNBALANCED",
        ),
        "charge_id": ("UNBILLED_CHARGE", "DUPLICATE_CHARGE", "LATE_CHARGE"),
        "trace_number": ("REMIT_NOT_IN_GL", "GL_AMOUNT_MISMATCH", "DEPOSIT_MISMATCH"),
        "journal_id": ("GL_DUPLICATE_POSTING", "WRITE_OFF_UNAPPROVED"),
        "statement_id": ("STATEMENT_STALE_COVERAGE", "PATIENT_BALANCE_MISMATCH"),
    }
    flagged: dict[str, set[str]] = defaultdict(set)
    for column, types in key_of.items():
        rows = con.execute(
            f"select exception_type, {column} from marts.billing_exceptions "
            f"where exception_type in ({', '.join('?' for _ in types)}) and {column} is not null",
            list(types),
        ).fetchall()
        for etype, key in rows:
            flagged[etype].add(str(key))
    return flagged


def _ratio(num: int, den: int) -> float:
    return round(num / den, 4) if den else 1.0


def scorecard(truth_dir: Path, settings: Settings | None = None) -> dict[str, Any]:
    truth = read_truth(truth_dir)
    settings = settings or get_settings()
    with connect(settings, read_only=True) as con:
        flagged = _exception_keys(con)
    types: dict[str, dict[str, Any]] = {}
    totals = {"injected": 0, "flagged": 0, "matched": 0}
    for etype in sorted(set(truth) | set(flagged)):
        inj, fl = truth.get(etype, set()), flagged.get(etype, set())
        matched = len(inj & fl)
        types[etype] = {
            "injected": len(inj),
            "flagged": len(fl),
            "matched": matched,
            "precision": _ratio(matched, len(fl)),
            "recall": _ratio(matched, len(inj)),
        }
        totals["injected"] += len(inj)
        totals["flagged"] += len(fl)
        totals["matched"] += matched
    overall = {
        **totals,
        "precision": _ratio(totals["matched"], totals["flagged"]),
        "recall": _ratio(totals["matched"], totals["injected"]),
    }
    return {"types": types, "overall": overall}
