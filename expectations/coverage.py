"""What a raw check covers: every row of each raw table, or the rows of the new batches.

The nightly check covers every row (``TABLE``): it is the one that releases a held unit whose
batch was waived or whose missing reference data arrived, and its results are the quality score.
The intraday check covers the batches that await a verdict (``BATCHES``: loaded since the last
check, or ``FAILED`` before), so it costs what the batches cost, not what the month holds:

* a suite whose system sent no such batch is not run (its last results stand);
* a row-level rule sees the new rows, whose verdict depends on nothing else;
* a uniqueness rule sees the new rows and every row sharing a key value with one of them, so a
  new row repeating an older row's key fails with both rows named, as in the nightly;
* looked-up and aggregated columns (a suite's ``query``) are computed over the whole tables
  before the rows are chosen, so a new row is checked against everything loaded.

What a ``BATCHES`` run does not see (an older row that would pass now) waits for the nightly;
nothing it leaves out is released, and its passes do not close a break an earlier run opened
(``expectations.breaks``).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from expectations import batches
from expectations.spec import SuiteSpec

TABLE, BATCHES = "table", "batches"
UNIQUE_EXPECTATIONS = ("ExpectColumnValuesToBeUnique", "ExpectCompoundColumnsToBeUnique")


@dataclass(frozen=True)
class Coverage:
    kind: str = TABLE
    pending: frozenset[tuple[str, str]] = frozenset()  # (system, batch_id) under a BATCHES run

    @classmethod
    def new_batches(cls, con: duckdb.DuckDBPyConnection) -> Coverage:
        """The batches awaiting a verdict (``expectations.batches.pending``)."""
        return cls(BATCHES, frozenset(batches.pending(con)))

    @property
    def whole(self) -> bool:
        return self.kind == TABLE

    def batch_ids(self, system: str | None) -> list[str]:
        return sorted(b for s, b in self.pending if s == system)

    def covers(self, spec: SuiteSpec) -> bool:
        """Whether the suite runs: always on a whole check, else when its system has batches."""
        return self.whole or bool(self.batch_ids(batches.system_of(spec.data_asset)))

    def new_rows(self, spec: SuiteSpec, batch_id: str = "_batch_id") -> tuple[str, list[object]]:
        """The predicate on ``batch_id`` (a column) that keeps the rows of the suite's system's
        batches under check, and its parameter (a BATCHES check only)."""
        return (f"list_contains(?::varchar[], {batch_id})",
                [self.batch_ids(batches.system_of(spec.data_asset))])

    def restrict(self, sql: str, spec: SuiteSpec) -> tuple[str, list[object]]:
        """``sql`` (the suite's rows) cut to the rows this check covers, and its parameters."""
        if self.whole:
            return sql, []
        new, params = self.new_rows(spec)
        keys = _unique_keys(spec)
        if not keys:  # the filter reaches the table scan
            return f"select * from ({sql}) where {new}", params
        # The new rows are few and read once; an older row joins them when it shares a key
        # value with one of them (all-missing keys are never duplicates).
        shares = " or ".join(
            "exists (select 1 from new_rows n where ("
            + " or ".join(f'n."{c}" is not null' for c in columns) + ") and "
            + " and ".join(f'n."{c}" is not distinct from c."{c}"' for c in columns) + ")"
            for columns in keys)
        return (f"with checked as not materialized ({sql}), "
                f"new_rows as materialized (select * from checked where {new}) "
                f"select * from new_rows union all "
                f"select c.* from checked c where not {self.new_rows(spec, 'c._batch_id')[0]} "
                f"and ({shares})", [*params, *params])


def _unique_keys(spec: SuiteSpec) -> list[tuple[str, ...]]:
    """The column lists of the suite's uniqueness rules (the as-of does not change them)."""
    keys = [tuple(rule.columns) for rule in spec.rules(None)
            if rule.expectation in UNIQUE_EXPECTATIONS]
    return list(dict.fromkeys(keys))
