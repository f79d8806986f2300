"""Helpers of the API tests: an app on a fresh BILLOPS_HOME, one user per role, and checks that
an error is the API's one line of JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

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

    def add(self, name: str, role: str) -> str:
        self.tokens[name] = auth.add_user(name, role, actor="tests", settings=self.settings)
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
