"""The dashboard served by a real ``streamlit run`` and read by headless system chromium."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboards.launch import streamlit_command

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dashboard_fixtures import build_snapshot, create_user

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
REPO = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} not installed (apt-get install -y chromium); browser test skipped",
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(proc: subprocess.Popen[bytes], url: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    pytest.fail(f"streamlit not healthy at {url} after {timeout}s: {log.read_text()[-2000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    build_snapshot(home / "warehouse" / "serving.duckdb")
    return home


@pytest.fixture()
def token(home: Path) -> str:
    return create_user(home, "ana", "analyst")


@pytest.fixture()
def dashboard_url(tmp_path: Path, home: Path) -> Iterator[str]:
    port = _free_port()
    log = tmp_path / "streamlit.log"
    env = {**os.environ, "BILLOPS_HOME": str(home)}
    env.pop("BILLOPS_SERVING", None)
    with log.open("wb") as out:
        # Own process group, so stopping it stops anything it started.
        proc = subprocess.Popen(
            streamlit_command(port=port), cwd=REPO, env=env, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        _wait_healthy(proc, f"http://127.0.0.1:{port}/_stcore/health", log, timeout=60)
        yield f"http://127.0.0.1:{port}/"
    finally:
        _stop(proc)


def _sign_in(page: Any, name: str, token: str) -> None:
    from playwright.sync_api import expect

    main = page.get_by_role("main")
    expect(main.get_by_role("heading", name="billops")).to_be_visible(timeout=30_000)
    main.get_by_label("User name").fill(name)
    main.get_by_label("Token").fill(token)
    main.get_by_role("button", name="Sign in").click()


def test_a_deep_link_asks_for_sign_in_and_refuses_a_wrong_token(
    dashboard_url: str, token: str
) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page()
            # A deep link to a data page answers with the sign-in form, not the page.
            page.goto(dashboard_url + "process")
            main = page.get_by_role("main")
            expect(main.get_by_label("Token")).to_have_attribute("type", "password",
                                                                 timeout=30_000)
            _sign_in(page, "ana", "not-" + token)
            expect(main.get_by_text("Sign-in refused")).to_be_visible(timeout=30_000)
            expect(main.get_by_test_id("stMetric")).to_have_count(0)
            assert "ACC-" not in main.inner_text() and "$" not in main.inner_text()
            # The right token then opens the page the link asked for.
            _sign_in(page, "ana", token)
            expect(main.get_by_role("heading", name="Process")).to_be_visible(timeout=30_000)
            expect(page.get_by_text("Page not found")).to_have_count(0)
        finally:
            browser.close()


def test_reconciliation_page_renders_in_chromium(
    dashboard_url: str, token: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 2200})
            page.goto(dashboard_url)
            _sign_in(page, "ana", token)
            main = page.get_by_role("main")
            expect(main.get_by_role("heading", name="Reconciliation")).to_be_visible(timeout=30_000)
            metrics = main.get_by_test_id("stMetric")
            expect(metrics).to_have_count(8)
            expect(metrics.filter(has_text="Charges")).to_contain_text("$3,550.50")
            expect(metrics.filter(has_text="Accounts not tied")).to_contain_text("5")
            expect(metrics.filter(has_text="As of (UTC)")).to_contain_text("2025-02-28 23:30")
            # Entity ids are the chart's axis labels (SVG text).
            expect(main.get_by_text("HOSP-A", exact=True).first).to_be_visible(timeout=30_000)
            expect(main.get_by_text("HOSP-B", exact=True).first).to_be_visible()
            # st.dataframe draws on a canvas (money formatted there); its accessible fallback
            # table holds the raw cell values.
            grids = main.get_by_test_id("stDataFrame")
            expect(grids).to_have_count(2)
            not_tied = grids.nth(1)
            expect(not_tied.get_by_test_id("glide-cell-0-0")).to_have_text("ACC-A2")
            expect(not_tied.get_by_test_id("glide-cell-7-0")).to_have_text("1250.5")
            expect(grids.nth(0).get_by_test_id("glide-cell-0-0")).to_have_text("HOSP-A")
            assert page.title() == "billops"
            sidebar = page.get_by_test_id("stSidebar")
            expect(sidebar.get_by_text("Signed in as ana (analyst)")).to_be_visible()
            body = main.inner_text()
            assert "Traceback" not in body and "Error" not in body
            page.screenshot(path=str(tmp_path / "reconciliation.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / "reconciliation.png").stat().st_size > 10_000
