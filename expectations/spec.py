"""Plain descriptions of suites and their rules, kept free of Great Expectations imports.

A suite names the warehouse table it checks, the columns it reads, an optional ``prepare`` step
that adds helper columns (e.g. amounts in cents for exact tie-outs), and its rules. Rules name a
GX expectation class and its keyword arguments; ``expectations.validate`` turns them into GX
objects only when a validation actually runs, so importing a suite stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

SEVERITIES = frozenset({"critical", "warning"})
OWNER_TEAMS = frozenset({"PATIENT_ACCESS", "CODING", "BILLING", "CASH_POSTING", "FINANCE"})

# Columns whose values never leave the warehouse in a result sample. Names, birth dates and member
# ids are PHI; patient ids (medical record numbers) and postal codes are HIPAA identifiers too.
PHI_COLUMNS = frozenset({
    "family_name", "given_name", "birth_date", "postal_code", "member_id", "subscriber_id",
    "subscriber_last_name", "subscriber_first_name", "subscriber_birth_date",
    "member_id_on_file", "patient_id", "resource_json",
})


@dataclass(frozen=True)
class Rule:
    """One expectation: ``expectation`` is the GX class name, e.g. ``ExpectColumnValuesToBeUnique``."""

    name: str
    expectation: str
    kwargs: dict[str, Any]
    severity: str
    owner_team: str

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule {self.name}: severity {self.severity!r} not in {sorted(SEVERITIES)}")
        if self.owner_team not in OWNER_TEAMS:
            raise ValueError(f"rule {self.name}: owner_team {self.owner_team!r} not in {sorted(OWNER_TEAMS)}")

    @property
    def columns(self) -> list[str]:
        """The columns the rule reads, in the order GX names them."""
        kw = self.kwargs
        if "column" in kw:
            return [kw["column"]]
        if "column_A" in kw:
            return [kw["column_A"], kw["column_B"]]
        return list(kw.get("column_list", []))

    @property
    def meta(self) -> dict[str, str]:
        return {"rule": self.name, "severity": self.severity, "owner_team": self.owner_team}


def _unchanged(frame: pd.DataFrame) -> pd.DataFrame:
    return frame


@dataclass(frozen=True)
class SuiteSpec:
    """A suite on one table. ``rules(as_of)`` gets the data's as-of time (None before any load)."""

    name: str
    data_asset: str  # schema.table
    columns: tuple[str, ...]  # read from the table; nothing else is loaded
    rules: Callable[[datetime | None], list[Rule]]
    prepare: Callable[[pd.DataFrame], pd.DataFrame] = field(default=_unchanged)


def cents(values: pd.Series) -> pd.Series:
    """Money as whole cents (int64), so equality checks are exact; a missing amount counts as 0."""
    return (pd.to_numeric(values, errors="coerce").fillna(0) * 100).round().astype("int64")
