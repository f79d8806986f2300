"""Serves the Great Expectations Data Docs over HTTP beside the dashboard, behind its sign-in.

Browsers refuse to open ``file://`` links from an ``http://`` page, and the Data Docs are a site
of static pages linking each other, so ``billops dashboard`` serves ``$BILLOPS_HOME/data_docs``
read-only (GET and HEAD only, nothing outside the folder, no listings) on its own port and tells
the Data quality page where, through ``BILLOPS_DATA_DOCS_URL``. Every request must carry the
dashboard's credentials as HTTP Basic (user name, and the token as the password), checked by
``billops.auth``; the browser asks once and sends them with every link the user follows. Without
them the answer is 401 with ``WWW-Authenticate``; a wrong name or token is audited as a refused
sign-in.
"""

from __future__ import annotations

import base64
import socket
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from billops.auth import authenticate
from billops.config import Settings

URL_ENV = "BILLOPS_DATA_DOCS_URL"
REALM = "billops Data Docs"


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(name, token) from an ``Authorization: Basic ...`` header, or None."""
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except ValueError:  # binascii.Error, non-ASCII input, UnicodeDecodeError
        return None
    name, sep, token = decoded.partition(":")
    return (name, token) if sep else None


class _SignedInHandler(SimpleHTTPRequestHandler):
    """Files of the docs folder to signed-in users; no listings and no request log lines."""

    settings: Settings | None = None

    def _signed_in(self) -> bool:
        credentials = basic_credentials(self.headers.get("Authorization"))
        if credentials is not None and authenticate(
            *credentials, channel="data_docs", audit_success=False, settings=self.settings
        ):
            return True
        self.send_response(401)
        self.send_header("WWW-Authenticate", f'Basic realm="{REALM}", charset="UTF-8"')
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        body = b"Sign in with your billops user name and token.\n"
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return False

    def do_GET(self) -> None:
        if self._signed_in():
            super().do_GET()

    def do_HEAD(self) -> None:
        if self._signed_in():
            super().do_HEAD()

    def end_headers(self) -> None:
        # Pages hold check results: the browser keeps no copy, and sniffs no types.
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def list_directory(self, path: str | Path) -> None:  # type: ignore[override]
        self.send_error(404, "No directory listing")
        return None

    def log_message(self, format: str, *args: Any) -> None:
        return


class _ThreadingHTTPServerV6(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def serve_data_docs(
    directory: Path, host: str = "127.0.0.1", port: int = 8502, settings: Settings | None = None
) -> ThreadingHTTPServer:
    """Starts a daemon thread serving ``directory`` to signed-in users on ``host`` (the caller
    passes ``settings.bind_address``); returns the server (``.shutdown()`` stops it). The folder
    need not exist yet: Data Docs built later are served as they appear. ``settings`` chooses
    the operational store holding the users (default: the environment's)."""
    handler_class = type("DataDocsHandler", (_SignedInHandler,), {"settings": settings})
    handler = partial(handler_class, directory=str(directory))
    server_class = _ThreadingHTTPServerV6 if ":" in host else ThreadingHTTPServer
    server = server_class((host, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="data-docs", daemon=True).start()
    return server


def public_url(port: int, host: str = "localhost") -> str:
    return f"http://{host}:{port}/index.html"
