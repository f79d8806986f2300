"""Short constructors for the rules suites declare, so a suite reads as a list of facts.

Each helper names the rule after its column and check (``<column>_<check>``) unless ``name`` is
given; severity and owner team are always explicit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from billops.config import get_settings
from expectations.spec import Rule

# The period format of the marts, which dbt writes itself (extracts' formats are settings).
PERIOD = r"^[0-9]{4}-(?:0[1-9]|1[0-2])$"


def _rule(
    default: str,
    expectation: str,
    kwargs: dict[str, Any],
    severity: str,
    team: str,
    name: str | None,
    notes: str,
) -> Rule:
    return Rule(name or default, expectation, kwargs, severity, team, notes)


def schema(columns: Sequence[str], team: str = "DATA_ENGINEERING", notes: str = "") -> Rule:
    """The frame carries every contract column (extra columns are allowed)."""
    return Rule(
        "schema_contract_columns",
        "ExpectTableColumnsToMatchSet",
        {"column_set": list(columns), "exact_match": False},
        "critical",
        team,
        notes or "the table carries every column of its contract",
        blocks=True,
    )


def not_null(
    column: str, severity: str, team: str, *, name: str | None = None, notes: str = ""
) -> Rule:
    return _rule(
        f"{column}_not_null",
        "ExpectColumnValuesToNotBeNull",
        {"column": column},
        severity,
        team,
        name,
        notes,
    )


def unique(
    columns: str | Sequence[str],
    severity: str,
    team: str,
    *,
    name: str | None = None,
    notes: str = "",
) -> Rule:
    if isinstance(columns, str):
        return _rule(
            f"{columns}_unique",
            "ExpectColumnValuesToBeUnique",
            {"column": columns},
            severity,
            team,
            name,
            notes,
        )
    return _rule(
        f"{'_'.join(columns)}_unique",
        "ExpectCompoundColumnsToBeUnique",
        {"column_list": list(columns)},
        severity,
        team,
        name,
        notes,
    )


def in_set(
    column: str,
    values: Sequence[Any],
    severity: str,
    team: str,
    *,
    name: str | None = None,
    notes: str = "",
) -> Rule:
    return _rule(
        f"{column}_allowed",
        "ExpectColumnValuesToBeInSet",
        {"column": column, "value_set": list(values)},
        severity,
        team,
        name,
        notes,
    )


def matches(
    column: str, regex: str, severity: str, team: str, *, name: str | None = None, notes: str = ""
) -> Rule:
    return _rule(
        f"{column}_format",
        "ExpectColumnValuesToMatchRegex",
        {"column": column, "regex": regex},
        severity,
        team,
        name,
        notes,
    )


def between(
    column: str,
    severity: str,
    team: str,
    *,
    min_value: Any = None,
    max_value: Any = None,
    strict_min: bool = False,
    name: str | None = None,
    notes: str = "",
) -> Rule:
    kwargs: dict[str, Any] = {"column": column}
    if min_value is not None:
        kwargs["min_value"] = min_value
        if strict_min:
            kwargs["strict_min"] = True
    if max_value is not None:
        kwargs["max_value"] = max_value
    default = f"{column}_range"
    if min_value == 0 and max_value is None:
        default = f"{column}_positive" if strict_min else f"{column}_non_negative"
    if min_value == 0 and max_value == 0:
        default = f"{column}_zero"
    return _rule(default, "ExpectColumnValuesToBeBetween", kwargs, severity, team, name, notes)


def zero(
    column: str, severity: str, team: str, *, name: str, notes: str, blocks: bool = False
) -> Rule:
    """A computed difference (in cents) that must be zero: a tie-out. ``blocks`` when a break
    means the extract as a whole cannot be trusted (a control total)."""
    rule = between(column, severity, team, min_value=0, max_value=0, name=name, notes=notes)
    return replace(rule, blocks=blocks)


def not_before(
    later: str, earlier: str, severity: str, team: str, *, name: str | None = None, notes: str = ""
) -> Rule:
    """Dates in order: ``later`` >= ``earlier`` where both are present."""
    return _rule(
        f"{later}_not_before_{earlier}",
        "ExpectColumnPairValuesAToBeGreaterThanB",
        {
            "column_A": later,
            "column_B": earlier,
            "or_equal": True,
            "ignore_row_if": "either_value_is_missing",
        },
        severity,
        team,
        name,
        notes,
    )


def npi(column: str, severity: str, team: str, *, name: str | None = None) -> Rule:
    return _rule(
        f"{column}_valid",
        "ExpectColumnValuesToBeValidNpi",
        {"column": column},
        severity,
        team,
        name,
        "10 digits with the Luhn check digit over prefix 80840",
    )


def icd10cm(
    column: str, severity: str, team: str, *, billable: bool = False, name: str | None = None
) -> Rule:
    if billable:
        return _rule(
            f"{column}_billable_icd10cm",
            "ExpectColumnValuesToBeBillableIcd10Cm",
            {"column": column},
            severity,
            team,
            name,
            "a billable (leaf) ICD-10-CM code, not a category header",
        )
    return _rule(
        f"{column}_exists_in_icd10cm",
        "ExpectColumnValuesToBeKnownIcd10Cm",
        {"column": column},
        severity,
        team,
        name,
        "an ICD-10-CM code that exists in the code set (dot optional)",
    )


def procedure_code_format(column: str = "hcpcs", *, pattern: str | None = None) -> Rule:
    """A procedure code has the form the settings allow (HCPCS Level II or Level I by default);
    an unknown form warns on its record and flows on (issue: vocabularies are settings)."""
    return matches(
        column,
        pattern or get_settings().procedure_code_pattern,
        "warning",
        "CODING",
        name="procedure_code_format",
        notes="the code has a form the procedure_code_pattern setting allows",
    )
