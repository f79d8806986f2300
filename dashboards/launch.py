"""The command that serves the dashboard, shared by ``billops dashboard`` and the tests."""

from __future__ import annotations

import sys
from pathlib import Path

APP_PATH = Path(__file__).resolve().parent / "app.py"


def streamlit_command(port: int = 8501, headless: bool = True) -> list[str]:
    """argv for ``python -m streamlit run`` on the dashboard app with this interpreter."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP_PATH),
        "--server.port", str(port),
        "--server.headless", "true" if headless else "false",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        "--client.toolbarMode", "viewer",
    ]
