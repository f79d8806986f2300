"""SLA rules chosen by the user: parsing, settings, and breaches on an external log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from billops.config import Settings
from billops.errors import BillopsError
from process_mining.measures import parse_sla_rule, sla_rules
from process_mining.mine import mine_file

LOG = """case,activity,ts
a,REGISTERED,2026-01-01T08:00:00+00:00
a,TRIAGED,2026-01-01T08:30:00+00:00
a,TREATED,2026-01-01T10:00:00+00:00
b,REGISTERED,2026-01-01T09:00:00+00:00
b,TRIAGED,2026-01-01T12:00:00+00:00
b,TREATED,2026-01-01T12:10:00+00:00
c,REGISTERED,2026-01-01T09:00:00+00:00
c,TRIAGED,2026-01-01T09:20:00+00:00
d,REGISTERED,2026-01-01T11:00:00+00:00
"""


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "log.csv"
    path.write_text(LOG)
    return path


def test_parse_rule_with_and_without_name() -> None:
    rule = parse_sla_rule("triage=REGISTERED>TRIAGED@1h")
    assert (rule.name, rule.source, rule.target, rule.window_s) == (
        "triage", "REGISTERED", "TRIAGED", 3600.0)
    assert parse_sla_rule("A B>C@2.5d").name == "A B>C"
    assert parse_sla_rule("A B>C@2.5d").window_s == 2.5 * 86400


@pytest.mark.parametrize("text", ["REGISTERED>TRIAGED", "REGISTERED@1h", "A>B@1w", "A>B@h", ""])
def test_malformed_rule_is_one_clear_error(text: str) -> None:
    with pytest.raises(BillopsError, match="expected \\[name=\\]SOURCE>TARGET@DURATION"):
        parse_sla_rule(text)


def test_rules_from_settings_replace_the_defaults(tmp_path: Path) -> None:
    defaults = sla_rules(Settings(home=tmp_path))
    assert [r.name for r in defaults] == ["billing_window", "follow_up_window"]
    chosen = sla_rules(Settings(home=tmp_path, sla_rules="x=A>B@1d; y=B>C@2h"))
    assert [(r.name, r.window_s) for r in chosen] == [("x", 86400.0), ("y", 7200.0)]
    cli = sla_rules(Settings(home=tmp_path, sla_rules="x=A>B@1d"), ("z=C>D@1m",))
    assert [r.name for r in cli] == ["z"]
    with pytest.raises(BillopsError, match="used twice"):
        sla_rules(Settings(home=tmp_path), ("x=A>B@1d", "x=B>C@1d"))


def test_breaches_on_an_external_log(log: Path) -> None:
    result = mine_file(log, "case", "activity", "ts", sla_chosen=("triage=REGISTERED>TRIAGED@1h",))
    (summary,) = [row for row in result["sla"] if row["dimension"] == "all"]
    # a: 30 min, c: 20 min (met); b: 3 h (breach); d: never triaged, open 1 h 10 min after the
    # log's latest event at 12:10 -> open breach.
    assert summary["cases"] == 4
    assert summary["breaches"] == 2
    assert summary["open_breaches"] == 1
    late = {row["case_id"]: row for row in result["sla_breaches"]}
    assert set(late) == {"b", "d"}
    assert late["b"]["elapsed_s"] == 3 * 3600 and not late["b"]["open"]
    assert late["d"]["open"]


def test_contract_unchanged_without_rules(log: Path) -> None:
    assert "sla" not in mine_file(log, "case", "activity", "ts")


def test_cli_sla_option(log: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLOPS_")}
    env["BILLOPS_HOME"] = str(tmp_path)
    base = [sys.executable, "-m", "billops", "mine", "--log", str(log), "--case", "case",
            "--activity", "activity", "--timestamp", "ts", "--json"]
    ok = subprocess.run([*base, "--sla", "REGISTERED>TREATED@2h"], env=env, cwd=tmp_path,
                        capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    result = json.loads(ok.stdout)
    # a takes exactly 2 h (met), b 3 h 10 min, c never treated (3 h 10 min open), d open 1 h 10 min
    assert {row["case_id"] for row in result["sla_breaches"]} == {"b", "c"}
    bad = subprocess.run([*base, "--sla", "nonsense"], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0
    last = [line for line in bad.stderr.splitlines() if line.strip()][-1]
    assert last.startswith("billops: SLA rule 'nonsense'") and "Traceback" not in bad.stderr
