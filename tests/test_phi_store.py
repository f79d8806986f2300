"""The PHI store: its own owner-only file, one audited lookup by token, refused for other roles."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import duckdb
import pytest

from billops import ops_store
from billops.cli import main
from billops.config import Settings
from billops.errors import BillopsError
from billops.phi import key_path, tokenise
from billops.phi_store import lookup_patient, store_path, write_store
from billops.warehouse import connect

PATIENTS = [
    ("MRN-1", "Quixley", "Ada", "1961-04-09", "85001"),
    ("MRN-2", "Ombrant", "Bo", "1990-12-31", "85002"),
]


@pytest.fixture
def store(billops_home: Settings) -> Settings:
    with connect(billops_home) as con:
        con.execute("create table marts.dim_patients (patient_id varchar, family_name varchar, "
                    "given_name varchar, birth_date date, gender varchar, postal_code varchar, "
                    "managing_organization_id varchar)")
        con.executemany("insert into marts.dim_patients values (?, ?, ?, ?, 'female', ?, 'ORG')",
                        PATIENTS)
        con.execute("create table marts.dim_coverage_history (patient_id varchar, member_id varchar)")
        con.executemany("insert into marts.dim_coverage_history values (?, ?)",
                        [("MRN-1", "W123"), ("MRN-1", "Z9"), ("MRN-2", None)])
    write_store(billops_home)
    return billops_home


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_store_and_key_are_owner_only_files_of_their_own(store: Settings) -> None:
    path = store_path(store)
    assert path == store.home / "phi" / "phi.duckdb" and path != Path(str(store.serving))
    assert _mode(path) == 0o600 and _mode(path.parent) == 0o700
    assert _mode(key_path(store)) == 0o600 and _mode(key_path(store).parent) == 0o700
    assert not list(path.parent.glob(".*.tmp"))
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("select patient_key, patient_id from patients order by 2").fetchall()
    assert rows == [(tokenise("MRN-1", store), "MRN-1"), (tokenise("MRN-2", store), "MRN-2")]


def test_tokens_are_keyed_per_installation(store: Settings, tmp_path: Path) -> None:
    token = tokenise("MRN-1", store)
    assert len(token) == 32 and "MRN" not in token and token == tokenise("MRN-1", store)
    other = Settings(home=tmp_path / "other")
    assert tokenise("MRN-1", other) != token


def test_lookup_grants_a_phi_role_and_audits_it(store: Settings) -> None:
    key = tokenise("MRN-1", store)
    patient = lookup_patient(key, actor="ann", role="billing_specialist", channel="dashboard")
    assert patient == {"patient_id": "MRN-1", "family_name": "Quixley", "given_name": "Ada",
                       "birth_date": "1961-04-09", "postal_code": "85001", "member_ids": "W123, Z9"}
    [row] = ops_store.phi_access_trail(store)
    assert (row["record_id"], row["actor"], row["operation"]) == (key, "ann", "PHI_LOOKUP")
    assert json.loads(row["detail"]) == {"role": "billing_specialist", "channel": "dashboard",
                                         "outcome": "GRANTED"}


@pytest.mark.parametrize(("key", "role", "actor", "why"), [
    ("KEY", "analyst", "bob", "role 'analyst' may not see PHI"),
    ("KEY", "admin", "bob", "role 'admin' may not see PHI"),
    ("KEY", "billing_specialist", " ", "actor"),
    ("MRN-1", "billing_specialist", "bob", "32 hex digits"),
])
def test_lookup_refuses_and_audits_the_refusal(store: Settings, key: str, role: str, actor: str,
                                              why: str) -> None:
    key = tokenise("MRN-1", store) if key == "KEY" else key
    with pytest.raises(BillopsError, match=why) as caught:
        lookup_patient(key, actor=actor, role=role, channel="api")
    assert "\n" not in str(caught.value) and "MRN-1" not in str(caught.value)
    [row] = ops_store.phi_access_trail(store)
    assert json.loads(row["detail"])["outcome"] == "REFUSED" and "MRN-1" not in str(row)


def test_unknown_key_is_audited_as_not_found(store: Settings) -> None:
    with pytest.raises(BillopsError, match="no patient"):
        lookup_patient("0" * 32, actor="ann", role="billing_specialist", channel="cli")
    assert json.loads(ops_store.phi_access_trail(store)[0]["detail"])["outcome"] == "NOT_FOUND"


def test_cli_lookup(store: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    key = tokenise("MRN-2", store)
    assert main(["phi", "lookup", key, "--role", "billing_specialist", "--by", "ann", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["family_name"] == "Ombrant"
    assert main(["phi", "lookup", key, "--role", "analyst", "--by", "bob"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "refused" in err and "Ombrant" not in err
    assert [json.loads(r["detail"])["outcome"] for r in ops_store.phi_access_trail(store)] == [
        "GRANTED", "REFUSED"]
