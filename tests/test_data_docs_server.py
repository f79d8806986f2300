"""The Data Docs are served read-only over HTTP beside the dashboard, behind its sign-in (HTTP
Basic: the user name and token of ``billops users``), and the page links there."""

from __future__ import annotations

import base64
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from billops.auth import add_user, disable_user, failed_sign_ins
from billops.config import Settings
from billops.ops_store import audit_trail
from dashboards.data_docs_server import (
    URL_ENV,
    basic_credentials,
    public_url,
    serve_data_docs,
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _basic(name: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{name}:{token}".encode()).decode()


def _get(url: str, auth: str | None = None) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers={"Authorization": auth} if auth else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, b"", dict(exc.headers)


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path)


@pytest.fixture()
def token(settings: Settings) -> str:
    return add_user("dana", "analyst", actor="test", settings=settings)


@pytest.fixture()
def docs(tmp_path: Path, settings: Settings) -> Iterator[tuple[str, Path]]:
    folder = tmp_path / "data_docs"
    port = _free_port()
    server = serve_data_docs(folder, port=port, settings=settings)
    try:
        yield f"http://127.0.0.1:{port}", folder
    finally:
        server.shutdown()
        server.server_close()


def test_binds_loopback_by_default(tmp_path: Path) -> None:
    server = serve_data_docs(tmp_path, port=0)
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.shutdown()
        server.server_close()


def test_without_credentials_the_answer_is_401_asking_for_basic(
    docs: tuple[str, Path], token: str
) -> None:
    base, folder = docs
    folder.mkdir()
    (folder / "index.html").write_text("<html>checks</html>")
    status, body, headers = _get(f"{base}/index.html")
    assert status == 401 and b"checks" not in body
    assert headers["WWW-Authenticate"].startswith('Basic realm="billops Data Docs"')
    # Even a missing file does not tell an anonymous caller whether it exists.
    assert _get(f"{base}/nothing.html")[0] == 401


def test_a_wrong_token_or_disabled_user_is_refused_and_audited(
    docs: tuple[str, Path], token: str, settings: Settings
) -> None:
    base, folder = docs
    folder.mkdir()
    (folder / "index.html").write_text("<html>checks</html>")
    assert _get(f"{base}/index.html", _basic("dana", token + "x"))[0] == 401
    assert _get(f"{base}/index.html", _basic("nobody", token))[0] == 401
    assert _get(f"{base}/index.html", "Basic not-base64!")[0] == 401
    assert failed_sign_ins("dana", settings) == 1
    disable_user("dana", actor="test", settings=settings)
    assert _get(f"{base}/index.html", _basic("dana", token))[0] == 401
    rows = [r for r in audit_trail(settings=settings) if r["operation"] == "SIGN_IN_FAILED"]
    assert [(r["record_id"], '"data_docs"' in r["detail"]) for r in rows] == [
        ("dana", True), ("(unknown)", True), ("dana", True),
    ]
    assert all(token not in str(r) for r in audit_trail(settings=settings))


def test_signed_in_serves_the_docs_folder_and_nothing_else(
    docs: tuple[str, Path], token: str, tmp_path: Path
) -> None:
    base, folder = docs
    (folder / "validations").mkdir(parents=True)
    (folder / "index.html").write_text('<html><a href="validations/run.html">run</a></html>')
    (folder / "validations" / "run.html").write_text("<html>run</html>")
    (tmp_path / "secret.txt").write_text("not for the browser")
    auth = _basic("dana", token)
    status, body, headers = _get(f"{base}/index.html", auth)
    assert (status, body) == (200, b'<html><a href="validations/run.html">run</a></html>')
    assert headers["Cache-Control"] == "no-store"
    # A link followed from the page: the browser sends the same credentials again.
    assert _get(f"{base}/validations/run.html", auth)[:2] == (200, b"<html>run</html>")
    assert _get(f"{base}/validations/", auth)[0] == 404  # no listings
    assert _get(f"{base}/../secret.txt", auth)[0] == 404
    assert _get(f"{base}/%2e%2e/secret.txt", auth)[0] == 404
    # Page loads are not sign-ins: the audit holds none for them.
    assert not [r for r in audit_trail(settings=Settings(home=tmp_path))
                if r["operation"].startswith("SIGN_IN")]


def test_docs_built_after_start_are_served(docs: tuple[str, Path], token: str) -> None:
    base, folder = docs
    auth = _basic("dana", token)
    assert _get(f"{base}/index.html", auth)[0] == 404
    folder.mkdir()
    (folder / "index.html").write_text("built later")
    assert _get(f"{base}/index.html", auth)[:2] == (200, b"built later")


def test_basic_credentials_parsing() -> None:
    assert basic_credentials(_basic("dana", "t:with:colons")) == ("dana", "t:with:colons")
    assert basic_credentials("basic " + base64.b64encode(b"dana:tok").decode()) == ("dana", "tok")
    assert basic_credentials(None) is None
    assert basic_credentials("Bearer abc") is None
    assert basic_credentials("Basic " + base64.b64encode(b"no-colon").decode()) is None
    assert basic_credentials("Basic \xff") is None


def test_quality_page_links_the_served_docs(monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboards import quality_data

    monkeypatch.delenv(URL_ENV, raising=False)
    assert quality_data.data_docs_url() is None
    monkeypatch.setenv(URL_ENV, public_url(8602))
    assert quality_data.data_docs_url() == "http://localhost:8602/index.html"


def test_an_ipv6_bind_address_is_served(tmp_path: Path) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        server = serve_data_docs(tmp_path, host="::1", port=0)
    except OSError as exc:
        pytest.skip(f"cannot bind ::1 here ({exc})")
    try:
        assert server.server_address[0] == "::1"
        assert _get(f"http://[::1]:{server.server_address[1]}/index.html")[0] == 401
    finally:
        server.shutdown()
        server.server_close()
