"""PHI masked in Great Expectations' results before anything stores or renders them.

GX puts failing values into a validation result (``partial_unexpected_list``,
``partial_unexpected_counts``, ``partial_unexpected_index_list`` with the key columns beside the
tested one, ``unexpected_list``, ``observed_value`` of an aggregate). The result is stored
(``$BILLOPS_HOME/gx/validations``), rendered into the Data Docs and read into
``dq.expectation_results``; :func:`mask_result` rewrites it in place first. A rule keeps its
verdict (a birth date in the future still fails); only the values it would show become
``billops.phi.MASK``.
"""

from __future__ import annotations

from typing import Any

from billops.phi import MASK, PHI_COLUMNS
from expectations.spec import Rule, SuiteSpec

# Key columns that identify a patient in one table: a FHIR Patient's logical id is the patient
# id wherever the feed sends no MRN. Lineage keys (_batch_id, _file, _record) still point at the
# failing record.
PATIENT_ID_KEYS: dict[str, frozenset[str]] = {"raw.fhir_patient": frozenset({"id"})}
_VALUE_LISTS = ("partial_unexpected_list", "unexpected_list")
_ROW_LISTS = ("partial_unexpected_index_list", "unexpected_index_list")
_COUNT_LISTS = ("partial_unexpected_counts", "unexpected_counts")


def phi_columns(spec: SuiteSpec) -> frozenset[str]:
    """The columns of ``spec``'s table whose values are masked."""
    return PHI_COLUMNS | PATIENT_ID_KEYS.get(spec.data_asset, frozenset())


def tests_phi(rule: Rule, spec: SuiteSpec) -> bool:
    """Whether the values ``rule`` reports are PHI (it tests a PHI column)."""
    hidden = phi_columns(spec)
    return any(c in hidden for c in rule.columns)


def mask_row(row: dict[str, Any], hidden: frozenset[str]) -> dict[str, Any]:
    return {k: (MASK if k in hidden and v is not None else v) for k, v in row.items()}


def mask_details(details: dict[str, Any], phi_rule: bool, hidden: frozenset[str]) -> None:
    """Mask one expectation's ``result`` dict in place."""
    for key in _ROW_LISTS:
        rows = details.get(key)
        if isinstance(rows, list):
            details[key] = [mask_row(r, hidden) if isinstance(r, dict) else MASK for r in rows]
    if not phi_rule:
        return
    for key in _VALUE_LISTS:
        if isinstance(details.get(key), list):
            details[key] = [MASK for _ in details[key]]
    for key in _COUNT_LISTS:
        counts = details.get(key)
        if isinstance(counts, list):
            details[key] = [
                {"value": MASK, "count": c.get("count")} if isinstance(c, dict) else MASK
                for c in counts
            ]
    if "observed_value" in details:
        details["observed_value"] = MASK
    if isinstance(details.get("details"), dict):
        details["details"] = {}  # e.g. value counts of a distinct-values rule


def mask_result(result: Any, spec: SuiteSpec, rules: list[Rule]) -> None:
    """Mask a GX suite validation result (``ExpectationSuiteValidationResult``) in place."""
    by_name = {r.name: r for r in rules}
    hidden = phi_columns(spec)
    for one in result.results:
        rule = by_name.get((one.expectation_config.meta or {}).get("rule"))
        phi_rule = rule is None or tests_phi(rule, spec)
        if isinstance(one.result, dict):
            mask_details(one.result, phi_rule, hidden)
        info = one.exception_info or {}
        if phi_rule and isinstance(info, dict) and info.get("raised_exception"):
            # The message of a failing comparison may quote the value.
            info["exception_message"] = "the expectation raised on a PHI column (message withheld)"
            info["exception_traceback"] = None
