"""No SQL is built from values by string formatting (issue 13, docs/security.md).

Every f-string in the product code that builds SQL is read with ``ast``; each value it
interpolates must be one of: a literal, a module constant (UPPER_CASE), a number (``int(...)``),
a name passed through ``billops.sql`` (``identifier``, ``quote_identifier``, ``literal``), a
join of those, or an entry of ``REVIEWED`` below, where a reviewer recorded why the expression
can only hold SQL names or fragments built from the code's fixed lists (never a value from data,
a file or a user). A new interpolation fails this test until it is parameterised or reviewed.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from billops.close import PERIOD, close_period
from billops.config import Settings
from billops.errors import BillopsError
from billops.sql import identifier, literal, quote_identifier

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("billops", "expectations", "dashboards", "process_mining", "dags", "bench")
_KEYWORD = (r"select|with|insert|update|delete|create|alter|drop|copy|attach|detach|comment|"
            r"describe|set|pragma|from|where|and|or|join|left|order|group|union|having|limit|"
            r"case|when|cast|coalesce|count|sum|min|max|nullif|timezone|try_cast|on|values")
_LEADING_SQL = re.compile(rf"^\s*\(?\s*(?:{_KEYWORD})(?=[\s(])", re.I)
_STRONG_SQL = re.compile(
    r"\bselect\b[\s\S]*\bfrom\b|\binsert\s+into\b|\bdelete\s+from\b|\bcreate\s+(?:or\s+replace\s+)?"
    r"(?:temp\s+)?(?:table|view|schema)\b|\balter\s+table\b|\bdrop\s+(?:table|view)\b|"
    r"\bcopy\s*\(|\bcomment\s+on\b|\bfilter\s*\(\s*where\b",
    re.I,
)
_SAFE_CALLS = {"identifier", "quote_identifier", "literal", "type_name", "int", "float", "len"}
_NOT_SQL = re.compile(r"^\s*(?:select|set) (?:a|an|the|one)\b", re.I)  # English messages

# file -> {interpolated expression: why it can only be SQL names or code-built fragments}
_NAMES = "a table, schema or column name from the module's fixed lists"
_FRAGMENT = "an SQL fragment this module builds from fixed names and ? placeholders"
_STAGED = "the name of a temporary table this module creates (a constant or a staging result)"
REVIEWED: dict[str, dict[str, str]] = {
    "bench/bench_nightly.py": {
        "kept": "quoted column names read from the attached warehouse's catalog",
        "table": "a marts table name read from the attached warehouse's catalog",
    },
    "expectations/coverage.py": {
        "new": _FRAGMENT, "self.new_rows(spec, 'c._batch_id')[0]": _FRAGMENT,
        "shares": "a fragment over a suite's declared key columns and ? placeholders",
        "sql": "the suite's own query (expectations.runner.read_frame)",
    },
    "bench/bench_mining.py": {
        "cases": "an int from the benchmark's own sizes",
        "events": "an int from the benchmark's own sizes",
        "detour_sql": "a list literal built from the DETOURS constant",
        "path_sql": "a list literal built from the PATH constant",
    },
    "billops/ingest/ledger.py": {"table": "a raw-zone table from raw_schema.TABLES"},
    "billops/quarantine.py": {
        "amount": "a column name from raw_schema's unit declarations",
        "body": "the DDL column list of the quarantine contract (constants)",
    },
    "billops/scorecard.py": {"column": "a key column from the scorecard's fixed map"},
    "billops/warehouse.py": {
        "anchor": "a path through billops.sql.literal (a view cannot take parameters)",
        "glob": "a path through billops.sql.literal (a view cannot take parameters)",
        "body": "a view body built from identifier() names and literal() paths",
        "cols": "identifier() names of the raw-zone contract",
        "view": "identifier() of a raw-zone table name",
    },
    "billops/ops_store.py": {
        "table": "ops.exception_status or an ops_copy table (the callers' constants)",
    },
    "billops/ops_copy.py": {
        "body": "column DDL from the ITEM_COLUMNS and EVENT_COLUMNS constants",
        "table": "ops.work_items or ops.work_item_events (the _COPIES constant)",
    },
    "billops/workflow/journal.py": {
        "_placeholders(accounts)": "? placeholders, one per bound account id",
        "_placeholders(types)": "? placeholders, one per bound account type",
    },
    "dashboards/process_data.py": {
        "' and '.join(clauses)": _FRAGMENT, "' or '.join(clauses)": _FRAGMENT,
        "column": _NAMES, "columns": _NAMES, "order": "an order-by from a fixed map",
        "schema": _NAMES, "table": _NAMES, "where": _FRAGMENT,
    },
    "dashboards/quality_data.py": {"where": _FRAGMENT},
    "dashboards/recon_data.py": {
        "column": _NAMES, "condition": _FRAGMENT, "marks": "? placeholders", "where": _FRAGMENT,
    },
    "expectations/quarantine.py": {
        "' union all '.join(counts)": _FRAGMENT, "hold.amount_sql": _FRAGMENT,
        "hold.key_column": _NAMES, "hold.kind": "a unit kind from raw_schema's declarations",
        "key": _NAMES, "name": _NAMES, "table": _NAMES, "table.system": "ehr, rcm or erp",
        "unit": "a unit kind from raw_schema's declarations",
    },
    "expectations/results_store.py": {
        "', '.join(columns)": _NAMES, "body": "DDL from the results contract (constants)",
        "column": _NAMES, "kind": "a DuckDB type from the results contract", "marks": "? placeholders",
        "table": _NAMES,
    },
    "expectations/runner.py": {
        "predicate": _FRAGMENT, "present": _NAMES,
        "spec.data_asset": "a suite's table, declared in expectations/suites", "sql": _FRAGMENT,
    },
    "expectations/scores.py": {
        "\' \'.join((f\"when score >= {floor} and (critical_failed = 0 or \'{letter}\' not in (\'A\', \'B\')) then \'{letter}\'\" for letter, floor in GRADE_FLOORS))":
            "the grade scale from the GRADE_FLOORS constant",
        "floor": "a number from the GRADE_FLOORS constant",
        "letter": "a letter from the GRADE_FLOORS constant",
    },
    "expectations/spec.py": {
        "cols": "a suite's declared columns", "self.data_asset": "a suite's declared table",
    },
    "expectations/suites/raw_rcm.py": {"column": "a column of the suite's declared list"},
    "process_mining/conformance.py": {
        "events": _STAGED, "staged.traces": _STAGED, "staged.variants": _STAGED,
    },
    "process_mining/dfg.py": {
        "activities_sql": _FRAGMENT, "events": _STAGED,
        "limit_sql": "a limit clause of int(limit)", "ranked": _STAGED,
        "s.activities": _STAGED, "s.traces": _STAGED, "s.variants": _STAGED,
    },
    "process_mining/event_log.py": {
        "', '.join(dict.fromkeys(selects))": "expressions over quote_identifier() names",
        "act": "an expression over a quote_identifier() name", "c": _NAMES,
        "events": _STAGED, "optional": _FRAGMENT, "quoted": "a quote_identifier() name",
        "quoted['activity']": "a quote_identifier() name",
        "quoted['case_id']": "a quote_identifier() name",
        "quoted['resource']": "a quote_identifier() name",
        "quoted['ts']": "a quote_identifier() name",
        "res": "an expression over a quote_identifier() name",
        "role": "case_id, activity or ts (a fixed tuple)", "source": _STAGED,
        "ts": "an expression over a quote_identifier() name",
    },
    "process_mining/measures.py": {
        "_segment_union(dims, select)": _FRAGMENT,
        "_segmented(dims, select, 'pm_sla')": _FRAGMENT,
        "_segmented(dims, select, cases)": _FRAGMENT,
        "_sla_cases_sql(events, cases)": _FRAGMENT,
        "c": "a column of DIMENSION_COLUMNS", "cases": _STAGED,
        "col": "a column of DIMENSION_COLUMNS", "d": "a column of DIMENSION_COLUMNS",
        "dims": "columns of DIMENSION_COLUMNS", "events": _STAGED,
        "s.activities": _STAGED, "s.traces": _STAGED, "select": _FRAGMENT, "source": _STAGED,
        "staged.activities": _STAGED, "staged.traces": _STAGED, "staged.variants": _STAGED,
        "w": "float(rule.window_s) of a parsed SLA rule",
    },
    "process_mining/mine.py": {"staged": _STAGED, "table": "a pm table from the module's fixed list"},
    "process_mining/tables.py": {
        "table": "a pm table name declared in the module",
        "typed": "column names and types declared in the module",
    },
}


def _safe(node: ast.expr) -> bool:
    match node:
        case ast.Constant():
            return True
        case ast.Name(id=name) | ast.Attribute(attr=name) if name.isupper():
            return True
        case ast.JoinedStr(values=values):
            return all(_safe(v.value) if isinstance(v, ast.FormattedValue) else True for v in values)
        case ast.BinOp(left=left, right=right):
            return _safe(left) and _safe(right)
        case ast.IfExp(body=body, orelse=orelse):
            return _safe(body) and _safe(orelse)
        case ast.Call(func=ast.Attribute(attr="join"), args=[arg]):
            element = arg.elt if isinstance(arg, ast.GeneratorExp | ast.ListComp) else arg
            return _safe(element)
        case ast.Call(func=ast.Name(id=name) | ast.Attribute(attr=name)) if name in _SAFE_CALLS:
            return True
    return False


def _is_sql(node: ast.JoinedStr) -> bool:
    text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    if _NOT_SQL.match(text):
        return False
    leading = not text.startswith("{}") and _LEADING_SQL.match(text)
    return bool(leading or _STRONG_SQL.search(text))


def interpolations() -> set[tuple[str, str]]:
    """(file, expression) of every value interpolated into an SQL f-string that is not safe."""
    found: set[tuple[str, str]] = set()
    for folder in PRODUCT:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.JoinedStr) or not _is_sql(node):
                    continue
                for part in node.values:
                    if isinstance(part, ast.FormattedValue) and not _safe(part.value):
                        found.add((str(path.relative_to(ROOT)), ast.unparse(part.value)))
    return found


def test_sql_is_never_built_from_values() -> None:
    reviewed = {(f, e) for f, exprs in REVIEWED.items() for e in exprs}
    unreviewed = sorted(interpolations() - reviewed)
    assert not unreviewed, (
        "values formatted into SQL (bind them as ? parameters, pass names through billops.sql, "
        f"or review them in REVIEWED): {unreviewed}")


def test_reviewed_entries_still_exist() -> None:
    stale = {(f, e) for f, exprs in REVIEWED.items() for e in exprs} - interpolations()
    assert not stale, f"REVIEWED lists interpolations that no longer exist: {sorted(stale)}"


def test_the_scanner_finds_a_value_formatted_into_sql(tmp_path: Path) -> None:
    tree = ast.parse("con.execute(f\"select * from t where period = '{period}'\")")
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.JoinedStr))
    assert _is_sql(node)
    assert not _safe(node.values[1].value)
    safe = ast.parse("f'select {COLS} from {identifier(t)} limit {int(n)}'").body[0].value
    assert all(_safe(v.value) for v in safe.values if isinstance(v, ast.FormattedValue))


def test_sql_names_and_literals_refuse_what_they_cannot_hold() -> None:
    assert identifier("marts.fct_claims") == "marts.fct_claims"
    for bad in ("x; drop table y", "a b", "1x", "t--"):
        with pytest.raises(BillopsError):
            identifier(bad)
    with pytest.raises(BillopsError):
        identifier("marts.fct_claims", allowed={"marts.fct_charges"})
    assert quote_identifier('a"b') == '"a""b"'
    assert literal("/x/it's") == "'/x/it''s'"
    for bad in ("a\x00b", "a\nb"):
        with pytest.raises(BillopsError):
            literal(bad)


@pytest.mark.parametrize("period", ["2026-10\n", "2026-10' or 1=1 --", "2026-13", " 2026-10"])
def test_close_refuses_a_period_that_is_not_exactly_yyyy_mm(period: str, tmp_path: Path) -> None:
    assert not PERIOD.fullmatch(period)
    with pytest.raises(BillopsError, match="expected YYYY-MM"):
        close_period(period, settings=Settings(home=tmp_path))
