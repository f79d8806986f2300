"""Shared fixtures: an isolated BILLOPS_HOME per test, and the third-party fixtures folder."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

from billops.config import Settings, _cached, get_settings

REPO = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = REPO.parent / "shared" / "fixtures"

# Tests never touch the developer's ./data or the Airflow home of `make run`.
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__COSMOS__ENABLE_TELEMETRY", "False")
os.environ.setdefault("DO_NOT_TRACK", "1")
if "AIRFLOW_HOME" not in os.environ:
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="billops-airflow-")


# The longest files start first, so that under pytest-xdist (`make test`) they overlap the rest.
LONGEST_FIRST = ("tests/test_nightly_integration.py", "tests/test_dbt_incremental.py",
                 "tests/test_workflow_end_to_end.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)


@pytest.fixture(autouse=True)
def _keep_main_module() -> None:
    """Streamlit's AppTest runs a page as ``sys.modules["__main__"]`` and leaves it there; a
    later test that spawns worker processes would then re-run that page script in each child."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


@pytest.fixture
def billops_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings rooted in a fresh temporary BILLOPS_HOME."""
    home = tmp_path / "home"
    home.mkdir()
    for key in list(os.environ):
        if key.startswith("BILLOPS_") and key not in ("BILLOPS_DEBUG", "BILLOPS_LOG_LEVEL"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("BILLOPS_HOME", str(home))
    settings = get_settings(fresh=True)
    yield settings
    _cached.cache_clear()


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    if not SHARED_FIXTURES.is_dir():
        pytest.skip(f"third-party fixtures not found at {SHARED_FIXTURES} (see shared/fixtures/SOURCES.md)")
    return SHARED_FIXTURES


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """The dbt manifest Cosmos renders the DAG from (`make` builds it; built again here when
    absent or older than a model, macro or the project file)."""
    from billops.orchestration import manifest_path

    path = manifest_path()
    project = path.parents[1]
    sources = [*project.glob("models/**/*"), *project.glob("macros/**/*"), project / "dbt_project.yml"]
    stale = path.exists() and max(p.stat().st_mtime for p in sources) > path.stat().st_mtime
    if not path.exists() or stale:
        from billops.transform import parse_manifest

        parse_manifest()
    assert path.exists(), f"dbt parse did not write {path}"
    return path
