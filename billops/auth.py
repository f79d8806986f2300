"""Users, roles and sign-in tokens in the operational store (issue 13; issue 15 builds on it).

A user has a login name, one role (``ROLES``) and one token: ``secrets.token_urlsafe(32)``
(256 random bits), printed once when the user is created. The store keeps only its SHA-256: a
token that random cannot be guessed from its hash, so no slow password hash is needed, and it is
compared in constant time; the hash is unique, so the HTTP API finds a bearer's user by it
(:func:`authenticate_bearer`). A user may also have a dashboard password (chosen by a person,
so hashed slowly: argon2id). The dashboard's sign-in and the Data Docs server (HTTP Basic) take
the name with the token or the password; every change to a user, every sign-in and every
refused sign-in appends a row to the store's audit trail (never a secret or its hash). An
approver carries an approval tier (``approval_tiers.csv``): how many dollars they may approve.

Table ``users`` (SQLAlchemy Core, on ``billops.ops_store.metadata``): ``name`` (unique),
``role``, ``token_hash`` (hex SHA-256, unique), ``password_hash`` (argon2id, or null),
``approval_tier``, ``created_at`` (UTC), ``created_by``, ``disabled``, ``disabled_at``.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import logging
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from billops import ops_store
from billops.config import Settings
from billops.errors import BillopsError

ROLES = ("analyst", "billing_specialist", "approver", "admin")
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
# Where a sign-in or an action comes from, as the audit trail records it.
CHANNELS = ("dashboard", "data_docs", "api", "cli", "pipeline")
UNKNOWN_USER = "(unknown)"
MIN_PASSWORD_LENGTH = 12
# The dollar tiers of approvers: tier,max_amount (empty = unbounded). Data, read by the
# adjustments' maker-checker (billops.workflow.adjustments) and checked when a user is added.
APPROVAL_TIERS_FILE = Path(__file__).parent / "workflow" / "data" / "approval_tiers.csv"
DEFAULT_APPROVER_TIER = "approver"
# A refused bearer token is audited at most once per this many seconds (per token hash), so a
# client retrying a revoked token cannot flood the trail.
BEARER_REFUSAL_AUDIT_SECONDS = 60.0
_hasher = PasswordHasher()  # argon2id with the library's current parameters

log = logging.getLogger(__name__)

users = sa.Table(
    "users",
    ops_store.metadata,
    sa.Column("user_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255)),
    sa.Column("approval_tier", sa.String(32)),
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
    approval_tier: str | None = None


_USER_COLUMNS = (users.c.name, users.c.role, users.c.created_at, users.c.created_by,
                 users.c.disabled, users.c.approval_tier)


def _user(row: sa.Row) -> User:
    return User(row.name, row.role, row.created_at, row.created_by, bool(row.disabled),
                row.approval_tier)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _audit(con: sa.Connection, name: str, operation: str, actor: str, *,
           channel: str | None = None, outcome: str | None = None, **detail: str) -> None:
    if channel is not None:
        detail = {"channel": channel, **detail}
    ops_store.append_audit(con, ops_store.AuditEvent(
        "users", name, operation, actor, channel=channel, outcome=outcome,
        reason=detail.get("reason"), detail=detail or None))


@lru_cache(maxsize=4)
def _tiers(path: Path, _mtime: float) -> dict[str, Decimal | None]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["tier"].strip(): (Decimal(row["max_amount"]) if row["max_amount"].strip()
                                      else None) for row in csv.DictReader(handle)}


def approval_tiers(path: Path | None = None) -> dict[str, Decimal | None]:
    """Tier -> the largest amount it may approve (None: unbounded), from the tiers file."""
    path = path or APPROVAL_TIERS_FILE
    return _tiers(path, path.stat().st_mtime)


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


def _checked_tier(name: str, role: str, tier: str | None) -> str | None:
    if role != "approver":
        if tier is not None:
            raise BillopsError(f"user {name}: only an approver has an approval tier")
        return None
    tier = (tier or DEFAULT_APPROVER_TIER).strip()
    if tier not in approval_tiers():
        raise BillopsError(f"user {name}: approval tier {tier!r} is not one of "
                           f"{', '.join(approval_tiers())}")
    return tier


def password_hash(name: str, password: str) -> str:
    """The argon2id hash of a dashboard password, after the length check."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise BillopsError(f"user {name}: a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def add_user(
    name: str, role: str, *, actor: str, tier: str | None = None, password: str | None = None,
    settings: Settings | None = None,
) -> str:
    """Create a user; returns the token, which is never stored and cannot be shown again.

    An approver's ``tier`` defaults to ``approver``; ``password`` (optional) is the dashboard
    password, stored as its argon2id hash.
    """
    name, actor = _checked_name(name), _checked_actor(actor)
    if role not in ROLES:
        raise BillopsError(f"user {name}: role {role!r} is not one of {', '.join(ROLES)}")
    tier = _checked_tier(name, role, tier)
    hashed = password_hash(name, password) if password is not None else None
    token = secrets.token_urlsafe(32)

    def insert(con: sa.Connection) -> None:
        if con.execute(sa.select(users.c.user_id).where(users.c.name == name)).first():
            raise BillopsError(f"user {name}: already exists")
        con.execute(sa.insert(users).values(
            name=name, role=role, token_hash=token_hash(token), password_hash=hashed,
            approval_tier=tier, created_at=_now(), created_by=actor, disabled=False))
        extra = {"approval_tier": tier} if tier else {}
        _audit(con, name, "INSERT", actor, role=role, password="set" if hashed else "none",
               **extra)

    ops_store.write(insert, settings)
    return token


def set_password(name: str, password: str, *, actor: str, settings: Settings | None = None) -> None:
    """Set (or replace) a user's dashboard password."""
    name, actor = _checked_name(name), _checked_actor(actor)
    hashed = password_hash(name, password)

    def update(con: sa.Connection) -> None:
        if con.execute(sa.update(users).where(users.c.name == name)
                       .values(password_hash=hashed)).rowcount == 0:
            raise BillopsError(f"user {name}: no such user")
        _audit(con, name, "SET_PASSWORD", actor)

    ops_store.write(update, settings)


def list_users(settings: Settings | None = None) -> list[User]:
    with ops_store.read(settings) as con:
        return [_user(row) for row in con.execute(sa.select(*_USER_COLUMNS).order_by(users.c.name))]


def active_user(name: str, settings: Settings | None = None) -> User | None:
    """The user of that name if it exists and is not disabled (a signed-in session re-checks)."""
    with ops_store.read(settings) as con:
        row = con.execute(sa.select(*_USER_COLUMNS).where(
            users.c.name == name, users.c.disabled.is_(False))).first()
    return _user(row) if row else None


def disable_user(name: str, *, actor: str, settings: Settings | None = None) -> bool:
    """Disable a user (its token stops working at once). False if it was disabled already."""
    name, actor = _checked_name(name), _checked_actor(actor)

    def disable(con: sa.Connection) -> bool:
        row = con.execute(sa.select(users.c.disabled).where(users.c.name == name)).first()
        if row is None:
            raise BillopsError(f"user {name}: no such user")
        if row.disabled:
            return False
        con.execute(sa.update(users).where(users.c.name == name)
                    .values(disabled=True, disabled_at=_now()))
        _audit(con, name, "DISABLE", actor)
        return True

    return ops_store.write(disable, settings)


def has_users(settings: Settings | None = None) -> bool:
    with ops_store.read(settings) as con:
        return con.execute(sa.select(users.c.user_id).limit(1)).first() is not None


def _password_matches(stored: str | None, secret: str) -> bool:
    if not stored or not secret:
        return False
    try:
        return _hasher.verify(stored, secret)
    except (VerificationError, InvalidHashError):
        return False


def _refusal(row: sa.Row | None, secret: str, presented: str) -> str | None:
    """Why a sign-in is refused, or None when the token or the password matches."""
    # Compared even for an unknown name, so timing does not tell which names exist.
    token_ok = hmac.compare_digest(presented, row.token_hash if row else token_hash(""))
    if row is None:
        return "unknown user"
    if not token_ok and not _password_matches(row.password_hash, secret):
        return "wrong token or password" if row.password_hash else "wrong token"
    return "disabled" if row.disabled else None


def authenticate(
    name: str, secret: str, *, channel: str, audit_success: bool = True,
    settings: Settings | None = None,
) -> User | None:
    """The active user whose name this is, with its token or its dashboard password, else None.

    A refusal is logged and audited as SIGN_IN_FAILED with the reason (unknown user, wrong token,
    disabled), never with the secret, nor with an unknown name (recorded as ``(unknown)``). A
    success is audited as SIGN_IN unless ``audit_success`` is False (the Data Docs server checks
    every request; a page load is not a sign-in).
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown sign-in channel {channel!r}")
    name, secret = (name or "").strip(), secret or ""
    presented = token_hash(secret)
    with ops_store.read(settings) as con:
        row = con.execute(sa.select(*_USER_COLUMNS, users.c.token_hash, users.c.password_hash)
                          .where(users.c.name == name)).first() if name else None
    reason = _refusal(row, secret, presented)
    if reason is None and row is not None:
        if audit_success:
            ops_store.write(lambda con: _audit(con, row.name, "SIGN_IN", row.name,
                                               channel=channel, outcome="GRANTED"), settings)
        return _user(row)
    # An unknown name is not recorded: it may be a token typed into the wrong field.
    who = row.name if row else UNKNOWN_USER
    ops_store.write(lambda con: _audit(con, who, "SIGN_IN_FAILED", who, channel=channel,
                                       outcome="REFUSED", reason=str(reason)), settings)
    log.warning("%s sign-in refused for user %s: %s", channel, who, reason)
    return None


_bearer_refusals: dict[str, float] = {}
_MAX_REMEMBERED_REFUSALS = 10_000


def _audit_bearer_refusal(presented: str, channel: str, reason: str,
                          settings: Settings | None) -> None:
    now = time.monotonic()
    if now - _bearer_refusals.get(presented, -BEARER_REFUSAL_AUDIT_SECONDS) < BEARER_REFUSAL_AUDIT_SECONDS:
        return
    if len(_bearer_refusals) >= _MAX_REMEMBERED_REFUSALS:  # random tokens must not grow it
        for stale in [h for h, t in _bearer_refusals.items()
                      if now - t >= BEARER_REFUSAL_AUDIT_SECONDS]:
            del _bearer_refusals[stale]
        if len(_bearer_refusals) >= _MAX_REMEMBERED_REFUSALS:
            return  # a flood: logged, not audited row by row
    _bearer_refusals[presented] = now
    ops_store.write(lambda con: _audit(con, UNKNOWN_USER, "BEARER_REFUSED", UNKNOWN_USER,
                                       channel=channel, outcome="REFUSED", reason=reason), settings)


def authenticate_bearer(token: str, *, channel: str, settings: Settings | None = None) -> User | None:
    """The active user whose API token this is (looked up by its unique SHA-256), else None.

    A success is not audited (a request is not a sign-in); a refusal is logged, and audited at
    most once a minute per token, without the token or its hash.
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown sign-in channel {channel!r}")
    presented = token_hash(token or "")
    with ops_store.read(settings) as con:
        row = con.execute(sa.select(*_USER_COLUMNS).where(users.c.token_hash == presented)).first()
    if row is not None and not row.disabled:
        return _user(row)
    reason = "disabled user" if row is not None else "unknown token"
    log.warning("%s bearer token refused: %s", channel, reason)
    _audit_bearer_refusal(presented, channel, reason, settings)
    return None


def audit_sign_out(name: str, *, channel: str, settings: Settings | None = None) -> None:
    ops_store.write(lambda con: _audit(con, name, "SIGN_OUT", name, channel=channel), settings)


def failed_sign_ins(name: str, settings: Settings | None = None) -> int:
    """How many refused sign-ins the audit log holds for that name."""
    audit = ops_store.audit_log
    with ops_store.read(settings) as con:
        return int(con.execute(
            sa.select(sa.func.count()).select_from(audit).where(
                audit.c.table_name == "users", audit.c.record_id == name[:64],
                audit.c.operation == "SIGN_IN_FAILED",
            )
        ).scalar_one())
