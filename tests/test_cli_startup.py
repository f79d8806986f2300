"""Every ``billops`` command starts by importing billops.cli: the heavy libraries are imported by
the command that needs them, never at start-up (each Airflow task and each CLI call pays it)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("sqlalchemy", "duckdb", "fastapi", "uvicorn", "polars", "dbt", "airflow", "pyarrow",
         "great_expectations", "pm4py", "streamlit", "argon2")


def test_importing_the_cli_imports_no_heavy_library() -> None:
    probe = (
        "import sys, billops.cli\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "", f"imported at CLI start-up: {result.stdout.strip()}"
