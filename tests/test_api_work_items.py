"""Work items through the API (issue 15, docs/api.md): paging and filters, one item, the queues,
actions with their roles and versions (two clients racing: one wins, the other gets 409 and
nothing is lost), and the audit trail oldest first."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from billops.config import Settings
from tests.api_support import AS_OF, PREFIX, Api, assert_one_line_error, make_api, seed_items

CONTRACT_FIELDS = {"exception_id", "exception_type", "account_id", "queue", "status",
                   "priority_score", "due_at", "version"}


@pytest.fixture()
def api(billops_home: Settings) -> Api:
    api = make_api(billops_home, {"ann": "analyst", "dana": "billing_specialist",
                                  "sam": "billing_specialist", "erin": "approver",
                                  "root": "admin"})
    api.ids = seed_items(billops_home, 30)  # type: ignore[attr-defined]
    return api


def _get(api: Api, path: str, user: str = "ann") -> dict:
    response = api.client.get(PREFIX + path, headers=api.as_user(user))
    assert response.status_code == 200, response.text
    return response.json()


def _act(api: Api, user: str, exception_id: str, **body: object):
    return api.client.post(f"{PREFIX}/exceptions/{exception_id}/actions",
                           headers=api.as_user(user), json=body)


def test_pages_cover_every_item_once_in_priority_order(api: Api) -> None:
    seen: list[dict] = []
    offset: int | None = 0
    while offset is not None:
        page = _get(api, f"/exceptions?limit=7&offset={offset}")
        assert page["limit"] == 7 and page["offset"] == offset and len(page["items"]) <= 7
        seen += page["items"]
        offset = page["next_offset"]
    assert [i["exception_id"] for i in seen] == sorted(api.ids)  # priority falls with the number
    assert all(set(item) >= CONTRACT_FIELDS for item in seen)
    assert _get(api, "/exceptions?limit=30")["next_offset"] is None
    assert _get(api, "/exceptions?offset=1000")["items"] == []


def test_filters_by_status_queue_and_type(api: Api) -> None:
    everything = _get(api, "/exceptions?limit=500")["items"]
    queues = {i["queue"] for i in everything}
    assert len(queues) > 1
    for queue in queues:
        found = _get(api, f"/exceptions?queue={queue}&limit=500")["items"]
        assert found and {i["queue"] for i in found} == {queue}
        assert len(found) == sum(i["queue"] == queue for i in everything)
    denials = _get(api, "/exceptions?type=DENIAL&limit=500")["items"]
    assert len(denials) == 6 and {i["exception_type"] for i in denials} == {"DENIAL"}
    assert len(_get(api, "/exceptions?status=OPEN&limit=500")["items"]) == 30
    assert _get(api, "/exceptions?status=RESOLVED")["items"] == []
    # The contract's empty filters (?status=&queue=&type=) are no filters; a made-up status is 422.
    assert len(_get(api, "/exceptions?status=&queue=&type=&limit=500")["items"]) == 30
    lost = api.client.get(f"{PREFIX}/exceptions?status=LOST", headers=api.as_user("ann"))
    assert assert_one_line_error(lost, 422, "LOST")["error"].startswith("query.status")
    claimed = api.ids[4]
    assert _act(api, "dana", claimed, action="claim", version=1).status_code == 200
    assigned = _get(api, "/exceptions?status=ASSIGNED&assignee=dana")["items"]
    assert [i["exception_id"] for i in assigned] == [claimed]
    both = _get(api, "/exceptions?type=DENIAL&status=OPEN&limit=500")["items"]
    assert len(both) == 6 - (claimed in {i["exception_id"] for i in denials})


def test_one_item_and_404(api: Api) -> None:
    item = _get(api, f"/exceptions/{api.ids[0]}")
    assert item["exception_id"] == api.ids[0] and item["version"] == 1 and item["status"] == "OPEN"
    assert item["due_at"] > AS_OF.isoformat() and item["breached"] is False
    assert_one_line_error(api.client.get(f"{PREFIX}/exceptions/none", headers=api.as_user("ann")), 404)


def test_queues_count_open_breached_and_the_oldest_due(api: Api, billops_home: Settings) -> None:
    queues = _get(api, "/queues")["queues"]
    assert sum(q["open"] for q in queues) == 30 and all(q["breached"] == 0 for q in queues)
    items = _get(api, "/exceptions?limit=500")["items"]
    for queue in queues:
        dues = [i["due_at"] for i in items if i["queue"] == queue["queue"]]
        assert queue["open"] == len(dues) and queue["oldest_due_at"] == min(dues)
    # A later sync of the same data moves the as-of time past every due time: all breached.
    seed_items(billops_home, 30, as_of=AS_OF + timedelta(days=60))
    later = _get(api, "/queues")["queues"]
    assert all(q["breached"] == q["open"] for q in later)
    resolved = api.ids[0]
    for body in ({"action": "resolve", "version": 1, "resolution_code": "REBILLED"},):
        assert _act(api, "dana", resolved, **body).status_code == 200
    assert sum(q["open"] for q in _get(api, "/queues")["queues"]) == 29


def test_actions_move_the_item_and_need_their_role(api: Api) -> None:
    target = api.ids[1]
    response = _act(api, "dana", target, action="claim", version=1, reason="mine")
    assert response.status_code == 200, response.text
    item = response.json()
    assert (item["status"], item["assignee"], item["version"]) == ("ASSIGNED", "dana", 2)
    assert _act(api, "ann", target, action="comment", version=2, reason="called the payer").json()[
        "version"] == 3
    body = assert_one_line_error(_act(api, "ann", target, action="resolve", version=3,
                                      resolution_code="REBILLED"), 403)
    assert "analyst" in body["error"]
    until = (AS_OF + timedelta(days=3)).date().isoformat()
    assert _act(api, "dana", target, action="snooze", version=3, until=until).json()["status"] == "SNOOZED"
    assert _act(api, "dana", target, action="assign", version=4, assignee="sam").json()["assignee"] == "sam"
    done = _act(api, "sam", target, action="resolve", version=5, resolution_code="REBILLED").json()
    assert (done["status"], done["resolution_code"], done["version"]) == ("RESOLVED", "REBILLED", 6)
    # Resolving a resolved item is an illegal transition (409), a missing code a 409 too.
    assert_one_line_error(_act(api, "sam", target, action="resolve", version=6,
                               resolution_code="REBILLED"), 409)
    assert _act(api, "erin", target, action="reopen", version=6).json()["status"] == "OPEN"
    assert_one_line_error(_act(api, "dana", target, action="dismiss", version=7), 409)
    assert _act(api, "dana", target, action="dismiss", version=7,
                reason="not an error: paid at the desk").json()["status"] == "DISMISSED"
    assert_one_line_error(_act(api, "dana", "none", action="claim", version=1), 404)


def test_a_stale_version_is_409_and_says_the_current_one(api: Api) -> None:
    target = api.ids[2]
    assert _act(api, "dana", target, action="comment", version=1, reason="first").status_code == 200
    body = assert_one_line_error(_act(api, "sam", target, action="comment", version=1,
                                      reason="second"), 409)
    assert "stale" in body["error"] and "2" in body["error"]


def _race(api: Api, clients: dict, target: str, version: int, reason: str) -> dict[str, int]:
    """Each client comments ``target`` at ``version`` at the same moment; their statuses."""
    barrier = threading.Barrier(len(clients))
    results: dict[str, int] = {}

    def one(name: str) -> None:
        barrier.wait()
        results[name] = clients[name].post(
            f"{PREFIX}/exceptions/{target}/actions", headers=api.as_user(name),
            json={"action": "comment", "version": version, "reason": f"{name} {reason}"},
        ).status_code

    threads = [threading.Thread(target=one, args=(name,)) for name in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_clients_racing_one_wins_the_other_is_told_nothing_is_lost(api: Api) -> None:
    """Many rounds of two clients claiming or commenting the same item at the same version."""
    from fastapi.testclient import TestClient

    clients = {name: TestClient(api.client.app) for name in ("dana", "sam")}
    target = api.ids[3]
    wins: dict[str, int] = {"dana": 0, "sam": 0}
    for round_ in range(10):
        version = _get(api, f"/exceptions/{target}")["version"]
        results = _race(api, clients, target, version, f"round {round_}")
        assert sorted(results.values()) == [200, 409], results
        wins[next(n for n, s in results.items() if s == 200)] += 1
    assert _get(api, f"/exceptions/{target}")["version"] == 11
    trail = _get(api, f"/audit?record_id={target}", user="erin")["entries"]
    comments = [e for e in trail if e["operation"] == "COMMENT"]
    assert len(comments) == 10 and sum(wins.values()) == 10
    assert [e["after"]["version"] for e in comments] == list(range(2, 12))


def test_the_audit_route_returns_oldest_first_without_tokens(api: Api) -> None:
    target = api.ids[5]
    for version, body in enumerate(({"action": "claim"}, {"action": "comment", "reason": "rang"},
                                    {"action": "resolve", "resolution_code": "REBILLED"}), 1):
        assert _act(api, "dana", target, version=version, **body).status_code == 200
    response = api.client.get(f"{PREFIX}/audit?record_id={target}", headers=api.as_user("erin"))
    entries = response.json()["entries"]
    assert [e["operation"] for e in entries] == ["OPEN", "CLAIM", "COMMENT", "RESOLVE"]
    assert [e["audit_id"] for e in entries] == sorted(e["audit_id"] for e in entries)
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    assert entries[1]["channel"] == "api" and entries[1]["actor"] == "dana"
    assert entries[3]["before"]["status"] == "ASSIGNED" and entries[3]["after"]["status"] == "RESOLVED"
    assert all(token not in response.text for token in api.tokens.values())
    limited = _get(api, f"/audit?record_id={target}&limit=2", user="root")["entries"]
    assert [e["operation"] for e in limited] == ["OPEN", "CLAIM"]
    users = _get(api, "/audit?table_name=users", user="root")["entries"]
    assert {e["record_id"] for e in users} >= {"ann", "dana", "erin"}
    for role_user in ("ann", "dana"):
        assert_one_line_error(api.client.get(f"{PREFIX}/audit", headers=api.as_user(role_user)), 403)
