"""The Streamlit dashboard in-process (AppTest) over tiny serving snapshots built in tmp_path."""

from __future__ import annotations

import os
import socket
import sys
from http.server import ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from billops.auth import token_hash
from billops.config import get_settings
from dashboards import data, recon_data, session
from dashboards.formatting import money
from dashboards.launch import APP_PATH, streamlit_command
from dashboards.views import sign_in

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dashboard_fixtures import build_snapshot, create_user, recon_rows


@pytest.fixture()
def serving(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BILLOPS_HOME", str(tmp_path))
    return Path(get_settings(fresh=True).serving)  # type: ignore[arg-type]


def _sign_in(at: AppTest, name: str, token: str) -> AppTest:
    at.text_input(key="sign_in_name").set_value(name)
    at.text_input(key="sign_in_token").set_value(token)
    [submit] = at.button
    return submit.click().run()


def _run() -> AppTest:
    """The app, signed in as a user created in this test's operational store."""
    token = create_user(get_settings().home)
    at = AppTest.from_file(str(APP_PATH), default_timeout=30).run()
    return _sign_in(at, "ana", token)


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_reconciliation_page_shows_totals_and_accounts_not_tied(serving: Path) -> None:
    build_snapshot(serving)
    at = _run()

    assert not at.exception
    assert at.title[0].value == "Reconciliation"
    assert not at.error and not at.warning
    assert _metrics(at) == {
        "Charges": "$3,550.50",
        "Billed": "$1,975.25",
        "Unbilled": "$1,630.50",
        "Amount at risk": "$1,725.75",
        "Accounts": "7",
        "Accounts not tied": "5",
        "Net variance": "$1,575.25",
        "As of (UTC)": "2025-02-28 23:30",
    }
    assert "published 2025-03-01 06:00 UTC" in at.caption[1].value

    per_entity, not_tied = at.dataframe[0].value, at.dataframe[1].value
    subtotals = per_entity[per_entity["recon_status"] == recon_data.ALL_STATUSES]
    assert subtotals.set_index("entity")["charge_amount"].to_dict() == {
        "HOSP-A": 2450.50, "HOSP-B": 1100.00,
    }
    assert list(not_tied["account_id"]) == ["ACC-A2", "ACC-A3", "ACC-B3", "ACC-B1", "ACC-B2"]
    # Each dollar once: an unbilled account risks its charges, not twice its charges.
    assert list(not_tied["amount_at_risk"]) == [1250.50, 300.00, 80.00, 75.25, 20.00]
    assert "TIED" not in set(not_tied["recon_status"])
    assert "patient_id" not in not_tied.columns and "patient_id" not in per_entity.columns


def test_filters_narrow_every_number(serving: Path) -> None:
    build_snapshot(serving)
    at = _run()
    assert at.multiselect(key="recon_entity").options == ["HOSP-A", "HOSP-B"]

    at.multiselect(key="recon_entity").set_value(["HOSP-B"])
    at.multiselect(key="recon_period").set_value(["2025-02"]).run()

    assert not at.exception
    metrics = _metrics(at)
    assert metrics["Accounts"] == "3"
    assert metrics["Charges"] == "$1,000.00"
    assert metrics["Accounts not tied"] == "2"
    assert list(at.dataframe[1].value["account_id"]) == ["ACC-B3", "ACC-B2"]

    at.multiselect(key="recon_payer").set_value(["(none)"]).run()
    assert _metrics(at)["Accounts"] == "1"
    assert list(at.dataframe[1].value["account_id"]) == ["ACC-B3"]


def test_filters_matching_nothing_say_so(serving: Path) -> None:
    build_snapshot(serving)
    at = _run()
    at.multiselect(key="recon_entity").set_value(["HOSP-A"])
    at.multiselect(key="recon_status").set_value(["AMOUNT_VARIANCE"]).run()
    assert not at.exception
    assert _metrics(at)["Accounts"] == "0"
    assert any("No accounts match" in i.value for i in at.info)
    assert not at.dataframe


def test_as_of_falls_back_to_the_mart_without_meta_snapshot(serving: Path) -> None:
    build_snapshot(serving, with_meta=False)
    at = _run()
    assert not at.exception
    assert _metrics(at)["As of (UTC)"] == "2025-02-28 23:30"
    assert "publish time unknown" in at.caption[1].value


def test_missing_snapshot_says_what_to_run(serving: Path) -> None:
    at = _run()
    assert not at.exception
    assert not at.error
    [info] = at.info
    assert info.value == (
        f"No serving snapshot at {serving}. Run `billops run` (or `make run`) to build and "
        "publish it."
    )
    assert not at.metric


def test_snapshot_without_the_mart_warns(serving: Path) -> None:
    build_snapshot(serving, with_mart=False)
    at = _run()
    assert not at.exception
    [warning] = at.warning
    assert "has no marts.fct_account_reconciliation" in warning.value
    assert "Run `billops run`" in warning.value
    assert not at.metric


def test_empty_mart_says_what_to_run(serving: Path) -> None:
    build_snapshot(serving, rows=[])
    at = _run()
    assert not at.exception
    [info] = at.info
    assert "is empty" in info.value and "`billops run`" in info.value
    assert not at.metric and not at.dataframe


def test_unreadable_snapshot_is_one_line_error(serving: Path) -> None:
    serving.parent.mkdir(parents=True)
    serving.write_bytes(b"not a duckdb file\n" * 100)
    at = _run()
    assert not at.exception
    [error] = at.error
    assert error.value.startswith(f"Cannot read the serving snapshot at {serving}: ")
    assert "\n" not in error.value


def test_a_republished_snapshot_is_read_again(serving: Path, tmp_path: Path) -> None:
    build_snapshot(serving)
    assert recon_data.totals(recon_data.ReconFilters()).accounts == 7
    # publish writes a new file and renames it over the old one
    fresh = build_snapshot(tmp_path / "next.duckdb", rows=recon_rows()[:2])
    os.replace(fresh, serving)
    assert recon_data.totals(recon_data.ReconFilters()).accounts == 2


def test_a_filter_value_gone_after_republish_falls_back_to_all(serving: Path, tmp_path: Path) -> None:
    build_snapshot(serving)
    at = _run()
    at.multiselect(key="recon_entity").set_value(["HOSP-B"]).run()
    assert _metrics(at)["Accounts"] == "4"
    os.replace(build_snapshot(tmp_path / "next.duckdb", rows=recon_rows()[:3]), serving)
    at.run()
    assert not at.exception
    assert at.multiselect(key="recon_entity").options == ["HOSP-A"]
    assert _metrics(at)["Accounts"] == "3"


def test_snapshot_is_opened_read_only(serving: Path) -> None:
    build_snapshot(serving)
    data.query("select 1")
    # a read-only reader leaves no lock behind, so a writer can open the file at once
    with duckdb.connect(str(serving)) as con:
        assert con.execute("select count(*) from meta.snapshot").fetchone() == (1,)
    with pytest.raises(duckdb.Error):
        data.query("create table meta.x (i integer)")


def test_money_format() -> None:
    assert money(1234.5) == "$1,234.50"
    assert money(-75.25) == "-$75.25"
    assert money(None) == "—"


def test_streamlit_command_runs_the_app_headless_on_loopback() -> None:
    argv = streamlit_command(port=8765)
    assert argv[:5] == [sys.executable, "-m", "streamlit", "run", str(APP_PATH)]
    assert Path(argv[4]).is_absolute() and Path(argv[4]).exists()
    flags = dict(zip(argv[5::2], argv[6::2], strict=True))
    assert flags == {
        "--server.address": "127.0.0.1",
        "--server.port": "8765",
        "--server.headless": "true",
        "--browser.gatherUsageStats": "false",
        "--server.fileWatcherType": "none",
        "--client.toolbarMode": "viewer",
    }
    assert streamlit_command(headless=False)[10] == "false"
    assert streamlit_command(address="0.0.0.0")[6] == "0.0.0.0"


def test_an_unauthenticated_session_sees_only_the_sign_in_form(serving: Path) -> None:
    build_snapshot(serving)
    create_user(serving.parents[1])
    at = AppTest.from_file(str(APP_PATH), default_timeout=30).run()
    assert not at.exception
    assert [t.value for t in at.title] == ["billops"]
    token_field = at.text_input(key="sign_in_token").proto
    assert token_field.type == token_field.PASSWORD
    assert not at.metric and not at.dataframe and not at.multiselect
    assert not any("Signed in as" in c.value for c in at.sidebar.caption)
    # Nothing of the snapshot reaches the page: no account, entity or dollar figure.
    shown = " ".join(e.value for e in [*at.markdown, *at.caption, *at.info, *at.warning])
    assert "ACC-" not in shown and "HOSP-" not in shown and "$" not in shown


def test_a_wrong_token_is_refused_audited_and_counted(serving: Path) -> None:
    from billops.auth import failed_sign_ins
    from billops.ops_store import audit_trail

    build_snapshot(serving)
    token = create_user(serving.parents[1])
    at = AppTest.from_file(str(APP_PATH), default_timeout=30).run()
    _sign_in(at, "ana", token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert not at.exception
    assert [e.value for e in at.error] == [sign_in.REFUSED]
    assert not at.metric and not at.dataframe
    _sign_in(at, "nobody", token)
    assert [e.value for e in at.error] == [sign_in.REFUSED]
    assert at.session_state[session.FAILED_KEY] == 2
    assert failed_sign_ins("ana") == 1
    refused = [r for r in audit_trail() if r["operation"] == "SIGN_IN_FAILED"]
    assert [r["record_id"] for r in refused] == ["ana", "(unknown)"]
    # Neither the token nor the hash is written anywhere in the audit.
    assert all(token not in str(r) and token_hash(token) not in str(r) for r in audit_trail())


def test_sign_in_shows_who_and_sign_out_returns_to_the_form(serving: Path) -> None:
    build_snapshot(serving)
    at = _run()
    assert not at.exception
    assert "Signed in as ana (analyst)" in [c.value for c in at.sidebar.caption]
    assert at.title[0].value == "Reconciliation" and at.metric
    at.sidebar.button(key="sign_out").click().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["billops"] and not at.metric


def test_a_disabled_user_is_signed_out_at_the_next_run(serving: Path) -> None:
    from billops.auth import disable_user

    build_snapshot(serving)
    at = _run()
    assert at.metric
    disable_user("ana", actor="admin")
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["billops"] and not at.metric


def test_the_form_locks_after_too_many_refusals(serving: Path) -> None:
    from billops.auth import failed_sign_ins

    create_user(serving.parents[1])
    at = AppTest.from_file(str(APP_PATH), default_timeout=30).run()
    for _ in range(session.MAX_FAILED_SIGN_INS):
        _sign_in(at, "ana", "wrong")
    assert [e.value for e in at.error] == [sign_in.LOCKED]
    at.run()
    # Locked: the session has no form left to try a sixth token in.
    assert [e.value for e in at.error] == [sign_in.LOCKED]
    assert not at.text_input and not at.button and not at.metric
    assert failed_sign_ins("ana") == session.MAX_FAILED_SIGN_INS


def test_billops_dashboard_binds_loopback_and_prints_the_address(
    serving: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from billops import cli
    from dashboards import data_docs_server

    started: list[list[str]] = []
    servers: list[ThreadingHTTPServer] = []
    serve = data_docs_server.serve_data_docs
    monkeypatch.setattr(data_docs_server, "serve_data_docs",
                        lambda *a, **kw: servers.append(serve(*a, **kw)) or servers[-1])
    monkeypatch.setattr(cli.subprocess, "call", lambda argv, env: started.append(argv) or 0)
    port = _free_port()
    try:
        assert cli.main(["dashboard", "--port", "8799", "--docs-port", str(port)]) == 0
        [argv] = started
        assert argv[argv.index("--server.address") + 1] == "127.0.0.1"
        [server] = servers
        assert server.server_address == ("127.0.0.1", port)
        printed = capsys.readouterr().out
        assert "http://127.0.0.1:8799" in printed
        assert f"http://127.0.0.1:{port}/index.html" in printed
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
