"""The workflow on PostgreSQL (the docker-compose store): the append-only triggers, the
advisory-locked chain under concurrent writers, the maker-checker constraint and optimistic
locking. Runs when a PostgreSQL server binary is installed (a throwaway cluster in a temporary
folder); skipped otherwise."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from workflow_support import add_users, exception, synced

from billops import ops_store
from billops.config import Settings
from billops.errors import ConflictError
from billops.workflow import adjustments, items


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_binary(name: str) -> str | None:
    """On PATH, else where Debian's postgresql package puts it (not on PATH)."""
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    return found


def _as_cluster_owner(command: str) -> list[str]:
    if os.geteuid() != 0:
        return ["sh", "-c", command]
    return ["su", "postgres", "-s", "/bin/sh", "-c", command]


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    initdb, pg_ctl = _server_binary("initdb"), _server_binary("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres").pw_uid
        except KeyError:
            pytest.skip("running as root without a postgres user to own the cluster")
    # not under pytest's owner-only temporary root: the cluster's owner must reach it
    folder = Path(tempfile.mkdtemp(prefix="billops-pg-"))
    if os.geteuid() == 0:
        os.chown(folder, owner, -1)
    data, log, port = folder / "data", folder / "log", _free_port()
    subprocess.run(_as_cluster_owner(f"{initdb} -D {data} -A trust -U ops >/dev/null"), check=True,
                   timeout=120)
    subprocess.run(_as_cluster_owner(
        f"{pg_ctl} -D {data} -o '-p {port} -k {folder} -c listen_addresses=' -l {log} -w start"
        " >/dev/null"), check=True, timeout=120)
    try:
        url = f"postgresql+psycopg2://ops@/postgres?host={folder}&port={port}"
        yield url
    finally:
        ops_store.dispose_engines()
        subprocess.run(_as_cluster_owner(f"{pg_ctl} -D {data} -m immediate stop >/dev/null"),
                       timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture()
def store(pg_url: str, billops_home: Settings) -> Settings:
    eng = sa.create_engine(pg_url)
    with eng.begin() as con:
        for table in ("audit_log", "work_item_events", "work_items", "sync_runs", "routing_rules",
                      "routing_versions", "adjustment_requests", "users"):
            con.execute(sa.text(f"drop table if exists {table} cascade"))
    eng.dispose()
    ops_store.dispose_engines()
    settings = billops_home.model_copy(update={"ops_url": pg_url})
    add_users(settings)
    return settings


def test_the_workflow_holds_on_postgresql(store: Settings) -> None:
    synced(store, [exception("E1"), exception("E2")])
    outcomes: list[str] = []

    def comment() -> None:
        try:
            items.act("E1", "comment", actor="sam", role="billing_specialist", channel="api",
                      version=1, reason="called the payer", settings=store)
            outcomes.append("won")
        except ConflictError:
            outcomes.append("conflict")

    def audit(n: int) -> None:
        for i in range(10):
            ops_store.record_audit("test", f"{n}-{i}", "WRITE", "w", {}, store)

    threads = [threading.Thread(target=comment) for _ in range(8)]
    threads += [threading.Thread(target=audit, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict"] * 7 + ["won"]
    assert ops_store.verify_chain(store).ok

    made = adjustments.request_adjustment("A1", "refund", "10", "credit balance", actor="amy",
                                          role="approver", channel="api", settings=store)
    with pytest.raises(sa.exc.IntegrityError, match="maker_is_not_checker"), \
            ops_store.begin(store) as con:
        con.execute(sa.text("update adjustment_requests set status = 'APPROVED', "
                            "decided_by = requested_by where adjustment_id = :id"),
                    {"id": made.adjustment_id})
    for statement in ("update audit_log set actor = 'x'", "delete from audit_log"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), \
                ops_store.begin(store) as con:
            con.execute(sa.text(statement))
