"""A real ingest process SIGKILLed midway: the next run completes it, no duplicate, no missing row.

The child process is the ordinary loader; it only pauses (sleeps) at a chosen moment and touches
a marker file, so the parent knows the state on disk when it sends SIGKILL. Each moment leaves a
different state behind: a part file written but not renamed, a table renamed into place while the
others are still temporary, a batch committed while the next is half written.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from billops.config import Settings, get_settings
from billops.ingest import ingest
from billops.raw_schema import TABLES

CHILD = r'''
import os, pathlib, sys, time
from billops.ingest import ledger, parquet
from billops.ingest import ingest

marker, point = pathlib.Path(sys.argv[1]), sys.argv[2]
seen = {"n": 0}

def pause(label):
    marker.write_text(f"{label} {os.getpid()}")
    time.sleep(600)

if point.startswith("parallel-"):  # every batch read in a forked worker, as in a large load
    from billops.ingest import parallel
    parallel.PARALLEL_MIN_BYTES = 0
    parallel._cpus = lambda: 2

if point in ("part-written", "parallel-part-written"):
    close = parquet._TableWriter.close
    def patched_close(self):
        rows = close(self)
        pause("part-written")
        return rows
    parquet._TableWriter.close = patched_close
elif point == "first-table-renamed":
    rename = pathlib.Path.rename
    def patched_rename(self, target):
        result = rename(self, target)
        if self.name.startswith(parquet.TMP_PREFIX):
            seen["n"] += 1
            if seen["n"] == 1:  # one table in place, the batch's other tables still temporary
                pause("first-table-renamed")
        return result
    pathlib.Path.rename = patched_rename
elif point == "next-batch-half-written":
    commit, write = ledger.commit_loaded, parquet.BatchWriter.write
    def patched_commit(*args, **kwargs):
        commit(*args, **kwargs)
        seen["n"] = 1
    def patched_write(self, *args, **kwargs):
        write(self, *args, **kwargs)
        if seen["n"]:  # a batch is committed and the next one is being written
            seen["n"] += 1
            if seen["n"] == 200:
                pause("next-batch-half-written")
    ledger.commit_loaded = patched_commit
    parquet.BatchWriter.write = patched_write
elif point == "parallel-first-commit":
    commit = ledger.commit_loaded
    def patched_commit(*args, **kwargs):
        commit(*args, **kwargs)
        pause("parallel-first-commit")  # one batch recorded, the workers read on
    ledger.commit_loaded = patched_commit
ingest()
'''

POINTS = ("part-written", "first-table-renamed", "next-batch-half-written")


@pytest.fixture(scope="module")
def generated_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    synth = pytest.importorskip("billops.synth", reason="the generator is not available")
    out = tmp_path_factory.mktemp("generated")
    synth.generate(out, scale="tiny", seed=23)
    return out / "landing"


@pytest.fixture(scope="module")
def reference(generated_landing: Path, tmp_path_factory: pytest.TempPathFactory
              ) -> dict[str, list[tuple]]:
    """Every raw table after one uninterrupted load of the same landing."""
    home = tmp_path_factory.mktemp("reference")
    shutil.copytree(generated_landing, home / "landing")
    old = os.environ.get("BILLOPS_HOME")
    os.environ["BILLOPS_HOME"] = str(home)
    try:
        settings = get_settings(fresh=True)
        report = ingest(settings=settings)
        assert report.batches_loaded == 3 and report.batches_quarantined == 0
        return snapshot(settings)
    finally:
        if old is None:
            os.environ.pop("BILLOPS_HOME", None)
        else:
            os.environ["BILLOPS_HOME"] = old
        get_settings(fresh=True)


def snapshot(settings: Settings) -> dict[str, list[tuple]]:
    """Rows of every raw table, lineage included except the wall-clock _loaded_at."""
    found: dict[str, list[tuple]] = {}
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        views = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'"
        ).fetchall()}
        for table in TABLES:
            if table in views:
                found[table] = con.execute(
                    f"select * exclude (_loaded_at) from raw.{table} order by all").fetchall()
    return found


def kill_midway(settings: Settings, point: str, tmp_path: Path) -> tuple[int, list[int]]:
    """SIGKILL the loader once it pauses at ``point``; returns the pid of the paused process
    (the loader or one of its workers) and the loader's child processes at that moment."""
    marker = tmp_path / f"{point}.marker"
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "BILLOPS_HOME": str(settings.home)}
    child = subprocess.Popen([sys.executable, str(script), str(marker), point], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not marker.exists():
        if child.poll() is not None:
            pytest.fail(f"ingest finished before {point}: {child.stderr.read().decode()[-2000:]}")
        if time.monotonic() > deadline:
            child.kill()
            pytest.fail(f"ingest never reached {point}")
        time.sleep(0.05)
    time.sleep(0.1)  # the marker is written: let its text land
    paused = int(marker.read_text().split()[1])
    children = [int(p.name) for p in Path("/proc").iterdir()
                if p.name.isdigit() and f"\nPPid:\t{child.pid}\n" in _status(p)]
    child.send_signal(signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL
    return paused, children


def gone(pid: int) -> bool:
    """No such process, or only a zombie left to reap."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status or "\nState:\tX" in status


def assert_completed(billops_home: Settings, reference: dict[str, list[tuple]]) -> None:
    """The next run completes the killed load: same rows as an uninterrupted one, once each."""
    report = ingest(settings=billops_home)
    assert report.batches_quarantined == 0
    assert any("interrupted; loading it again" in m for m in report.messages)
    after = snapshot(billops_home)
    assert after.keys() == reference.keys()
    for table, rows in reference.items():
        assert after[table] == rows, f"raw.{table} differs from an uninterrupted load"
    assert sum(map(len, after.values())) > 1000
    with duckdb.connect(str(billops_home.warehouse), read_only=True) as con:
        assert con.execute("select distinct status from raw._batches").fetchall() == [("LOADED",)]
        assert con.execute("select count(*) from raw._batches").fetchone()[0] == 3
        files, distinct = con.execute("select count(*), count(distinct (system, batch_id, file)) "
                                      "from raw._loads").fetchone()
    assert files == distinct > 0  # one ledger row per file, none left from the killed run
    assert list(billops_home.raw_zone.glob("*/.tmp-*")) == []

    again = ingest(settings=billops_home)
    assert (again.batches_loaded, again.rows_loaded, again.batches_skipped) == (0, 0, 3)


@pytest.mark.parametrize("point", POINTS)
def test_killed_ingest_is_completed_by_the_next_run(
        billops_home: Settings, generated_landing: Path, reference: dict[str, list[tuple]],
        point: str, tmp_path: Path) -> None:
    shutil.copytree(generated_landing, billops_home.landing)
    kill_midway(billops_home, point, tmp_path)

    with duckdb.connect(str(billops_home.warehouse), read_only=True) as con:
        states = con.execute("select status from raw._batches").fetchall()
    assert ("LOADING",) in states  # the kill left an unfinished batch behind
    published = list(billops_home.raw_zone.glob("*/batch_id=*"))
    temporary = list(billops_home.raw_zone.glob("*/.tmp-*"))
    assert temporary, "the kill should leave temporary Parquet behind"
    if point == "part-written":
        assert published == []
    elif point == "first-table-renamed":
        assert len(published) == 1  # one table of the batch visible, the rest not yet
    else:
        assert ("LOADED",) in states and published
    assert_completed(billops_home, reference)


@pytest.mark.parametrize("point", ("parallel-part-written", "parallel-first-commit"))
def test_killed_parallel_ingest_is_completed_by_the_next_run(
        billops_home: Settings, generated_landing: Path, reference: dict[str, list[tuple]],
        point: str, tmp_path: Path) -> None:
    """The parent killed while workers read: the workers die with it, the next run completes."""
    shutil.copytree(generated_landing, billops_home.landing)
    paused, workers = kill_midway(billops_home, point, tmp_path)
    if point == "parallel-part-written":
        assert paused in workers  # paused in a worker, not in the killed parent

    deadline = time.monotonic() + 10
    while not all(gone(pid) for pid in workers):
        assert time.monotonic() < deadline, "a worker outlived the killed parent"
        time.sleep(0.05)
    with duckdb.connect(str(billops_home.warehouse), read_only=True) as con:
        states = {s for (s,) in con.execute("select status from raw._batches").fetchall()}
    assert "LOADING" in states  # every planned batch is LOADING before a worker starts
    if point == "parallel-first-commit":
        assert "LOADED" in states and list(billops_home.raw_zone.glob("*/batch_id=*"))
    else:
        assert list(billops_home.raw_zone.glob("*/.tmp-*"))  # the worker's unpublished part
    assert_completed(billops_home, reference)


def _status(proc: Path) -> str:
    try:
        return (proc / "status").read_text()
    except OSError:
        return ""
