"""The workflow's command line: billops routing, work, adjustments (one-line errors)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from workflow_support import add_users, exception, synced

from billops.config import Settings


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLOPS_")}
    env["BILLOPS_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "billops", *args], env=env, cwd=home,
                          capture_output=True, text=True, timeout=120)


def test_work_routing_and_adjustments_from_the_command_line(billops_home: Settings) -> None:
    home = billops_home.home
    add_users(billops_home)
    synced(billops_home, [exception("E1"), exception("E2", "LATE_CHARGE")])
    listed = _cli(home, "work", "list", "--queue", "CODING", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [i["exception_id"] for i in json.loads(listed.stdout)] == ["E2"]

    acted = _cli(home, "work", "act", "E1", "claim", "--version", "1", "--by", "sam", "--role",
                 "billing_specialist", "--json")
    assert acted.returncode == 0, acted.stderr
    assert json.loads(acted.stdout)[0]["status"] == "ASSIGNED"
    stale = _cli(home, "work", "act", "E1", "resolve", "--version", "1", "--by", "sam",
                 "--role", "billing_specialist", "--resolution-code", "REBILLED")
    assert stale.returncode == 2
    assert stale.stderr == ("billops: work item E1: version 1 is stale; the current version "
                            "is 2\n")
    lying = _cli(home, "work", "act", "E1", "comment", "--version", "2", "--by", "ana",
                 "--role", "admin", "--reason", "hello")
    assert lying.stderr == "billops: user ana: role is analyst, not admin\n"

    shown = _cli(home, "routing", "show", "--json")
    assert json.loads(shown.stdout)["version"] == 1  # the sync loaded the shipped table
    bad = home / "bad.csv"
    bad.write_text("rule_id,exception_type,entity,payer_id,min_amount,max_amount,queue,"
                   "sla_business_hours,escalation_queue\nX,DENIAL,*,*,,,NOWHERE,4,FINANCE\n")
    refused = _cli(home, "routing", "load", str(bad), "--by", "dan")
    assert refused.returncode == 2 and "queue 'NOWHERE'" in refused.stderr
    assert refused.stderr.count("\n") == 1

    made = _cli(home, "adjustments", "request", "A1", "--kind", "write_off", "--amount", "50",
                "--reason", "small balance", "--by", "sam", "--role", "billing_specialist",
                "--json")
    assert made.returncode == 0, made.stderr
    adjustment_id = json.loads(made.stdout)[0]["adjustment_id"]
    approved = _cli(home, "adjustments", "approve", adjustment_id, "--by", "amy", "--json")
    assert approved.returncode == 0, approved.stderr
    assert json.loads(approved.stdout)[0]["status"] == "APPROVED"
    again = _cli(home, "adjustments", "approve", adjustment_id, "--by", "amy")
    assert again.returncode == 2 and again.stderr.endswith("already APPROVED\n")
