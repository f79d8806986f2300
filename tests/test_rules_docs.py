"""docs/rules.md stays in step with the exception vocabulary, the rule models, their dbt unit tests
and the rule settings: a type, model, unit test or setting added, removed or renamed without the
page changing fails here."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import yaml

from billops.config import Settings
from billops.transform import RULE_VARS

REPO = Path(__file__).resolve().parents[1]
DBT = REPO / "dbt_project"
RULES = REPO / "docs" / "rules.md"
KEYS = {"account_id", "charge_id", "trace_number", "journal_id", "statement_id"}
TEST_REF = re.compile(r"`(\w+)::(\w+)`")
CODE = re.compile(r"`([^`]+)`")


def _text() -> str:
    return RULES.read_text()


def _vocabulary() -> dict[str, str]:
    """exception_type -> owner_team, from the routing seed (the single vocabulary)."""
    with (DBT / "seeds" / "exception_routing.csv").open(newline="") as f:
        return {row["exception_type"]: row["owner_team"] for row in csv.DictReader(f)}


def _table(text: str, heading: str) -> list[list[str]]:
    """Rows (cells stripped) of the first markdown table after `heading`."""
    body = text.split(heading, 1)[1]
    rows: list[list[str]] = []
    started = False
    for line in body.splitlines():
        if line.startswith("|"):
            started = True
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not set("".join(cells)) <= set("-: "):
                rows.append(cells)
        elif started:
            break
    return rows[1:]  # without the header


def _unquote(cell: str) -> str:
    return cell.strip().strip("`")


def _sections(text: str) -> dict[str, dict[str, str]]:
    """`### `TYPE`` sections of the Rules chapter: field name -> value of its bullets."""
    sections: dict[str, dict[str, str]] = {}
    rules = text.split("\n## Rules\n", 1)[1]
    for block in re.split(r"^### ", rules, flags=re.M)[1:]:
        title, _, body = block.partition("\n")
        fields: dict[str, str] = {}
        current = None
        for line in body.splitlines():
            bullet = re.match(r"^- ([A-Za-z ]+?):\s*(.*)$", line)
            if bullet:
                current = bullet.group(1)
                fields[current] = bullet.group(2)
            elif current and line.startswith("  "):
                fields[current] += " " + line.strip()
            elif line.strip():
                current = None
        name = _unquote(title.strip())
        assert name not in sections, f"rules.md: two sections for {name}"
        sections[name] = fields
    return sections


def _models() -> dict[str, Path]:
    return {p.stem: p for p in (DBT / "models").rglob("*.sql")}


def _unit_tests() -> dict[tuple[str, str], dict[str, Any]]:
    tests: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted((DBT / "models").rglob("*.yml")):
        for test in (yaml.safe_load(path.read_text()) or {}).get("unit_tests") or []:
            tests[(test["model"], test["name"])] = test
    return tests


def _rule_models() -> set[str]:
    """The models unioned in marts.billing_exceptions."""
    sql = (DBT / "models" / "marts" / "billing_exceptions.sql").read_text()
    families = re.search(r"set rule_models = \[(.*?)\]", sql, flags=re.S)
    assert families, "billing_exceptions.sql: rule_models list not found"
    return set(re.findall(r"'(\w+)'", families.group(1)))


def _vars_read(model: str) -> set[str]:
    sql = _models()[model].read_text()
    return set(re.findall(r"var\('(\w+)'\)", sql)) | set(
        re.findall(r"plus_window\([^)]*?'(\w+)'\s*\)", sql)
    )


def _project_vars() -> dict[str, Any]:
    return yaml.safe_load((DBT / "dbt_project.yml").read_text())["vars"]


def _architecture_keys() -> dict[str, str]:
    text = (REPO / "docs" / "architecture.md").read_text()
    keys = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 3 and re.fullmatch(r"[A-Z_]+", cells[0]):
            keys[cells[0]] = cells[2].split()[0]
    return keys


def _settings_table() -> dict[str, list[str]]:
    rows = _table(_text(), "\n## Settings\n")
    names = [_unquote(r[0]) for r in rows]
    assert len(names) == len(set(names)), "rules.md: a setting listed twice"
    return {_unquote(r[0]): r for r in rows}


def _listed(field: str) -> set[str]:
    return set() if field.strip().lower() == "none" else set(CODE.findall(field))


def test_every_exception_type_has_one_row_and_one_section() -> None:
    vocabulary = _vocabulary()
    summary = [_unquote(r[0]) for r in _table(_text(), "\n## Summary\n")]
    assert sorted(summary) == sorted(vocabulary), "rules.md summary vs exception_routing.csv"
    assert len(summary) == len(set(summary))
    assert set(_sections(_text())) == set(vocabulary), "rules.md sections vs exception_routing.csv"


def test_the_taxonomy_module_is_the_routing_seeds_vocabulary() -> None:
    from billops.taxonomy import EXCEPTION_TYPES

    assert sorted(EXCEPTION_TYPES) == sorted(_vocabulary())


def test_owner_team_model_and_key_agree_with_the_project() -> None:
    vocabulary, sections, models = _vocabulary(), _sections(_text()), _models()
    architecture = _architecture_keys()
    for row in _table(_text(), "\n## Summary\n"):
        name, team, model, key = _unquote(row[0]), row[1], _unquote(row[2]), _unquote(row[3])
        section = sections[name]
        for field in (
            "Definition",
            "Source",
            "What the SQL does",
            "Model",
            "Key",
            "Owner team",
            "Settings",
            "Unit tests",
        ):
            assert section.get(field, "").strip(), f"rules.md {name}: no {field}"
        assert team == section["Owner team"] == vocabulary[name], f"{name}: owner team"
        assert model == _unquote(section["Model"]), f"{name}: model differs in summary/section"
        assert key == _unquote(section["Key"]), f"{name}: key differs in summary/section"
        assert key in KEYS, f"{name}: unknown key {key}"
        assert architecture.get(name) == key, f"{name}: key differs from docs/architecture.md"
        assert model in models, f"{name}: no model {model}"
        assert f"'{name}'" in models[model].read_text(), f"{model} does not decide {name}"


def test_every_rule_model_is_documented() -> None:
    documented = {_unquote(r[2]) for r in _table(_text(), "\n## Summary\n")}
    assert documented == _rule_models(), "rules.md models vs billing_exceptions.sql families"
    on_disk = {m for m in _models() if m.startswith("int_exc_")}
    assert documented == on_disk, "rules.md models vs models/intermediate/int_exc_*.sql"


def test_every_unit_test_named_exists() -> None:
    tests = _unit_tests()
    named = set(TEST_REF.findall(_text()))
    assert named, "rules.md names no unit test"
    missing = sorted(f"{m}::{t}" for m, t in named if (m, t) not in tests)
    assert not missing, f"rules.md names unit tests that do not exist: {missing}"


def test_every_rule_unit_test_is_documented() -> None:
    sections = _sections(_text())
    in_sections = {ref for s in sections.values() for ref in TEST_REF.findall(s["Unit tests"])}
    rule_models = _rule_models()
    undocumented = sorted(
        f"{m}::{t}" for m, t in _unit_tests() if m in rule_models and (m, t) not in in_sections
    )
    assert not undocumented, f"unit tests of the rule models missing from rules.md: {undocumented}"
    for name, section in sections.items():
        model = _unquote(section["Model"])
        own = [t for m, t in TEST_REF.findall(section["Unit tests"]) if m == model]
        assert own, f"{name}: no unit test of {model} named"


def test_settings_exist_with_the_stated_defaults() -> None:
    table, project = _settings_table(), _project_vars()
    fields = Settings.model_fields
    for name, row in table.items():
        env, default, read_by = row[1], yaml.safe_load(_unquote(row[2])), _listed(row[3])
        assert name in project, f"rules.md setting {name} is no dbt var in dbt_project.yml"
        assert project[name] == default, f"{name}: dbt_project.yml default {project[name]!r}"
        if name in RULE_VARS:
            assert _unquote(env) == f"BILLOPS_{name.upper()}", f"{name}: environment variable"
            settings_default = fields[name].get_default(call_default_factory=True)
            assert settings_default == default, f"{name}: billops default {settings_default!r}"
        else:
            assert "BILLOPS_" not in env, f"{name} has no BILLOPS_ setting (not in RULE_VARS)"
        assert read_by, f"{name}: read by no model"
        for model in read_by:
            assert name in _vars_read(model), f"{name}: {model} does not read it"


def test_every_setting_a_rule_model_reads_is_documented() -> None:
    table, sections = _settings_table(), _sections(_text())
    for name, section in sections.items():
        unknown = _listed(section["Settings"]) - set(table)
        assert not unknown, f"{name}: settings not in the settings table: {sorted(unknown)}"
    for model in _rule_models():
        read = _vars_read(model)
        documented = set().union(
            *(_listed(s["Settings"]) for s in sections.values() if _unquote(s["Model"]) == model)
        )
        missing = sorted(read - documented)
        assert not missing, f"{model} reads settings no rule of it documents: {missing}"
        for var in read:
            assert model in _listed(table[var][3]), f"{var}: read by {model}, not listed"


def test_readme_links_the_rules_page() -> None:
    text = (REPO / "README.md").read_text()
    assert "docs/rules.md" in text[: text.index("## ")]
