"""Users, roles and tokens (billops.auth) and ``billops users``: only a token's hash is stored,
every change and sign-in is audited, and a wrong, unknown or disabled sign-in is refused."""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from billops import auth
from billops.config import Settings
from billops.errors import BillopsError
from billops.ops_store import audit_trail, engine


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path)


def _stored_rows(settings: Settings) -> list[dict[str, object]]:
    eng = engine(settings)
    try:
        with eng.connect() as con:
            return [dict(r._mapping) for r in con.execute(sa.select(auth.users)).all()]
    finally:
        eng.dispose()


def test_only_the_tokens_sha256_is_stored(settings: Settings) -> None:
    token = auth.add_user("dana", "approver", actor="root", settings=settings)
    assert len(token) >= 43  # token_urlsafe(32): 256 random bits
    [row] = _stored_rows(settings)
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {str(v) for v in row.values()}
    assert (row["name"], row["role"], row["created_by"], row["disabled"]) == (
        "dana", "approver", "root", False)
    assert auth.add_user("eli", "analyst", actor="root", settings=settings) != token


def test_bad_users_are_refused_with_one_line(settings: Settings) -> None:
    auth.add_user("dana", "analyst", actor="root", settings=settings)
    for call, needle in [
        (lambda: auth.add_user("dana", "admin", actor="root", settings=settings), "already exists"),
        (lambda: auth.add_user("eli", "superuser", actor="root", settings=settings),
         "is not one of analyst, billing_specialist, approver, admin"),
        (lambda: auth.add_user("bad name", "admin", actor="root", settings=settings), "user name"),
        (lambda: auth.add_user("", "admin", actor="root", settings=settings), "user name"),
        (lambda: auth.add_user("eli", "admin", actor=" ", settings=settings), "actor"),
        (lambda: auth.disable_user("ghost", actor="root", settings=settings), "no such user"),
    ]:
        with pytest.raises(BillopsError, match=needle) as info:
            call()
        assert "\n" not in str(info.value)
    assert [u.name for u in auth.list_users(settings)] == ["dana"]


def test_authenticate_accepts_only_the_right_active_user(settings: Settings) -> None:
    token = auth.add_user("dana", "billing_specialist", actor="root", settings=settings)
    user = auth.authenticate("dana", token, channel="dashboard", settings=settings)
    assert user is not None and (user.name, user.role) == ("dana", "billing_specialist")
    assert auth.authenticate("dana", token[:-1], channel="dashboard", settings=settings) is None
    assert auth.authenticate("dana", "", channel="dashboard", settings=settings) is None
    assert auth.authenticate("Dana", token, channel="dashboard", settings=settings) is None
    assert auth.authenticate("", token, channel="dashboard", settings=settings) is None
    assert auth.disable_user("dana", actor="root", settings=settings) is True
    assert auth.disable_user("dana", actor="root", settings=settings) is False
    assert auth.authenticate("dana", token, channel="dashboard", settings=settings) is None
    assert auth.active_user("dana", settings) is None
    assert auth.failed_sign_ins("dana", settings) == 3
    with pytest.raises(ValueError):
        auth.authenticate("dana", token, channel="telnet", settings=settings)


def test_every_change_and_sign_in_is_audited_without_secrets(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    token = auth.add_user("dana", "analyst", actor="root", settings=settings)
    auth.authenticate("dana", token, channel="dashboard", settings=settings)
    auth.authenticate("dana", "wrong", channel="data_docs", settings=settings)
    auth.authenticate(token, token, channel="dashboard", settings=settings)  # token as the name
    auth.audit_sign_out("dana", channel="dashboard", settings=settings)
    auth.disable_user("dana", actor="admin2", settings=settings)
    rows = [r for r in audit_trail(settings=settings) if r["table_name"] == "users"]
    assert [(r["record_id"], r["operation"], r["actor"]) for r in rows] == [
        ("dana", "INSERT", "root"),
        ("dana", "SIGN_IN", "dana"),
        ("dana", "SIGN_IN_FAILED", "dana"),
        ("(unknown)", "SIGN_IN_FAILED", "(unknown)"),
        ("dana", "SIGN_OUT", "dana"),
        ("dana", "DISABLE", "admin2"),
    ]
    assert json.loads(rows[2]["detail"]) == {"channel": "data_docs", "reason": "wrong token"}
    assert json.loads(rows[3]["detail"]) == {"channel": "dashboard", "reason": "unknown user"}
    secret = {token, auth.token_hash(token)}
    assert not any(s in str(r) for r in rows for s in secret)
    assert not any(token in m for m in caplog.messages)
    assert any("refused" in m for m in caplog.messages)


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLOPS_")}
    env["BILLOPS_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "billops", *args], env=env, cwd=home,
                          capture_output=True, text=True, timeout=120)


def test_billops_users_add_list_disable(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    added = _cli(tmp_path, "users", "add", "dana", "--role", "approver", "--by", "ops-lead")
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip()
    assert "\n" not in token and "shown only this once" in added.stderr
    assert auth.authenticate("dana", token, channel="cli", settings=settings) is not None

    listed = _cli(tmp_path, "users", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    [user] = json.loads(listed.stdout)
    assert {k: user[k] for k in ("name", "role", "created_by", "disabled")} == {
        "name": "dana", "role": "approver", "created_by": "ops-lead", "disabled": False}
    assert "hash" not in listed.stdout and auth.token_hash(token) not in listed.stdout
    assert token not in _cli(tmp_path, "users", "list").stdout

    again = _cli(tmp_path, "users", "add", "dana", "--role", "admin")
    assert again.returncode == 2 and again.stderr.strip() == "billops: user dana: already exists"
    bad_role = _cli(tmp_path, "users", "add", "eli", "--role", "root")
    assert bad_role.returncode == 2 and "is not one of" in bad_role.stderr

    disabled = _cli(tmp_path, "users", "disable", "dana")
    assert disabled.returncode == 0 and "disabled" in disabled.stdout
    assert auth.authenticate("dana", token, channel="cli", settings=settings) is None
    actors = [(r["operation"], r["actor"]) for r in audit_trail(settings=settings)
              if r["operation"] in ("INSERT", "DISABLE")]
    assert actors == [("INSERT", "ops-lead"), ("DISABLE", getpass.getuser())]
    unknown = _cli(tmp_path, "users", "disable", "ghost")
    assert unknown.returncode == 2 and unknown.stderr.strip() == "billops: user ghost: no such user"
