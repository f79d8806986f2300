"""The metamorphic harness: one generated tiny system, its baseline exceptions, and a check that
a transformed copy of its landing zone publishes with the same exceptions.

Shared by every pytest-xdist worker of a session (a file lock in the session's common temporary
folder): the landing zone is generated once, and the baseline ``billops run`` is started once, in
the background, by the first worker that asks, so the workers' own runs overlap it. A test runs
its variant first and only then waits for the baseline.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

# A tiny system with many injected exception types: seed 17 at a defect rate of 0.1 plants 35
# defects of 15 types (billops finds 35 exceptions of 15 types on it).
SEED = 17
DEFECT_RATE = "0.1"
BILLOPS = Path(sys.executable).parent / "billops"
RUN_TIMEOUT = 900
SHOWN = 30  # rows of a symmetric difference printed at most

Key = tuple[str, str | None, str | None, str | None, str | None]

EXCEPTIONS_SQL = (
    "select exception_type, account_id, trace_number, journal_id,"
    " cast(amount_at_risk as varchar) from marts.billing_exceptions"
)

# Run by the baseline's background process: `billops run`, then its exceptions as JSON, then
# the exit status (written last, by rename: its presence means the rest is there).
BASELINE_SCRIPT = textwrap.dedent(
    """
    import json, os, subprocess, sys
    import duckdb
    billops, home, sql, timeout = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    try:
        result = subprocess.run([billops, "run"], cwd=home, capture_output=True, text=True,
                                timeout=timeout)
        code, log = result.returncode, result.stdout + "\\n--- stderr\\n" + result.stderr
    except subprocess.TimeoutExpired as exc:
        code, log = -1, f"timed out after {timeout} s: {exc}"
    with open(os.path.join(home, "run.log"), "w") as handle:
        handle.write(log)
    rows = []
    if code == 0:
        with duckdb.connect(os.path.join(home, "warehouse", "billops.duckdb"), read_only=True) as con:
            rows = [list(r) for r in con.execute(sql).fetchall()]
    with open(os.path.join(home, "exceptions.json"), "w") as handle:
        json.dump(rows, handle)
    with open(os.path.join(home, "rc.tmp"), "w") as handle:
        handle.write(str(code))
    os.replace(os.path.join(home, "rc.tmp"), os.path.join(home, "rc"))
    """
)


def clean_env(home: Path) -> dict[str, str]:
    """The environment of a billops subprocess: nothing BILLOPS_ or AIRFLOW_ inherited."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BILLOPS_", "AIRFLOW__", "AIRFLOW_"))
    }
    env["BILLOPS_HOME"] = str(home)
    return env


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def metamorphic_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder common to every xdist worker of this session (the session's temporary root)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    return base / "metamorphic"


@pytest.fixture(scope="session")
def generated_landing(metamorphic_root: Path) -> Path:
    """The generated tiny system's landing zone (read-only: tests transform copies).

    METAMORPHIC_LANDING names a landing zone to use instead (to replay a failure on the very
    files it saw, or while the generator is being changed)."""
    if os.environ.get("METAMORPHIC_LANDING"):
        return Path(os.environ["METAMORPHIC_LANDING"])
    done = metamorphic_root / "generated"
    with _locked(metamorphic_root / "generate.lock"):
        if not (done / "landing").is_dir():
            work = metamorphic_root / "generating"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            result = subprocess.run(
                [
                    str(BILLOPS),
                    "generate",
                    "--scale",
                    "tiny",
                    "--seed",
                    str(SEED),
                    "--defect-rate",
                    DEFECT_RATE,
                    "--out",
                    str(work),
                ],
                env=clean_env(work),
                cwd=work,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
            work.rename(done)
    return done / "landing"


class Baseline:
    """The untransformed system's exceptions, from one background `billops run`."""

    def __init__(self, root: Path, landing: Path) -> None:
        self.home = root / "baseline"
        self._landing = landing
        self._lock = root / "baseline.lock"
        self._rows: Counter[Key] | None = None

    def start(self) -> None:
        with _locked(self._lock):
            if self.home.exists():
                return
            work = self.home.with_name("baseline.tmp")
            shutil.rmtree(work, ignore_errors=True)
            shutil.copytree(self._landing, work / "landing")
            work.rename(self.home)
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    BASELINE_SCRIPT,
                    str(BILLOPS),
                    str(self.home),
                    EXCEPTIONS_SQL,
                    str(RUN_TIMEOUT),
                ],
                env=clean_env(self.home),
                cwd=self.home,
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

    def __call__(self) -> Counter[Key]:
        """The baseline multiset, waiting for the background run when it is still going."""
        if self._rows is None:
            self.start()
            deadline = time.monotonic() + RUN_TIMEOUT + 120
            while not (self.home / "rc").is_file():
                assert time.monotonic() < deadline, f"baseline run in {self.home} did not finish"
                time.sleep(1)
            code = (self.home / "rc").read_text().strip()
            log = (self.home / "run.log").read_text()
            assert code == "0", f"the baseline billops run failed ({code}):\n{log[-4000:]}"
            serving = self.home / "warehouse" / "serving.duckdb"
            assert serving.is_file(), f"the baseline billops run did not publish:\n{log[-4000:]}"
            rows = json.loads((self.home / "exceptions.json").read_text())
            self._rows = Counter(tuple(r) for r in rows)
            assert self._rows, "the baseline found no exceptions: pick another seed"
        return self._rows


@pytest.fixture(scope="session")
def baseline(metamorphic_root: Path, generated_landing: Path) -> Baseline:
    found = Baseline(metamorphic_root, generated_landing)
    found.start()
    return found


def exceptions(home: Path) -> Counter[Key]:
    with duckdb.connect(str(home / "warehouse" / "billops.duckdb"), read_only=True) as con:
        return Counter(tuple(r) for r in con.execute(EXCEPTIONS_SQL).fetchall())


def _held(home: Path) -> str:
    """The units the variant's run held back, for a failure message."""
    try:
        with duckdb.connect(str(home / "warehouse" / "billops.duckdb"), read_only=True) as con:
            rows = con.execute(
                "select rule, unit, count(*), min(unit_key) from marts.dq_quarantine"
                " group by all order by 3 desc limit 10"
            ).fetchall()
    except duckdb.Error as exc:
        return f"(dq_quarantine not readable: {exc})"
    return "\n".join(f"  {r}" for r in rows) or "  none"


def difference(expected: Counter[Key], found: Counter[Key]) -> str:
    """The symmetric difference, at most SHOWN rows: '-' only in the baseline, '+' only in the
    variant (a row counted more often on one side shows as often as the surplus)."""
    missing, extra = expected - found, found - expected
    lines = [f"- {row}" for row in sorted(missing.elements(), key=str)]
    lines += [f"+ {row}" for row in sorted(extra.elements(), key=str)]
    per_type = Counter(r[0] for r in extra.elements())
    per_type.subtract(Counter(r[0] for r in missing.elements()))
    summary = ", ".join(f"{t} {n:+d}" for t, n in sorted(per_type.items()) if n)
    shown = "\n".join(lines[:SHOWN])
    more = f"\n... {len(lines) - SHOWN} more" if len(lines) > SHOWN else ""
    return (
        f"{sum(missing.values())} rows only in the baseline, {sum(extra.values())} only in the "
        f"variant ({summary})\n{shown}{more}"
    )


def run_variant(landing: Path, home: Path, transform: Callable[[Path], None]) -> Counter[Key]:
    """Copy the landing zone into a fresh BILLOPS_HOME, transform it, `billops run`; assert it
    published, and return its exceptions."""
    shutil.copytree(landing, home / "landing")
    transform(home / "landing")
    result = subprocess.run(
        [str(BILLOPS), "run"],
        env=clean_env(home),
        cwd=home,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    (home / "run.log").write_text(result.stdout + "\n--- stderr\n" + result.stderr)
    assert result.returncode == 0, (
        f"billops run failed ({result.returncode}) on the transformed landing zone\n"
        f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-3000:]}"
    )
    assert (home / "warehouse" / "serving.duckdb").is_file(), "billops run did not publish"
    return exceptions(home)


@pytest.fixture
def same_exceptions(
    tmp_path: Path, generated_landing: Path, baseline: Baseline
) -> Callable[[Callable[[Path], None]], None]:
    """Assert that the transform's landing zone publishes the baseline's exceptions."""

    def check(transform: Callable[[Path], None]) -> None:
        home = tmp_path / "home"
        found = run_variant(generated_landing, home, transform)
        expected = baseline()
        assert found == expected, (
            f"{transform.__name__}: marts.billing_exceptions differs from the baseline: "
            f"{difference(expected, found)}\nunits held back (rule, unit, count, first key):\n"
            f"{_held(home)}"
        )

    return check
