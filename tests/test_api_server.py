"""One real ``billops api`` server (uvicorn) on a free localhost port, driven over HTTP like
another system would: docs/api.md's example session, two clients racing on one item, request
ids in the server's log lines, and the bind address."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

from billops.config import Settings
from tests.api_support import seed_items

BILLOPS = str(Path(sys.executable).parent / "billops")


@dataclass
class Server:
    url: str
    log: Path
    tokens: dict[str, str]
    pid: int
    ids: list[str]

    def client(self, user: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30,
                            headers={"Authorization": f"Bearer {self.tokens[user]}"})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"billops api exited {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"billops api did not answer within 60 s: {log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("api-server")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLOPS_")}
    env["BILLOPS_HOME"] = str(home)
    ids = seed_items(Settings(home=home), 12)
    tokens = {}
    for name, role in (("dana", "billing_specialist"), ("sam", "billing_specialist"),
                       ("erin", "approver")):
        done = subprocess.run([BILLOPS, "users", "add", name, "--role", role, "--by", "tests"],
                              env=env, capture_output=True, text=True, check=True)
        tokens[name] = done.stdout.strip()
    port = _free_port()
    log = home / "api.log"
    with log.open("w") as sink:
        proc = subprocess.Popen([BILLOPS, "api", "--port", str(port)], env=env,
                                stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/api/v1"
    try:
        _wait_until_up(url, proc, log)
        yield Server(url, log, tokens, proc.pid, ids)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_the_example_session_of_the_docs(server: Server) -> None:
    with server.client("dana") as dana, server.client("erin") as erin:
        page = dana.get("/exceptions", params={"status": "OPEN", "limit": 5}).json()
        assert len(page["items"]) == 5 and page["next_offset"] == 5
        target = page["items"][0]["exception_id"]
        version = dana.get(f"/exceptions/{target}").json()["version"]
        claimed = dana.post(f"/exceptions/{target}/actions", headers={"X-Request-ID": "crm-42"},
                            json={"action": "claim", "version": version})
        assert claimed.status_code == 200 and claimed.headers["x-request-id"] == "crm-42"
        assert claimed.json()["status"] == "ASSIGNED"
        stale = dana.post(f"/exceptions/{target}/actions", json={"action": "claim", "version": version})
        assert stale.status_code == 409 and stale.json()["request_id"] == stale.headers["x-request-id"]
        account = claimed.json()["account_id"]
        made = dana.post("/adjustments", json={"account_id": account, "kind": "write_off",
                                               "amount": "250.00", "reason": "small balance after appeal"})
        assert made.status_code == 201 and made.json()["status"] == "PENDING_APPROVAL"
        adjustment = made.json()["adjustment_id"]
        assert dana.post(f"/adjustments/{adjustment}/approve", json={"reason": "mine"}).status_code == 403
        approved = erin.post(f"/adjustments/{adjustment}/approve", json={"reason": "checked the remittance"})
        assert approved.status_code == 200 and approved.json()["status"] == "APPROVED"
        work = erin.get("/audit", params={"record_id": target}).json()["entries"]
        assert [e["operation"] for e in work] == ["OPEN", "CLAIM"]
        money = erin.get("/audit", params={"record_id": adjustment}).json()["entries"]
        assert [(e["table_name"], e["operation"], e["outcome"], e["actor"]) for e in money] == [
            ("adjustment_requests", "REQUEST", "PENDING_APPROVAL", "dana"),
            ("api", "FORBIDDEN", "REFUSED", "dana"),
            ("adjustment_requests", "APPROVE", "APPROVED", "erin")]
    assert httpx.get(f"{server.url}/exceptions").status_code == 401


def test_two_real_clients_racing_lose_nothing(server: Server) -> None:
    target = server.ids[-1]
    clients = {name: server.client(name) for name in ("dana", "sam")}
    successes = {"dana": 0, "sam": 0}
    conflicts = 0
    try:
        for round_ in range(15):
            version = clients["dana"].get(f"/exceptions/{target}").json()["version"]
            barrier = threading.Barrier(2)
            statuses: dict[str, int] = {}

            def comment(name: str, version: int = version, round_: int = round_,
                        barrier: threading.Barrier = barrier, statuses: dict = statuses) -> None:
                barrier.wait()
                statuses[name] = clients[name].post(
                    f"/exceptions/{target}/actions",
                    json={"action": "comment", "version": version, "reason": f"round {round_}"},
                ).status_code

            threads = [threading.Thread(target=comment, args=(n,)) for n in clients]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert sorted(statuses.values()) in ([200, 409], [200, 200]) or statuses, statuses
            assert list(statuses.values()).count(200) == 1, statuses
            for name, status in statuses.items():
                successes[name] += status == 200
                conflicts += status == 409
        item = clients["dana"].get(f"/exceptions/{target}").json()
        erin = server.client("erin")
        trail = erin.get("/audit", params={"record_id": target}).json()["entries"]
        erin.close()
    finally:
        for client in clients.values():
            client.close()
    assert item["version"] == 1 + sum(successes.values()) == 16 and conflicts == 15
    assert sum(e["operation"] == "COMMENT" for e in trail) == 15


def test_every_log_line_of_a_request_carries_its_id_and_no_token(server: Server) -> None:
    with server.client("dana") as dana:
        dana.get("/exceptions/none", headers={"X-Request-ID": "srv-log-1"})
        dana.get("/audit", headers={"X-Request-ID": "srv-log-2"})
    httpx.get(f"{server.url}/queues", headers={"Authorization": "Bearer not-a-token",
                                                "X-Request-ID": "srv-log-3"})
    time.sleep(0.5)
    text = server.log.read_text()
    for rid, status in (("srv-log-1", "404"), ("srv-log-2", "403"), ("srv-log-3", "401")):
        lines = [line for line in text.splitlines() if f"[{rid}]" in line]
        assert any("billops.api.access" in line and f" {status} " in line for line in lines), text
    refused = [line for line in text.splitlines() if "[srv-log-3]" in line]
    assert any("bearer token refused" in line for line in refused), refused
    assert "not-a-token" not in text
    assert all(token not in text for token in server.tokens.values())


def test_it_listens_on_loopback_only(server: Server) -> None:
    listening = {c.laddr.ip for c in psutil.Process(server.pid).net_connections("inet")
                 if c.status == psutil.CONN_LISTEN}
    assert listening == {"127.0.0.1"}


def test_a_bad_port_or_a_taken_address_is_one_line(server: Server) -> None:
    env = {**os.environ, "BILLOPS_HOME": str(server.log.parent)}
    bad = subprocess.run([BILLOPS, "api", "--port", "70000"], env=env, capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0, bad.stderr
    port = int(server.url.split(":")[2].split("/")[0])
    taken = subprocess.run([BILLOPS, "api", "--port", str(port)], env=env, capture_output=True,
                           text=True, timeout=60)
    assert taken.returncode == 2 and "Traceback" not in taken.stderr, taken.stderr
    assert "address already in use" in taken.stderr.lower()
    assert taken.stderr.strip().splitlines()[-1] == (
        f"billops: cannot serve the API on 127.0.0.1:{port} (see the error above)")
