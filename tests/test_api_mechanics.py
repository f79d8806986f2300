"""The HTTP API's mechanics (issue 15, docs/api.md): bearer tokens and 401, the route-role table
and 403, one-line JSON errors, request ids in headers, bodies and log records, the per-token
rate limit and 429, and the OpenAPI document's contract routes."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from billops import auth
from billops.api.app import create_app, route_list
from billops.api.ratelimit import RateLimiter
from billops.api.roles import PUBLIC_ROUTES, ROUTE_ROLES, roles_table
from billops.config import Settings
from tests.api_support import PREFIX, Api, assert_one_line_error, make_api

REPO = Path(__file__).resolve().parents[1]

# One request per route: (method, path, JSON body).
CALLS = {
    "health": ("GET", "/health", None),
    "list_exceptions": ("GET", "/exceptions", None),
    "get_exception": ("GET", "/exceptions/nope", None),
    "act_on_exception": ("POST", "/exceptions/nope/actions",
                         {"action": "comment", "reason": "looked", "version": 1}),
    "list_queues": ("GET", "/queues", None),
    "request_adjustment": ("POST", "/adjustments",
                           {"account_id": "ACCT-1", "kind": "write_off", "amount": "10.00",
                            "reason": "small balance"}),
    "list_adjustments": ("GET", "/adjustments", None),
    "get_adjustment": ("GET", "/adjustments/nope", None),
    "approve_adjustment": ("POST", "/adjustments/nope/approve", {"reason": "ok"}),
    "reject_adjustment": ("POST", "/adjustments/nope/reject", {"reason": "no"}),
    "read_audit": ("GET", "/audit", None),
    "lookup_patient": ("GET", "/patients/" + "0" * 32, None),
}


@pytest.fixture()
def api(billops_home: Settings) -> Api:
    return make_api(billops_home)


def _call(api: Api, name: str, headers: dict[str, str] | None = None) -> httpx.Response:
    method, path, body = CALLS[name]
    return api.client.request(method, PREFIX + path, json=body, headers=headers or {})


def test_every_route_is_in_the_role_table_and_called_here(api: Api) -> None:
    names = {name for _, _, name in route_list(api.client.app)}
    assert names == set(ROUTE_ROLES) | PUBLIC_ROUTES == set(CALLS)


def test_health_needs_no_token_and_says_nothing(api: Api) -> None:
    response = api.client.get(f"{PREFIX}/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response.headers["x-request-id"]


@pytest.mark.parametrize("name", sorted(ROUTE_ROLES))
def test_without_a_token_every_data_route_is_401(api: Api, name: str) -> None:
    body = assert_one_line_error(_call(api, name), 401)
    assert "Bearer" in body["error"]


def test_a_wrong_malformed_or_disabled_token_is_401_and_never_echoed(api: Api) -> None:
    wrong = "x" * 43
    for header in (f"Bearer {wrong}", f"Basic {wrong}", "Bearer", f"Bearer {'y' * 300}",
                   f"Bearer {api.tokens['analyst']}x"):
        response = api.client.get(f"{PREFIX}/exceptions", headers={"Authorization": header})
        assert_one_line_error(response, 401, wrong, api.tokens["analyst"])
    assert api.client.get(f"{PREFIX}/exceptions", headers=api.as_user("analyst")).status_code == 200
    auth.disable_user("analyst", actor="tests", settings=api.settings)
    response = api.client.get(f"{PREFIX}/exceptions", headers=api.as_user("analyst"))
    assert_one_line_error(response, 401, api.tokens["analyst"])


@pytest.mark.parametrize("role", auth.ROLES)
@pytest.mark.parametrize("name", sorted(ROUTE_ROLES))
def test_the_role_table_decides_who_reaches_each_route(api: Api, name: str, role: str) -> None:
    response = _call(api, name, api.as_user(role))
    gated = response.status_code == 403 and "may not call" in response.json()["error"]
    assert gated == (role not in ROUTE_ROLES[name]), (name, role, response.text)
    if gated:
        assert_one_line_error(response, 403, api.tokens[role])
    assert response.status_code != 401 and response.status_code < 500, response.text


def test_docs_print_the_role_table_of_the_code(api: Api) -> None:
    text = (REPO / "docs" / "api.md").read_text()
    assert roles_table(route_list(api.client.app)) in text, (
        "docs/api.md: paste billops.api.roles.roles_table(route_list(create_app()))")


def test_the_openapi_document_lists_the_contract_routes_by_name(api: Api) -> None:
    response = api.client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    document = response.json()
    found = {(method.upper(), path, op["operationId"])
             for path, ops in document["paths"].items() for method, op in ops.items()}
    assert found == set(route_list(api.client.app))
    for method, path in [("GET", "/exceptions"), ("GET", "/exceptions/{exception_id}"),
                         ("POST", "/exceptions/{exception_id}/actions"), ("GET", "/queues"),
                         ("POST", "/adjustments"), ("GET", "/adjustments"),
                         ("POST", "/adjustments/{adjustment_id}/approve"),
                         ("POST", "/adjustments/{adjustment_id}/reject"), ("GET", "/audit"),
                         ("GET", "/health")]:
        assert method.lower() in document["paths"][PREFIX + path], path
    params = {p["name"] for p in document["paths"][f"{PREFIX}/exceptions"]["get"]["parameters"]}
    assert {"status", "queue", "type", "limit", "offset"} <= params
    action = document["components"]["schemas"]["ActionIn"]["properties"]["action"]
    assert set(action["enum"]) == {"claim", "comment", "resolve", "dismiss", "reopen", "escalate",
                                   "snooze", "assign"}
    assert "HTTPBearer" in document["components"]["securitySchemes"]
    assert api.client.get(f"{PREFIX}/docs").status_code == 200


def test_errors_are_one_line_json_with_the_request_id(api: Api) -> None:
    headers = api.as_user("admin")
    assert_one_line_error(api.client.get(f"{PREFIX}/exceptions/nope", headers=headers), 404)
    assert_one_line_error(api.client.get(f"{PREFIX}/no-such-route", headers=headers), 404)
    assert_one_line_error(api.client.delete(f"{PREFIX}/exceptions", headers=headers), 405)
    bad = api.client.post(f"{PREFIX}/exceptions/nope/actions", headers=headers,
                          json={"action": "shred", "version": "SECRET-VALUE", "extra": 1})
    body = assert_one_line_error(bad, 422, "SECRET-VALUE")
    assert body["error"].startswith("body.")
    bad = api.client.get(f"{PREFIX}/exceptions?limit=100000", headers=headers)
    assert assert_one_line_error(bad, 422)["error"].startswith("query.limit")


def test_an_internal_error_is_a_one_line_500_without_its_message(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from billops.workflow import items

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("SECRET-VALUE from a stored row")

    monkeypatch.setattr(items, "list_items", broken)
    with caplog.at_level(logging.INFO):
        response = api.client.get(f"{PREFIX}/exceptions", headers=api.as_user("admin"))
    body = assert_one_line_error(response, 500, "SECRET-VALUE")
    assert body["error"] == "internal error"
    logged = [r for r in caplog.records if "internal error" in r.getMessage()]
    assert logged and all("SECRET-VALUE" not in r.getMessage() for r in caplog.records)
    assert {r.request_id for r in logged} == {body["request_id"]}


def test_request_ids_are_taken_when_sane_and_reach_every_log_record(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    headers = api.as_user("analyst")
    with caplog.at_level(logging.DEBUG):
        ok = api.client.get(f"{PREFIX}/exceptions", headers={**headers, "X-Request-ID": "crm-42.a"})
        refused = api.client.get(f"{PREFIX}/audit", headers={**headers, "X-Request-ID": "crm-43"})
        insane = api.client.get(f"{PREFIX}/exceptions",
                                headers={**headers, "X-Request-ID": "bad id\twith spaces"})
        long = api.client.get(f"{PREFIX}/exceptions", headers={**headers, "X-Request-ID": "a" * 65})
    assert ok.headers["x-request-id"] == "crm-42.a"
    assert assert_one_line_error(refused, 403)["request_id"] == "crm-43"
    for response in (insane, long):
        assert len(response.headers["x-request-id"]) == 32
        assert response.headers["x-request-id"] not in ("bad id\twith spaces", "a" * 65)
    with caplog.at_level(logging.DEBUG):
        api.client.get(f"{PREFIX}/no/such/route", headers={**headers, "X-Request-ID": "lost-1"})
    lost = [r.getMessage() for r in caplog.records
            if r.name == "billops.api.access" and r.request_id == "lost-1"]
    assert len(lost) == 1 and "(no route)" in lost[0] and "such" not in lost[0]
    by_id: dict[str, list[logging.LogRecord]] = {}
    for record in caplog.records:
        by_id.setdefault(record.request_id, []).append(record)
    for response in (ok, refused, insane, long):
        rid = response.headers["x-request-id"]
        access = [r for r in by_id.get(rid, []) if r.name == "billops.api.access"]
        assert len(access) == 1, rid
    # Every record written inside a request carries that request's id; the refused sign-in or
    # role check logs nothing without it.
    assert all(hasattr(r, "request_id") for r in caplog.records)
    assert all(api.tokens["analyst"] not in r.getMessage() for r in caplog.records)


def test_the_bucket_empties_then_429_with_retry_after(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, api_rate_limit_per_minute=6, api_rate_limit_burst=3)
    api = make_api(settings, {"ann": "analyst", "bob": "analyst"})
    statuses = [api.client.get(f"{PREFIX}/queues", headers=api.as_user("ann")).status_code
                for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = api.client.get(f"{PREFIX}/queues", headers=api.as_user("ann"))
    assert_one_line_error(limited, 429, api.tokens["ann"])
    assert 1 <= int(limited.headers["retry-after"]) <= 10
    # Per token: another user is not held back; the health probe never is.
    assert api.client.get(f"{PREFIX}/queues", headers=api.as_user("bob")).status_code == 200
    assert all(api.client.get(f"{PREFIX}/health").status_code == 200 for _ in range(5))


def test_the_token_bucket_refills_at_its_rate() -> None:
    now = [100.0]
    limiter = RateLimiter(per_minute=60, burst=2, max_keys=2, clock=lambda: now[0])
    assert [limiter.take("a"), limiter.take("a"), limiter.take("a")] == [0, 0, 1]
    now[0] += 1.0
    assert limiter.take("a") == 0 and limiter.take("a") == 1
    now[0] += 0.5
    assert limiter.take("a") == 1
    limiter.take("b"), limiter.take("c")  # "a" is dropped beyond max_keys: a full bucket again
    assert limiter.take("a") == 0
    with pytest.raises(ValueError):
        RateLimiter(per_minute=0, burst=1)


def test_the_app_binds_nothing_itself_and_reads_its_settings(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    app = create_app(settings)
    assert app.state.settings is settings
    assert app.openapi_url == f"{PREFIX}/openapi.json" and app.docs_url == f"{PREFIX}/docs"
