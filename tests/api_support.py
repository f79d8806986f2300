"""Helpers of the API tests: an app on a fresh BILLOPS_HOME, one user per role, and checks that
an error is the API's one line of JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import duckdb
import httpx
from fastapi.testclient import TestClient

from billops import auth
from billops.api import create_app
from billops.config import Settings

PREFIX = "/api/v1"


@dataclass
class Api:
    settings: Settings
    client: TestClient
    tokens: dict[str, str] = field(default_factory=dict)  # user name -> token

    def as_user(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    def add(self, name: str, role: str, tier: str | None = None) -> str:
        self.tokens[name] = auth.add_user(name, role, actor="tests", tier=tier,
                                          settings=self.settings)
        return self.tokens[name]


def make_api(settings: Settings, users: dict[str, str] | None = None) -> Api:
    """The app on ``settings`` with a user per (name -> role); one per role by default."""
    api = Api(settings, TestClient(create_app(settings), raise_server_exceptions=False))
    for name, role in (users or {r: r for r in auth.ROLES}).items():
        api.add(name, role)
    return api


def assert_one_line_error(response: httpx.Response, status: int, *secrets: str) -> dict:
    """The response is ``status`` with a one-line JSON error, carrying the request id of the
    header, and names none of ``secrets`` (tokens)."""
    assert response.status_code == status, response.text
    assert "\n" not in response.text and "Traceback" not in response.text
    body = json.loads(response.text)
    assert set(body) == {"error", "request_id"} and body["error"]
    assert body["request_id"] == response.headers["x-request-id"]
    for secret in secrets:
        assert secret not in response.text and secret not in str(response.headers)
    return body


AS_OF = datetime(2026, 10, 30, 12, 0)
TYPES = ("DENIAL", "UNBILLED_CHARGE", "COVERAGE_MISMATCH", "REMIT_NOT_IN_GL", "UNDERPAYMENT")


def seed_items(settings: Settings, count: int = 30, as_of: datetime = AS_OF) -> list[str]:
    """``count`` exceptions in a small marts table, synced into work items by the workflow's own
    sync; returns their ids."""
    from billops.workflow.items import sync_from_marts

    rows = [(f"exc{n:03d}", TYPES[n % len(TYPES)], "HIGH" if n % 3 else "LOW", "E1",
             f"ACCT{n:05d}", Decimal(10 * n + 5), round(1 - n / (count + 1), 4))
            for n in range(count)]
    with duckdb.connect() as con:
        con.execute("create schema marts")
        con.execute("create table marts.billing_exceptions (exception_id varchar, "
                    "exception_type varchar, severity varchar, entity varchar, account_id varchar, "
                    "amount_at_risk decimal(14, 2), priority_score double)")
        con.executemany("insert into marts.billing_exceptions values (?, ?, ?, ?, ?, ?, ?)", rows)
        sync_from_marts(con, as_of=as_of, settings=settings)
    return [r[0] for r in rows]
