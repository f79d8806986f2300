"""Files under $BILLOPS_HOME are owner-only (issue 13): every entry point sets umask 077, so a
login whose umask is 022 still leaves nothing group- or world-readable."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from billops import pipeline
from billops.config import Settings

SHARED_BITS = 0o077


def _shared(root: Path) -> list[str]:
    """Paths under root (root included) with any group or world bit, symlinks not followed."""
    return [f"{p} {oct(p.lstat().st_mode & 0o777)}" for p in [root, *root.rglob("*")]
            if p.lstat().st_mode & SHARED_BITS]


def _cli(home: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLOPS_")}
    env["BILLOPS_HOME"] = str(home)
    result = subprocess.run(
        [sys.executable, "-m", "billops", *args], env=env, capture_output=True, text=True,
        timeout=600, preexec_fn=lambda: os.umask(0o022),  # a typical login's umask
    )
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.fixture()
def loose_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_cli_leaves_nothing_group_or_world_readable(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _cli(home, "generate", "--scale", "tiny", "--seed", "1")
    _cli(home, "ingest")
    _cli(home, "check", "--layer", "raw")  # Great Expectations' store and the Data Docs
    _cli(home, "users", "add", "dana", "--role", "analyst")
    made = {p.relative_to(home).parts[0] for p in home.iterdir()}
    assert {"landing", "lake", "warehouse", "data_docs", "ops.sqlite"} <= made
    assert sum(1 for p in home.rglob("*") if p.is_file()) > 20
    assert _shared(home) == []


def test_a_pipeline_step_sets_the_umask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loose_umask: None
) -> None:
    def write(settings: Settings) -> dict[str, Any]:
        (settings.home / "made" / "inner").mkdir(parents=True)
        (settings.home / "made" / "inner" / "file.txt").write_text("x")
        return {}

    monkeypatch.setitem(pipeline.PIPELINES, "probe", (pipeline.Step("write", write),))
    pipeline.run_step("probe", "write", Settings(home=tmp_path))
    made = tmp_path / "made"
    assert (made.stat().st_mode & 0o777, (made / "inner" / "file.txt").stat().st_mode & 0o777) == (
        0o700, 0o600)
    assert _shared(made) == []


def test_the_dbt_task_interceptor_sets_the_umask(tmp_path: Path, loose_umask: None) -> None:
    from billops.orchestration import DbtSettingsAtRunTime

    operator = SimpleNamespace(vars=None, env=None, exclude=None)
    DbtSettingsAtRunTime(Settings(home=tmp_path))(context={}, operator=operator)
    assert os.umask(0o022) == 0o077
