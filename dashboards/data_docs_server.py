"""Serves the Great Expectations Data Docs over HTTP beside the dashboard.

Browsers refuse to open ``file://`` links from an ``http://`` page, so ``billops dashboard``
serves ``$BILLOPS_HOME/data_docs`` read-only (GET and HEAD only, nothing outside the folder) on
its own port and tells the Quality page where, through ``BILLOPS_DATA_DOCS_URL``.
"""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

URL_ENV = "BILLOPS_DATA_DOCS_URL"


class _QuietHandler(SimpleHTTPRequestHandler):
    """No directory listings and no request log lines on the dashboard's console."""

    def list_directory(self, path: str | Path) -> None:  # type: ignore[override]
        self.send_error(404, "No directory listing")
        return None

    def log_message(self, format: str, *args: Any) -> None:
        return


def serve_data_docs(
    directory: Path, host: str = "0.0.0.0", port: int = 8502
) -> ThreadingHTTPServer:
    """Starts a daemon thread serving ``directory``; returns the server (``.shutdown()`` stops it).
    The folder need not exist yet: Data Docs built later are served as they appear."""
    handler = partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="data-docs", daemon=True).start()
    return server


def public_url(port: int, host: str = "localhost") -> str:
    return f"http://{host}:{port}/index.html"
