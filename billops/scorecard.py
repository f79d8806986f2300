"""Detection precision and recall per exception type against a generator's truth.

A type is scored only where the generator injected something of it (``scored: true``). A type
with nothing injected has no recall and no meaningful precision: its precision and recall are
null and ``scored`` is false; when something of it was flagged all the same, those flags are
false positives: its precision is 0, they are counted in ``false_positives`` (and in the
overall precision) and the type is listed in the overall's ``unscored_flagged``, never hidden
by a 1.0. A scored type that flagged nothing has a null precision and its recall is 0. The worst figures of the overall (``worst_precision``, ``worst_recall``, and the types
they belong to) are taken over the scored types only, and ``unscored`` lists the types of the
vocabulary that were not injected, so a run that injected nothing of a type cannot pass for a
perfect score of it.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path
from typing import Any

from billops.config import Settings, get_settings
from billops.errors import BillopsError
from billops.taxonomy import EXCEPTION_TYPES
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


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def scorecard(truth_dir: Path, settings: Settings | None = None) -> dict[str, Any]:
    truth = read_truth(truth_dir)
    settings = settings or get_settings()
    with connect(settings, read_only=True) as con:
        flagged = _exception_keys(con)
    types: dict[str, dict[str, Any]] = {}
    totals = {"injected": 0, "flagged": 0, "matched": 0}
    for etype in sorted(set(EXCEPTION_TYPES) | set(truth) | set(flagged)):
        inj, fl = truth.get(etype, set()), flagged.get(etype, set())
        matched = len(inj & fl)
        scored = bool(inj)
        types[etype] = {
            "injected": len(inj),
            "flagged": len(fl),
            "matched": matched,
            "scored": scored,
            # nothing injected: not scored; what was flagged of it is false positives only, so
            # its precision is 0 (null when nothing was flagged either); a scored type that
            # flagged nothing has no precision (null) and its recall says the rest
            "precision": _ratio(matched, len(fl)) if scored else (0.0 if fl else None),
            "recall": _ratio(matched, len(inj)) if scored else None,
            "false_positives": len(fl - inj),
        }
        totals["injected"] += len(inj)
        totals["flagged"] += len(fl)
        totals["matched"] += matched
    scored_types = {t: v for t, v in types.items() if v["scored"]}

    def worst(measure: str) -> tuple[float | None, str | None]:
        # a type that flagged nothing has no precision: it counts for recall only
        values = [(v[measure], t) for t, v in scored_types.items() if v[measure] is not None]
        if not values:
            return None, None
        value, etype = min(values)
        return value, etype

    worst_precision, worst_precision_type = worst("precision")
    worst_recall, worst_recall_type = worst("recall")
    overall = {
        **totals,
        "precision": _ratio(totals["matched"], totals["flagged"]),
        "recall": _ratio(totals["matched"], totals["injected"]),
        "scored_types": len(scored_types),
        "unscored": sorted(t for t, v in types.items() if not v["scored"]),
        "unscored_flagged": sorted(
            t for t, v in types.items() if not v["scored"] and v["flagged"]
        ),
        "worst_precision": worst_precision,
        "worst_precision_type": worst_precision_type,
        "worst_recall": worst_recall,
        "worst_recall_type": worst_recall_type,
    }
    return {"types": types, "overall": overall}
