"""The HTTP API under load: 10,000 calls from 8 threads against a real ``billops api``.

Builds a generated system (``BENCH_API_SCALE``, default medium; ``BENCH_API_HOME`` reuses a
home already built), syncs its exceptions into work items (``billops generate``, ``ingest``,
``transform``, then the pipeline's ``sync_work_items`` step), creates one billing specialist per
thread and an approver, and starts ``billops api`` as its own process on a free localhost port
(rate limit raised out of the way; the operational store is the default SQLite file).

Eight threads then share a bounded budget of ``BENCH_API_CALLS`` (10,000) HTTP calls, each
thread its own keep-alive connection and user. A call is a read (a page of the exceptions, with
or without a filter; one item; the queues) or an action on one of ``HOT`` work items (a comment,
or an assignment to a bench user) sent with the version the thread last read, so threads
collide; a 409 makes the thread read the item again and retry with the fresh version (each a
call of the budget). At the end, for every hot item: its version rose by exactly the number of
successful actions, and the audit trail holds exactly one entry per successful action (no lost
update, none doubled). Latency is measured by the client around each call (p50, p95, p99, ms),
reads and writes apart. Target: p95 of reads under 100 ms.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
BILLOPS = str(Path(sys.executable).parent / "billops")
SCALE = os.environ.get("BENCH_API_SCALE", "medium")
CALLS = int(os.environ.get("BENCH_API_CALLS", "10000"))
THREADS = int(os.environ.get("BENCH_API_THREADS", "8"))
HOT = 40  # work items the actions go to
WRITE_SHARE = 0.3
SEED = 15
READ_P95_TARGET_MS = 100.0


@dataclass
class Budget:
    left: int
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> bool:
        with self.lock:
            if self.left <= 0:
                return False
            self.left -= 1
            return True


@dataclass
class Tally:
    """What one thread saw: latencies (ms) by kind and outcome counts."""

    latency: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)
    applied: Counter[str] = field(default_factory=Counter)  # exception_id -> successful actions

    def record(self, kind: str, started: float, status: int) -> None:
        self.latency.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
        self.statuses[f"{kind} {status}"] += 1


def _build(home: Path, env: dict[str, str]) -> dict[str, Any]:
    started = time.perf_counter()
    for args in (["generate", "--scale", SCALE, "--seed", "1"], ["ingest"], ["transform"]):
        subprocess.run([BILLOPS, *args], env=env, check=True, stdout=subprocess.DEVNULL)
    return {"build_s": round(time.perf_counter() - started, 1)}


def _sync(env: dict[str, str]) -> dict[str, Any]:
    code = ("import json; from billops.pipeline import sync_work_items_step; "
            "print(json.dumps(sync_work_items_step(), default=str))")
    done = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                          capture_output=True, text=True)
    return {"sync": done.stdout.strip().splitlines()[-1]}


def _users(env: dict[str, str], suffix: str) -> tuple[dict[str, str], str]:
    """One billing specialist per thread (name -> token) and an approver's token; ``suffix``
    keeps names apart when a home is reused."""
    tokens = {}
    for name, role in [*((f"bench-{n}{suffix}", "billing_specialist") for n in range(THREADS)),
                       (f"bench-approver{suffix}", "approver")]:
        done = subprocess.run([BILLOPS, "users", "add", name, "--role", role, "--by", "bench"],
                              env=env, check=True, capture_output=True, text=True)
        tokens[name] = done.stdout.strip()
    approver = tokens.pop(f"bench-approver{suffix}")
    return tokens, approver


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    with log.open("w") as sink:
        proc = subprocess.Popen([BILLOPS, "api", "--port", str(port)], env=env, stdout=sink,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/api/v1"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"billops api did not start: {log.read_text()[-1000:]}")


@dataclass
class Shared:
    url: str
    budget: Budget
    hot: list[str]
    users: list[str]
    queues: list[str]
    types: list[str]
    total: int


def _read(client: httpx.Client, rng: random.Random, shared: Shared, tally: Tally) -> None:
    choice = rng.random()
    if choice < 0.55:
        params: dict[str, Any] = {"limit": 50, "offset": rng.randrange(0, max(1, shared.total), 50)}
        pick = rng.random()
        if pick < 0.25:
            params = {"limit": 50, "queue": rng.choice(shared.queues)}
        elif pick < 0.5:
            params = {"limit": 50, "type": rng.choice(shared.types), "status": "OPEN"}
        kind, started = "read list", time.perf_counter()
        response = client.get("/exceptions", params=params)
    elif choice < 0.9:
        kind, started = "read item", time.perf_counter()
        response = client.get(f"/exceptions/{rng.choice(shared.hot)}")
    else:
        kind, started = "read queues", time.perf_counter()
        response = client.get("/queues")
    tally.record(kind, started, response.status_code)
    response.raise_for_status()


def _worker(n: int, token: str, shared: Shared, tally: Tally) -> None:
    rng = random.Random(SEED * 100 + n)
    versions: dict[str, int] = {}
    pending: str | None = None  # a hot item this thread means to act on
    with httpx.Client(base_url=shared.url, timeout=60,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        while shared.budget.take():
            if pending is None and rng.random() >= WRITE_SHARE:
                _read(client, rng, shared, tally)
                continue
            pending = pending or rng.choice(shared.hot)
            if pending not in versions:
                started = time.perf_counter()
                response = client.get(f"/exceptions/{pending}")
                tally.record("read item (before an action)", started, response.status_code)
                versions[pending] = response.raise_for_status().json()["version"]
                continue
            body: dict[str, Any] = {"action": "comment", "version": versions[pending],
                                    "reason": f"bench thread {n}"}
            if rng.random() < 0.3:
                body = {"action": "assign", "version": versions[pending],
                        "assignee": rng.choice(shared.users)}
            started = time.perf_counter()
            response = client.post(f"/exceptions/{pending}/actions", json=body)
            tally.record("write", started, response.status_code)
            if response.status_code == 200:
                versions[pending] = response.json()["version"]
                tally.applied[pending] += 1
                pending = None
            elif response.status_code == 409:
                versions.pop(pending)  # read it again, then retry
            else:
                response.raise_for_status()


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {"calls": 0}

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {"calls": len(ordered), "p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99),
            "max_ms": round(ordered[-1], 1)}


def _setup(client: httpx.Client) -> tuple[list[str], list[str], list[str], int]:
    """Hot items (open, spread over the priority list), queue names, exception types, total."""
    items: list[dict[str, Any]] = []
    offset: int | None = 0
    while offset is not None:
        page = client.get("/exceptions", params={"limit": 500, "offset": offset}).json()
        items += page["items"]
        offset = page["next_offset"]
    open_items = [i for i in items if i["status"] == "OPEN"]
    step = max(1, len(open_items) // HOT)
    hot = [i["exception_id"] for i in open_items[::step][:HOT]]
    return (hot, sorted({i["queue"] for i in items}), sorted({i["exception_type"] for i in items}),
            len(items))


def _check(client: httpx.Client, hot: list[str], before: dict[str, int],
           applied: Counter[str]) -> dict[str, Any]:
    """No lost update: versions and audit entries match the successful actions exactly."""
    problems = []
    for eid in hot:
        version = client.get(f"/exceptions/{eid}").json()["version"]
        trail = client.get("/audit", params={"record_id": eid, "limit": 5000}).json()["entries"]
        audited = sum(1 for e in trail if e["operation"] in ("COMMENT", "ASSIGN")
                      and e["actor"].startswith("bench-"))
        if version - before[eid] != applied[eid] or audited != applied[eid]:
            problems.append(f"{eid}: version +{version - before[eid]}, audited {audited}, "
                            f"applied {applied[eid]}")
    return {"hot_items": len(hot), "applied": sum(applied.values()), "lost_or_doubled": problems}


def _drive(url: str, tokens: dict[str, str], approver: str) -> dict[str, Any]:
    with httpx.Client(base_url=url, timeout=60,
                      headers={"Authorization": f"Bearer {approver}"}) as admin:
        hot, queues, types, total = _setup(admin)
        before = {eid: admin.get(f"/exceptions/{eid}").json()["version"] for eid in hot}
        workers = list(tokens)
        shared = Shared(url, Budget(CALLS), hot, workers, queues, types, total)
        tallies = [Tally() for _ in workers]
        threads = [threading.Thread(target=_worker, args=(n, tokens[name], shared, tallies[n]))
                   for n, name in enumerate(workers)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        applied: Counter[str] = sum((t.applied for t in tallies), Counter())
        check = _check(admin, hot, before, applied)
    latency: dict[str, list[float]] = {}
    for tally in tallies:
        for kind, values in tally.latency.items():
            latency.setdefault(kind, []).extend(values)
    reads = [v for kind, values in latency.items() if kind.startswith("read") for v in values]
    statuses = sum((t.statuses for t in tallies), Counter())
    return {
        "work_items": total, "calls": sum(statuses.values()), "wall_s": round(wall, 2),
        "calls_per_s": round(sum(statuses.values()) / wall, 1),
        "reads": _percentiles(reads), "writes": _percentiles(latency.get("write", [])),
        "by_kind": {kind: _percentiles(values) for kind, values in sorted(latency.items())},
        "statuses": dict(sorted(statuses.items())), "no_lost_update": check,
    }


def run() -> dict[str, Any]:
    reuse = os.environ.get("BENCH_API_HOME")
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        home = Path(reuse) if reuse else Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("BILLOPS_")}
        env.update(BILLOPS_HOME=str(home), BILLOPS_API_RATE_LIMIT_PER_MINUTE="1000000000",
                   BILLOPS_API_RATE_LIMIT_BURST="1000000", BILLOPS_LOG_LEVEL="INFO")
        built = {} if reuse and (home / "warehouse").exists() else _build(home, env)
        synced = _sync(env)
        with tempfile.TemporaryDirectory(prefix="bench-api-log-") as logs:
            tokens, approver = _users(env, f"-{os.getpid()}" if reuse else "")
            proc, url = _serve(env, Path(logs) / "api.log")
            load_before = os.getloadavg()[0]
            try:
                figures = _drive(url, tokens, approver)
                figures["load_1m"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    figures.update(scale=SCALE, threads=THREADS, hot_items=HOT, write_share=WRITE_SHARE,
                   store="sqlite (default BILLOPS_OPS_URL)", **built, **synced,
                   home="reused (BENCH_API_HOME)" if reuse else "built by this run")
    result = {"figures": figures, "targets": _targets(figures)}
    (HERE / "results" / "bench_api.md").write_text(markdown(result))
    return result


def _targets(figures: dict[str, Any]) -> list[dict[str, Any]]:
    lost = figures["no_lost_update"]["lost_or_doubled"]
    return [
        {"name": f"API reads, p95 ms ({figures['scale']}, {THREADS} threads)",
         "value": figures["reads"]["p95_ms"], "target": f"< {READ_P95_TARGET_MS:g}",
         "met": figures["reads"]["p95_ms"] < READ_P95_TARGET_MS},
        {"name": "API actions: lost or doubled updates", "value": len(lost), "target": "0",
         "met": not lost and figures["no_lost_update"]["applied"] > 0},
        {"name": "API calls made", "value": figures["calls"], "target": f"= {CALLS}",
         "met": figures["calls"] == CALLS},
    ]


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


def markdown(result: dict[str, Any]) -> str:
    f = result["figures"]
    rows = "\n".join(
        f"| {kind} | {p['calls']} | {p.get('p50_ms')} | {p.get('p95_ms')} | {p.get('p99_ms')} | "
        f"{p.get('max_ms')} |"
        for kind, p in [("**all reads**", f["reads"]), ("**all writes (actions)**", f["writes"]),
                        *f["by_kind"].items()])
    targets = "\n".join(f"- {'PASS' if t['met'] else 'MISS'} {t['name']}: {t['value']} "
                        f"(target {t['target']})" for t in result["targets"])
    statuses = ", ".join(f"{k}: {v}" for k, v in f["statuses"].items())
    return f"""# HTTP API under load

Recorded by `python -m bench bench_api` (see the docstring of `bench/bench_api.py`): {f['calls']}
calls from {f['threads']} threads, each with its own user and keep-alive connection, against one
`billops api` process on 127.0.0.1, client and server on the same machine. Data: a generated
`{f['scale']}` system (seed 1), {f['work_items']} work items synced from its
`marts.billing_exceptions`; operational store: {f['store']}. {int(f['write_share'] * 100)}% of
the calls are actions (comments and assignments) on {f['hot_items']} hot items, sent with the
version last read; a 409 is followed by a read and a retry.

Home: {f['home']}. Wall {f['wall_s']} s, {f['calls_per_s']} calls/s; load average (1 min) on
the machine ({_cpus()} CPUs, shared with other work) {f['load_1m'][0]} before the calls and
{f['load_1m'][1]} after. Responses: {statuses}.

| calls | n | p50 ms | p95 ms | p99 ms | max ms |
|---|---|---|---|---|---|
{rows}

No lost update: {f['no_lost_update']['applied']} actions applied on {f['no_lost_update']['hot_items']}
items; for every item the version rose by exactly its applied actions and the audit trail holds
exactly one entry for each ({len(f['no_lost_update']['lost_or_doubled'])} mismatches).

{targets}
"""
