"""Users, roles and sign-in tokens in the operational store (issue 13; issue 15 builds on it).

A user has a login name, one role (``ROLES``) and one token: ``secrets.token_urlsafe(32)``
(256 random bits), printed once when the user is created. The store keeps only its SHA-256: a
token that random cannot be guessed from its hash, so no slow password hash is needed, and it is
compared in constant time. The dashboard's sign-in and the Data Docs server (HTTP Basic) check
names and tokens here; every change to a user, every sign-in and every refused sign-in appends a
row to the store's ``audit_log`` (never the token or its hash).

Table ``users`` (SQLAlchemy Core, on ``billops.ops_store.metadata``): ``name`` (unique),
``role``, ``token_hash`` (hex SHA-256), ``created_at`` (UTC), ``created_by``, ``disabled``,
``disabled_at``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from billops import ops_store
from billops.config import Settings
from billops.errors import BillopsError

ROLES = ("analyst", "billing_specialist", "approver", "admin")
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
# Sign-in channels recorded in the audit log.
CHANNELS = ("dashboard", "data_docs", "api", "cli")
UNKNOWN_USER = "(unknown)"

log = logging.getLogger(__name__)

users = sa.Table(
    "users",
    ops_store.metadata,
    sa.Column("user_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    sa.Column("disabled_at", sa.DateTime),
    sa.CheckConstraint(f"role in ({', '.join(repr(r) for r in ROLES)})", name="ck_users_role"),
)


@dataclass(frozen=True)
class User:
    """A user as the store holds it, without the token hash."""

    name: str
    role: str
    created_at: datetime
    created_by: str
    disabled: bool


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@contextmanager
def _begin(settings: Settings | None) -> Iterator[sa.Connection]:
    eng = ops_store.engine(settings)
    try:
        with eng.begin() as con:
            yield con
    finally:
        eng.dispose()


def _audit(con: sa.Connection, name: str, operation: str, actor: str, **detail: str) -> None:
    con.execute(
        sa.insert(ops_store.audit_log).values(
            table_name="users", record_id=name[:64], operation=operation, actor=actor[:128],
            at=_now(), detail=json.dumps(detail, sort_keys=True),
        )
    )


def _checked_name(name: str) -> str:
    name = (name or "").strip()
    if not NAME_PATTERN.fullmatch(name):
        raise BillopsError(
            f"user name {name[:64]!r}: expected 1-64 letters, digits or . _ @ - "
            "(starting with a letter or digit)"
        )
    return name


def _checked_actor(actor: str) -> str:
    actor = (actor or "").strip()
    if not actor:
        raise BillopsError("a user change needs the actor (--by)")
    return actor


def add_user(name: str, role: str, *, actor: str, settings: Settings | None = None) -> str:
    """Create a user; returns the token, which is never stored and cannot be shown again."""
    name, actor = _checked_name(name), _checked_actor(actor)
    if role not in ROLES:
        raise BillopsError(f"user {name}: role {role!r} is not one of {', '.join(ROLES)}")
    token = secrets.token_urlsafe(32)
    with _begin(settings) as con:
        if con.execute(sa.select(users.c.user_id).where(users.c.name == name)).first():
            raise BillopsError(f"user {name}: already exists")
        con.execute(
            sa.insert(users).values(
                name=name, role=role, token_hash=token_hash(token), created_at=_now(),
                created_by=actor, disabled=False,
            )
        )
        _audit(con, name, "INSERT", actor, role=role)
    return token


def list_users(settings: Settings | None = None) -> list[User]:
    query = sa.select(
        users.c.name, users.c.role, users.c.created_at, users.c.created_by, users.c.disabled
    ).order_by(users.c.name)
    with _begin(settings) as con:
        return [User(*row) for row in con.execute(query).all()]


def active_user(name: str, settings: Settings | None = None) -> User | None:
    """The user of that name if it exists and is not disabled (a signed-in session re-checks)."""
    with _begin(settings) as con:
        row = con.execute(
            sa.select(users.c.name, users.c.role, users.c.created_at, users.c.created_by,
                      users.c.disabled).where(users.c.name == name, users.c.disabled.is_(False))
        ).first()
    return User(*row) if row else None


def disable_user(name: str, *, actor: str, settings: Settings | None = None) -> bool:
    """Disable a user (its token stops working at once). False if it was disabled already."""
    name, actor = _checked_name(name), _checked_actor(actor)
    with _begin(settings) as con:
        row = con.execute(sa.select(users.c.disabled).where(users.c.name == name)).first()
        if row is None:
            raise BillopsError(f"user {name}: no such user")
        if row.disabled:
            return False
        con.execute(
            sa.update(users).where(users.c.name == name).values(disabled=True, disabled_at=_now())
        )
        _audit(con, name, "DISABLE", actor)
    return True


def has_users(settings: Settings | None = None) -> bool:
    with _begin(settings) as con:
        return con.execute(sa.select(users.c.user_id).limit(1)).first() is not None


def authenticate(
    name: str, token: str, *, channel: str, audit_success: bool = True,
    settings: Settings | None = None,
) -> User | None:
    """The active user whose name and token these are, else None.

    A refusal is logged and audited as SIGN_IN_FAILED with the reason (unknown user, wrong token,
    disabled), never with the token, nor with an unknown name (recorded as ``(unknown)``). A
    success is audited as SIGN_IN unless ``audit_success`` is False (the Data Docs server checks
    every request; a page load is not a sign-in).
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown sign-in channel {channel!r}")
    name = (name or "").strip()
    presented = token_hash(token or "")
    with _begin(settings) as con:
        row = con.execute(
            sa.select(users.c.name, users.c.role, users.c.created_at, users.c.created_by,
                      users.c.disabled, users.c.token_hash).where(users.c.name == name)
        ).first() if name else None
        # Compared even for an unknown name, so timing does not tell which names exist.
        matches = hmac.compare_digest(presented, row.token_hash if row else token_hash(""))
        if row is None:
            reason = "unknown user"
        elif not matches:
            reason = "wrong token"
        elif row.disabled:
            reason = "disabled"
        else:
            if audit_success:
                _audit(con, row.name, "SIGN_IN", row.name, channel=channel)
            return User(row.name, row.role, row.created_at, row.created_by, False)
        # An unknown name is not recorded: it may be a token typed into the wrong field.
        who = row.name if row else UNKNOWN_USER
        _audit(con, who, "SIGN_IN_FAILED", who, channel=channel, reason=reason)
    log.warning("%s sign-in refused for user %s: %s", channel, who, reason)
    return None


def audit_sign_out(name: str, *, channel: str, settings: Settings | None = None) -> None:
    with _begin(settings) as con:
        _audit(con, name, "SIGN_OUT", name, channel=channel)


def failed_sign_ins(name: str, settings: Settings | None = None) -> int:
    """How many refused sign-ins the audit log holds for that name."""
    audit = ops_store.audit_log
    with _begin(settings) as con:
        return int(con.execute(
            sa.select(sa.func.count()).select_from(audit).where(
                audit.c.table_name == "users", audit.c.record_id == name[:64],
                audit.c.operation == "SIGN_IN_FAILED",
            )
        ).scalar_one())
