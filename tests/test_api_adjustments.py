"""Adjustments through the API (issue 15, docs/api.md): requested by billing specialists, not
analysts; approved only by an approver who is not the requester and whose tier covers the
amount (403 otherwise, and audited); withdrawn by the requester; the audit trail of each."""

from __future__ import annotations

import httpx
import pytest

from billops.config import Settings
from billops.ops_store import audit_entries
from tests.api_support import PREFIX, Api, assert_one_line_error, make_api


@pytest.fixture()
def api(billops_home: Settings) -> Api:
    api = make_api(billops_home, {"ann": "analyst", "dana": "billing_specialist",
                                  "sam": "billing_specialist", "erin": "approver",
                                  "root": "admin"})
    api.add("fran", "approver", tier="finance_director")
    return api


def _post(api: Api, user: str, path: str, body: dict) -> httpx.Response:
    return api.client.post(PREFIX + path, headers=api.as_user(user), json=body)


def _request(api: Api, user: str = "dana", amount: str = "250.00", kind: str = "write_off") -> dict:
    response = _post(api, user, "/adjustments", {"account_id": "ACCT00042", "kind": kind,
                                                 "amount": amount, "reason": "small balance"})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_specialist_requests_an_approver_approves(api: Api) -> None:
    made = _request(api)
    assert made["status"] == "PENDING_APPROVAL" and made["adjustment_id"]
    assert (made["account_id"], made["kind"], made["amount"], made["requested_by"]) == (
        "ACCT00042", "write_off", "250.00", "dana")
    pending = api.client.get(f"{PREFIX}/adjustments?status=PENDING_APPROVAL",
                             headers=api.as_user("ann")).json()
    assert [a["adjustment_id"] for a in pending["items"]] == [made["adjustment_id"]]
    assert pending["next_offset"] is None
    done = _post(api, "erin", f"/adjustments/{made['adjustment_id']}/approve",
                 {"reason": "checked the remittance"})
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["decided_by"]) == ("APPROVED", "erin")
    again = _post(api, "fran", f"/adjustments/{made['adjustment_id']}/approve", {"reason": "x"})
    assert_one_line_error(again, 409)
    one = api.client.get(f"{PREFIX}/adjustments/{made['adjustment_id']}", headers=api.as_user("ann"))
    assert one.json()["status"] == "APPROVED"
    assert_one_line_error(api.client.get(f"{PREFIX}/adjustments/none", headers=api.as_user("ann")), 404)


def test_analysts_cannot_request_money_nor_admins_approve(api: Api) -> None:
    refused = _post(api, "ann", "/adjustments", {"account_id": "A1", "kind": "refund",
                                                 "amount": "5.00", "reason": "credit balance"})
    assert "may not call request_adjustment" in assert_one_line_error(refused, 403)["error"]
    made = _request(api, "root")  # admins may request
    for user in ("ann", "root", "sam"):
        response = _post(api, user, f"/adjustments/{made['adjustment_id']}/approve", {"reason": "ok"})
        assert_one_line_error(response, 403, api.tokens[user])
    # The role table's refusals are audited, under the record aimed at (else the route).
    refusals = [(e["record_id"], e["actor"], e["outcome"]) for e in audit_entries(
        table_name="api", settings=api.settings)]
    assert refusals == [("request_adjustment", "ann", "REFUSED"),
                        *((made["adjustment_id"], user, "REFUSED") for user in ("ann", "root", "sam"))]


def test_the_requester_cannot_approve_unless_break_glass(api: Api) -> None:
    made = _request(api, "erin", amount="100.00")  # an approver requesting
    path = f"/adjustments/{made['adjustment_id']}/approve"
    assert "requester" in assert_one_line_error(_post(api, "erin", path, {"reason": "mine"}), 403)["error"]
    short = _post(api, "erin", path, {"reason": "urgent", "break_glass": True})
    assert_one_line_error(short, 403)
    glass = _post(api, "erin", path, {"reason": "patient refund due today, director away",
                                      "break_glass": True})
    assert glass.status_code == 200 and glass.json()["break_glass"] is True
    trail = api.client.get(f"{PREFIX}/audit?record_id={made['adjustment_id']}",
                           headers=api.as_user("root")).json()["entries"]
    assert [(e["operation"], e["outcome"]) for e in trail] == [
        ("REQUEST", "PENDING_APPROVAL"), ("APPROVE", "REFUSED"), ("APPROVE", "REFUSED"),
        ("APPROVE_BREAK_GLASS", "APPROVED")]


def test_an_approver_above_their_tier_is_refused(api: Api) -> None:
    made = _request(api, amount="5000.00")
    path = f"/adjustments/{made['adjustment_id']}/approve"
    body = assert_one_line_error(_post(api, "erin", path, {"reason": "ok"}), 403)
    assert "tier" in body["error"]
    assert _post(api, "fran", path, {"reason": "director sign-off"}).json()["status"] == "APPROVED"


def test_rejecting_and_withdrawing(api: Api) -> None:
    first, second = _request(api), _request(api, kind="refund")
    other = _post(api, "sam", f"/adjustments/{first['adjustment_id']}/reject", {"reason": "no"})
    assert_one_line_error(other, 403)
    withdrawn = _post(api, "dana", f"/adjustments/{first['adjustment_id']}/reject",
                      {"reason": "typed the wrong account"})
    assert withdrawn.json()["status"] == "REJECTED"
    rejected = _post(api, "erin", f"/adjustments/{second['adjustment_id']}/reject",
                     {"reason": "no credit balance on the account"})
    assert (rejected.json()["status"], rejected.json()["decided_by"]) == ("REJECTED", "erin")
    assert_one_line_error(_post(api, "erin", f"/adjustments/{second['adjustment_id']}/reject", {}), 422)
    listed = api.client.get(f"{PREFIX}/adjustments?status=REJECTED", headers=api.as_user("dana"))
    assert len(listed.json()["items"]) == 2


def test_bad_requests_are_422_in_one_line(api: Api) -> None:
    for body in ({"account_id": "A1", "kind": "write_off", "amount": "0", "reason": "x"},
                 {"account_id": "A1", "kind": "write_off", "amount": "1.005", "reason": "xyz"},
                 {"account_id": "A1", "kind": "gift", "amount": "1.00", "reason": "xyz"},
                 {"account_id": "A1", "kind": "refund", "amount": "1.00"},
                 {"account_id": "A1", "kind": "refund", "amount": "1.00", "reason": "xyz", "by": "me"}):
        assert_one_line_error(_post(api, "dana", "/adjustments", body), 422)
    assert_one_line_error(api.client.get(f"{PREFIX}/adjustments?status=LOST",
                                         headers=api.as_user("dana")), 422, "LOST")
    everything = api.client.get(f"{PREFIX}/adjustments?status=&account_id=", headers=api.as_user("dana"))
    assert everything.status_code == 200 and everything.json()["items"] == []
