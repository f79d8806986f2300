"""The command that serves the dashboard, shared by ``billops dashboard`` and the tests."""

from __future__ import annotations

import sys
from pathlib import Path

APP_PATH = Path(__file__).resolve().parent / "app.py"
# Addresses that mean "every interface": a browser reaches them as localhost.
_WILDCARDS = ("0.0.0.0", "::", "")


def streamlit_command(
    port: int = 8501, headless: bool = True, address: str = "127.0.0.1"
) -> list[str]:
    """argv for ``python -m streamlit run`` on the dashboard app with this interpreter, listening
    on ``address`` only (``settings.bind_address``: loopback unless configured otherwise)."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP_PATH),
        "--server.address", address,
        "--server.port", str(port),
        "--server.headless", "true" if headless else "false",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        "--client.toolbarMode", "viewer",
    ]


def browser_host(address: str) -> str:
    """The host a browser on this machine uses to reach a server bound to ``address``."""
    if address in _WILDCARDS:
        return "localhost"
    return f"[{address}]" if ":" in address else address
