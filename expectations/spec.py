"""Plain descriptions of suites and their rules, kept free of Great Expectations imports.

A suite names the warehouse table it checks, the source it belongs to (for the quality score),
its layer (``raw`` suites run right after ingest and can stop the nightly run; ``mart`` suites
run after dbt), the key columns that identify a failing row in a result sample, an optional SQL
``query`` that adds looked-up or aggregated columns in DuckDB (cross-table checks), an optional
``prepare`` step in pandas, and its rules. Rules name a GX expectation class and its keyword
arguments; ``expectations.validate`` turns them into GX objects only when a validation runs, so
importing a suite stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

# Columns whose values never leave the warehouse in a result sample: the vocabulary of billops.phi.
from billops.phi import MASK, PHI_COLUMNS  # noqa: F401  (re-exported)
from billops.taxonomy import OWNER_TEAMS  # defined once there; rules are checked against it

SEVERITIES = frozenset({"critical", "warning"})
# What a failing raw rule does (docs/data-quality.md): ``block`` stops publication, because the
# extract as a whole cannot be trusted (a broken schema, unbalanced GL journals); ``quarantine``
# holds back only the failing units (a record, an 835 transaction set, an 837 claim, a GL journal,
# per billops.raw_schema) and publishes the rest; ``warn`` records the break and holds nothing.
SCOPES = ("block", "quarantine", "warn")
LAYERS = ("raw", "mart")


@dataclass(frozen=True)
class Rule:
    """One expectation: ``expectation`` is the GX class name, e.g. ``ExpectColumnValuesToBeUnique``
    (or one of ours from ``expectations.custom``)."""

    name: str
    expectation: str
    kwargs: dict[str, Any]
    severity: str
    owner_team: str
    notes: str = ""  # why the rule exists; shown in Data Docs
    blocks: bool = False  # a critical failure means the whole extract cannot be trusted

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(
                f"rule {self.name}: severity {self.severity!r} not in {sorted(SEVERITIES)}"
            )
        if self.owner_team not in OWNER_TEAMS:
            raise ValueError(
                f"rule {self.name}: owner_team {self.owner_team!r} not in {sorted(OWNER_TEAMS)}"
            )

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
    def row_level(self) -> bool:
        """Whether GX reports failing rows (map expectations) rather than a table-level verdict."""
        return bool(self.columns) and "column_set" not in self.kwargs

    @property
    def scope(self) -> str:
        """``block``, ``quarantine`` or ``warn``: what a failure of this rule on raw data does."""
        if self.severity == "warning":
            return "warn"
        return "block" if self.blocks else "quarantine"

    @property
    def meta(self) -> dict[str, str]:
        meta = {
            "rule": self.name,
            "severity": self.severity,
            "owner_team": self.owner_team,
            "scope": self.scope,
        }
        if self.notes:
            meta["notes"] = self.notes
        return meta


def _unchanged(frame: pd.DataFrame) -> pd.DataFrame:
    return frame


@dataclass(frozen=True)
class SuiteSpec:
    """A suite on one table. ``rules(as_of)`` gets the data's as-of time (None before any load).

    ``columns`` are the contract columns read from ``data_asset``; ``query`` (optional) is the SQL
    that reads them plus derived columns, ``{asset}`` standing for the table.
    """

    name: str
    data_asset: str  # schema.table
    columns: tuple[str, ...]
    rules: Callable[[datetime | None], list[Rule]]
    prepare: Callable[[pd.DataFrame], pd.DataFrame] = field(default=_unchanged)
    source: str = "marts"
    layer: str = "mart"
    keys: tuple[str, ...] = ()
    query: str | None = None

    def __post_init__(self) -> None:
        if self.layer not in LAYERS:
            raise ValueError(f"suite {self.name}: layer {self.layer!r} not in {LAYERS}")

    def sql(self) -> str:
        if self.query:
            return self.query.format(asset=self.data_asset)
        cols = ", ".join(f'"{c}"' for c in self.columns)
        return f"select {cols} from {self.data_asset}"


def cents(values: pd.Series) -> pd.Series:
    """Money as whole cents (int64), so equality checks are exact; a missing amount counts as 0."""
    return (pd.to_numeric(values, errors="coerce").fillna(0) * 100).round().astype("int64")


def timestamps(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Dates and timestamps as ``datetime64[us]`` so GX compares them with each other and as-of."""
    frame = frame.copy()
    for col in columns:
        frame[col] = pd.to_datetime(frame[col], format="ISO8601").astype("datetime64[us]")
    return frame
