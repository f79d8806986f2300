"""Building blocks shared by the suites: a raw-table suite and a mart suite from a rule list."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import pandas as pd

from billops.raw_schema import TABLES
from expectations.rules import in_set, schema
from expectations.spec import Rule, SuiteSpec, _unchanged

LINEAGE_KEYS = ("_batch_id", "_file", "_record")
# Whole-resource JSON is large and PHI-laden; no rule reads it.
NOT_READ = frozenset({"resource_json"})

RuleList = Callable[[datetime | None], list[Rule]]

# The validator's verdict on the file a row came from (raw._x12_validation): rows of an INVALID file stay
# loaded by policy, so the break is raised here; PENDING means not validated yet.
X12_VALIDATION_ACCEPTED = ("VALID", "PENDING", "UNSUPPORTED")
X12_VALIDATION_JOIN = """left join raw._x12_validation v
                    on v.batch_id = {alias}._batch_id and v.file = {alias}._file"""


# Every account number the EHR knows (docs/architecture.md: the Encounter's AN identifier, else the
# identifier of the Account it references, else Encounter.id), as a relation with column ``id``.
EHR_ACCOUNT_NUMBERS = """(select coalesce(e.account_number, a.account_number, e.id) as id
        from raw.fhir_encounter e left join raw.fhir_account a on a.id = e.account_ref_id
        union select id from raw.fhir_encounter)"""


def x12_file_not_invalid() -> Rule:
    """Needs ``coalesce(v.status, 'NOT_RECORDED') as x12_validation_status`` in the query."""
    return in_set(
        "x12_validation_status",
        X12_VALIDATION_ACCEPTED,
        "warning",
        "DATA_ENGINEERING",
        name="x12_file_passes_pyx12",
        notes="the X12 file passes validation against its 5010 implementation guide (or awaits it)",
    )


def raw_columns(table: str) -> tuple[str, ...]:
    return tuple(c for c in TABLES[table].columns if c not in NOT_READ) + LINEAGE_KEYS


def raw_suite(
    table: str,
    source: str,
    rules: RuleList,
    *,
    keys: Sequence[str] | None = None,
    query: str | None = None,
    prepare: Callable[[pd.DataFrame], pd.DataFrame] = _unchanged,
) -> SuiteSpec:
    """A suite on ``raw.<table>``: the contract columns plus the lineage columns, whose file and
    record number point at the exact landing record in a failing sample."""
    columns = raw_columns(table)

    def all_rules(as_of: datetime | None) -> list[Rule]:
        return [schema(columns), *rules(as_of)]

    return SuiteSpec(
        name=f"raw_{table}",
        data_asset=f"raw.{table}",
        columns=columns,
        rules=all_rules,
        prepare=prepare,
        source=source,
        layer="raw",
        keys=tuple(keys if keys is not None else TABLES[table].key) + LINEAGE_KEYS,
        query=query,
    )


def mart_suite(
    table: str,
    columns: Sequence[str],
    rules: RuleList,
    *,
    keys: Sequence[str],
    query: str | None = None,
    prepare: Callable[[pd.DataFrame], pd.DataFrame] = _unchanged,
) -> SuiteSpec:
    def all_rules(as_of: datetime | None) -> list[Rule]:
        return [schema(columns), *rules(as_of)]

    return SuiteSpec(
        name=f"marts_{table}",
        data_asset=f"marts.{table}",
        columns=tuple(columns),
        rules=all_rules,
        prepare=prepare,
        source="marts",
        layer="mart",
        keys=tuple(keys),
        query=query,
    )
