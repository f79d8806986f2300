"""Users, roles and tokens (billops.auth) and ``billops users``: only a token's hash is stored,
every change and sign-in is audited, and a wrong, unknown or disabled sign-in is refused."""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import subprocess
import sys
from decimal import Decimal
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


def test_bearer_tokens_find_their_user_by_hash(settings: Settings,
                                               caplog: pytest.LogCaptureFixture) -> None:
    token = auth.add_user("dana", "approver", actor="root", settings=settings)
    before = len(audit_trail(settings=settings))
    user = auth.authenticate_bearer(token, channel="api", settings=settings)
    assert user is not None and (user.name, user.role, user.approval_tier) == (
        "dana", "approver", "approver")
    assert len(audit_trail(settings=settings)) == before  # a request is not a sign-in
    assert auth.authenticate_bearer("not-a-token", channel="api", settings=settings) is None
    assert auth.authenticate_bearer("not-a-token", channel="api", settings=settings) is None
    refused = [r for r in audit_trail(settings=settings) if r["operation"] == "BEARER_REFUSED"]
    assert len(refused) == 1  # at most once a minute per token
    auth.disable_user("dana", actor="root", settings=settings)
    assert auth.authenticate_bearer(token, channel="api", settings=settings) is None
    assert not any(token in str(r) or auth.token_hash(token) in str(r)
                   for r in audit_trail(settings=settings))
    assert not any(token in m for m in caplog.messages)


def test_a_dashboard_password_is_stored_as_argon2id(settings: Settings) -> None:
    password = "correct horse battery staple"
    token = auth.add_user("dana", "analyst", actor="root", password=password, settings=settings)
    [row] = _stored_rows(settings)
    assert row["password_hash"].startswith("$argon2id$") and password not in str(row)
    assert auth.authenticate("dana", password, channel="dashboard", settings=settings) is not None
    assert auth.authenticate("dana", token, channel="dashboard", settings=settings) is not None
    assert auth.authenticate("dana", password + "!", channel="dashboard", settings=settings) is None
    assert json.loads(audit_trail(settings=settings)[-1]["detail"])["reason"] == "wrong token or password"
    with pytest.raises(BillopsError, match="at least 12 characters"):
        auth.add_user("eli", "analyst", actor="root", password="short", settings=settings)
    auth.set_password("dana", "another long passphrase", actor="root", settings=settings)
    assert auth.authenticate("dana", password, channel="dashboard", settings=settings) is None


def test_approval_tiers(settings: Settings) -> None:
    auth.add_user("fin", "approver", tier="finance_director", actor="root", settings=settings)
    assert auth.active_user("fin", settings).approval_tier == "finance_director"  # type: ignore[union-attr]
    with pytest.raises(BillopsError, match="approval tier 'cfo' is not one of approver, finance_director"):
        auth.add_user("eli", "approver", tier="cfo", actor="root", settings=settings)
    with pytest.raises(BillopsError, match="only an approver has an approval tier"):
        auth.add_user("eli", "analyst", tier="approver", actor="root", settings=settings)
    assert auth.approval_tiers() == {"approver": Decimal("1000.00"), "finance_director": None}


def test_billops_users_add_password_stdin(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLOPS_")}
    env["BILLOPS_HOME"] = str(tmp_path)
    added = subprocess.run([sys.executable, "-m", "billops", "users", "add", "fin", "--role",
                            "approver", "--tier", "finance_director", "--password-stdin"],
                           input="a long dashboard passphrase\n", env=env, cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
    assert added.returncode == 0, added.stderr
    assert "passphrase" not in added.stdout + added.stderr
    settings = Settings(home=tmp_path)
    user = auth.authenticate("fin", "a long dashboard passphrase", channel="dashboard",
                             settings=settings)
    assert user is not None and user.approval_tier == "finance_director"
    assert auth.authenticate_bearer(added.stdout.strip(), channel="api", settings=settings)
