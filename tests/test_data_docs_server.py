"""The Data Docs are served read-only over HTTP beside the dashboard, and the page links there."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from dashboards.data_docs_server import URL_ENV, public_url, serve_data_docs


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def test_serves_the_docs_folder_and_nothing_else(tmp_path: Path) -> None:
    docs = tmp_path / "data_docs"
    (docs / "validations").mkdir(parents=True)
    (docs / "index.html").write_text("<html>index</html>")
    (docs / "validations" / "run.html").write_text("<html>run</html>")
    (tmp_path / "secret.txt").write_text("not for the browser")
    port = _free_port()
    server = serve_data_docs(docs, host="127.0.0.1", port=port)
    try:
        base = f"http://127.0.0.1:{port}"
        assert _get(f"{base}/index.html") == (200, b"<html>index</html>")
        assert _get(f"{base}/validations/run.html") == (200, b"<html>run</html>")
        assert _get(f"{base}/validations/")[0] == 404  # no listings
        assert _get(f"{base}/../secret.txt")[0] == 404
        assert _get(f"{base}/%2e%2e/secret.txt")[0] == 404
    finally:
        server.shutdown()
        server.server_close()


def test_docs_built_after_start_are_served(tmp_path: Path) -> None:
    docs = tmp_path / "data_docs"
    port = _free_port()
    server = serve_data_docs(docs, host="127.0.0.1", port=port)
    try:
        assert _get(f"http://127.0.0.1:{port}/index.html")[0] == 404
        docs.mkdir()
        (docs / "index.html").write_text("built later")
        assert _get(f"http://127.0.0.1:{port}/index.html") == (200, b"built later")
    finally:
        server.shutdown()
        server.server_close()


def test_quality_page_links_the_served_docs(monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboards import quality_data

    monkeypatch.delenv(URL_ENV, raising=False)
    assert quality_data.data_docs_url() is None
    monkeypatch.setenv(URL_ENV, public_url(8602))
    assert quality_data.data_docs_url() == "http://localhost:8602/index.html"
