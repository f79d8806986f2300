"""The audit trail's hash chain (billops.ops_store): every writer goes through one function,
the chain verifies, UPDATE and DELETE are refused by triggers, and an attacker with the file
(who drops the triggers) is still caught: an edited row, a deleted row, a forged row. A store
from the previous release is upgraded in place."""

from __future__ import annotations

import itertools
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from billops import auth, ops_store
from billops.config import Settings


@pytest.fixture()
def trail(billops_home: Settings) -> Settings:
    auth.add_user("dana", "approver", actor="root", settings=billops_home)
    for n in range(5):
        ops_store.record_audit("batch_waiver", f"erp/B{n}", "WAIVE", "ops", {"n": n},
                               billops_home, channel="cli", reason="reviewed")
    ops_store.record_phi_access("tok1", actor="dana", role="approver", channel="dashboard",
                                outcome="REFUSED", settings=billops_home)
    return billops_home


def _db(settings: Settings) -> sqlite3.Connection:
    assert settings.ops_url is not None
    return sqlite3.connect(settings.ops_url.removeprefix("sqlite:///"), isolation_level=None)


def _as_attacker(settings: Settings, *statements: str) -> None:
    """Someone with the file: drops the triggers, then edits."""
    con = _db(settings)
    con.execute("drop trigger if exists audit_log_no_update")
    con.execute("drop trigger if exists audit_log_no_delete")
    for statement in statements:
        con.execute(statement)
    con.close()


def test_the_chain_verifies_and_links_every_row(trail: Settings) -> None:
    report = ops_store.verify_chain(trail)
    assert (report.ok, report.rows, report.first_broken_audit_id) == (True, 7, None)
    rows = ops_store.audit_entries(settings=trail)
    assert rows[0]["prev_hash"] == ops_store.GENESIS_HASH
    assert all(b["prev_hash"] == a["row_hash"] for a, b in itertools.pairwise(rows))
    assert report.head_hash == rows[-1]["row_hash"]


def test_the_store_refuses_update_and_delete(trail: Settings) -> None:
    eng = ops_store.engine(trail)
    for statement in ("update audit_log set actor = 'x' where audit_id = 2",
                      "delete from audit_log where audit_id = 2"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), eng.begin() as con:
            con.execute(sa.text(statement))
    assert ops_store.verify_chain(trail).ok


def test_an_edited_row_is_found(trail: Settings) -> None:
    _as_attacker(trail, "update audit_log set detail = '{\"n\": 99}' where audit_id = 4")
    report = ops_store.verify_chain(trail)
    assert (report.ok, report.first_broken_audit_id) == (False, 4)
    assert "content does not match its row_hash" in str(report.reason)


def test_a_deleted_row_is_found(trail: Settings) -> None:
    _as_attacker(trail, "delete from audit_log where audit_id = 3")
    report = ops_store.verify_chain(trail)
    assert (report.ok, report.first_broken_audit_id) == (False, 4)
    assert "prev_hash is not the hash of the row before it" in str(report.reason)


def test_a_forged_row_is_found(trail: Settings) -> None:
    head = ops_store.verify_chain(trail).head_hash
    _as_attacker(trail, "insert into audit_log (table_name, record_id, operation, actor, at, "
                        "prev_hash, row_hash) values ('adjustment_requests', 'X', 'APPROVE', "
                        f"'mallory', '2026-12-07 10:00:00.000000', '{head}', '{'f' * 64}')")
    report = ops_store.verify_chain(trail)
    assert (report.ok, report.first_broken_audit_id) == (False, 8)
    assert "content does not match" in str(report.reason)
    # a forged row linked to no real row is found by its link
    _as_attacker(trail, "update audit_log set prev_hash = '" + "e" * 64 + "' where audit_id = 8")
    report = ops_store.verify_chain(trail)
    assert (report.first_broken_audit_id, "prev_hash is not" in str(report.reason)) == (8, True)


def test_billops_audit_verify_names_the_first_broken_row(trail: Settings, tmp_path: Path) -> None:
    env = {**os.environ, "BILLOPS_HOME": str(trail.home)}
    ok = subprocess.run([sys.executable, "-m", "billops", "audit", "verify"], env=env,
                        capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert ok.returncode == 0 and "7 rows" in ok.stdout
    _as_attacker(trail, "update audit_log set actor = 'someone else' where audit_id = 5")
    broken = subprocess.run([sys.executable, "-m", "billops", "audit", "verify"], env=env,
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert broken.returncode == 2
    assert broken.stderr.strip().startswith("billops: audit trail broken at audit_id 5: ")
    assert broken.stderr.count("\n") == 1
    shown = subprocess.run([sys.executable, "-m", "billops", "audit", "show", "--record-id",
                            "dana", "--json"], env=env, capture_output=True, text=True,
                           timeout=120, cwd=tmp_path)
    assert shown.returncode == 0 and '"operation": "INSERT"' in shown.stdout


def test_concurrent_writers_never_fork_the_chain(billops_home: Settings) -> None:
    def writer(n: int) -> None:
        for i in range(15):
            ops_store.record_audit("test", f"{n}-{i}", "WRITE", f"w{n}", {}, billops_home)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = ops_store.verify_chain(billops_home)
    assert (report.ok, report.rows) == (True, 120)


def test_a_store_from_the_previous_release_is_upgraded_in_place(billops_home: Settings) -> None:
    assert billops_home.ops_url is not None
    path = Path(billops_home.ops_url.removeprefix("sqlite:///"))
    old = sqlite3.connect(path)
    old.executescript("""
        create table audit_log (audit_id integer primary key autoincrement, table_name varchar(64)
            not null, record_id varchar(64) not null, operation varchar(16) not null,
            actor varchar(128) not null, at datetime not null, detail text);
        create table users (user_id integer primary key autoincrement, name varchar(64) not null
            unique, role varchar(32) not null, token_hash varchar(64) not null unique,
            created_at datetime not null, created_by varchar(128) not null, disabled boolean
            not null, disabled_at datetime);
        insert into audit_log (table_name, record_id, operation, actor, at, detail) values
            ('users', 'dana', 'INSERT', 'root', '2026-11-01 09:00:00.000000', '{"role": "admin"}'),
            ('batch_waiver', 'erp/B1', 'WAIVE', 'ops', '2026-11-02 09:00:00.000000', '{}'),
            ('users', 'dana', 'SIGN_IN', 'dana', '2026-11-03 09:00:00.000000', NULL);
    """)
    old.execute("insert into users (name, role, token_hash, created_at, created_by, disabled) "
                "values ('dana', 'admin', ?, '2026-11-01 09:00:00', 'root', 0)",
                (auth.token_hash("old-token"),))
    old.commit()
    old.close()
    ops_store.dispose_engines()
    report = ops_store.verify_chain(billops_home)
    assert (report.ok, report.rows) == (True, 3)
    assert [r["operation"] for r in ops_store.audit_entries(settings=billops_home)] == [
        "INSERT", "WAIVE", "SIGN_IN"]
    user = auth.authenticate("dana", "old-token", channel="cli", settings=billops_home)
    assert user is not None and user.approval_tier is None
    assert ops_store.verify_chain(billops_home).rows == 4  # the sign-in extends the old chain
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), \
            ops_store.engine(billops_home).begin() as con:
        con.execute(sa.text("delete from audit_log"))
