"""No PHI leaves the API except through the PHI store's audited lookup (issue 15, docs/api.md).

On a copy of the tiny PHI-bearing system of ``tests/phi_system.py`` (run end to end, work items
synced by the pipeline), every read route is called as every role that may call it, actions and
a write-off are taken, and every response and log record is scanned for the patients' names,
birth dates, postal codes, member ids and MRNs. The patient route answers billing specialists
(``BILLOPS_PHI_ROLES``), refuses the others with 403, and every attempt is in the audit trail.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from pathlib import Path

import duckdb
import pytest

from billops import auth
from billops.config import Settings, get_settings
from billops.ops_store import phi_access_trail
from tests.api_support import PREFIX, Api, assert_one_line_error, make_api
from tests.phi_system import PhiSystem, phi_system  # noqa: F401  (the session fixture)


@pytest.fixture()
def api(phi_system: PhiSystem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Api:  # noqa: F811
    """The system's operational store, PHI store and key, copied so other tests' trails stay
    theirs; the API and the PHI store read the copy."""
    home = tmp_path / "home"
    home.mkdir()
    for part in ("secrets", "phi"):
        shutil.copytree(phi_system.home / part, home / part)
    with sqlite3.connect(phi_system.home / "ops.sqlite") as source, \
            sqlite3.connect(home / "ops.sqlite") as copy:
        source.backup(copy)  # with what its write-ahead log still holds
    monkeypatch.setenv("BILLOPS_HOME", str(home))
    settings = get_settings(fresh=True)
    yield make_api(settings, {f"u-{role}": role for role in auth.ROLES})
    get_settings(fresh=True)


def _patient_keys(phi_system: PhiSystem) -> list[str]:  # noqa: F811
    with duckdb.connect(str(phi_system.settings.serving), read_only=True) as con:
        return [k for (k,) in con.execute(
            "select distinct patient_key from marts.billing_exceptions "
            "where patient_key is not null order by 1").fetchall()]


def _texts(api: Api, user: str) -> list[str]:
    """Every read route's answer for ``user`` (all pages of the work items, each item, the
    queues, the adjustments, the audit trail where the role may read it)."""
    headers = api.as_user(user)
    texts, offset = [], 0
    while offset is not None:
        page = api.client.get(f"{PREFIX}/exceptions?limit=200&offset={offset}", headers=headers)
        assert page.status_code == 200, page.text
        texts.append(page.text)
        items, offset = page.json()["items"], page.json()["next_offset"]
        for item in items[:25]:
            texts.append(api.client.get(f"{PREFIX}/exceptions/{item['exception_id']}",
                                        headers=headers).text)
    for path in ("/queues", "/adjustments", "/audit?limit=5000"):
        texts.append(api.client.get(PREFIX + path, headers=headers).text)
    return texts


def test_no_phi_in_any_response_or_log_line(
    api: Api, phi_system: PhiSystem, caplog: pytest.LogCaptureFixture  # noqa: F811
) -> None:
    specialist = api.as_user("u-billing_specialist")
    items = api.client.get(f"{PREFIX}/exceptions?limit=500", headers=specialist).json()["items"]
    assert len(items) > 10, "the pipeline synced no work items"
    with caplog.at_level(logging.DEBUG):
        first = items[0]
        acted = api.client.post(f"{PREFIX}/exceptions/{first['exception_id']}/actions",
                                headers=specialist,
                                json={"action": "claim", "version": first["version"]})
        made = api.client.post(f"{PREFIX}/adjustments", headers=specialist, json={
            "account_id": first["account_id"] or "ACCT", "kind": "write_off", "amount": "12.00",
            "reason": "small balance"})
        texts = [acted.text, made.text]
        for role in auth.ROLES:
            texts += _texts(api, f"u-{role}")
    assert acted.status_code == 200 and made.status_code == 201
    pattern = phi_system.pattern()
    leaks = sorted({m.group(0) for text in texts for m in pattern.finditer(text)})
    assert not leaks, f"PHI in API responses: {leaks[:5]}"
    logged = [r.getMessage() for r in caplog.records]
    assert logged and not [m for m in logged if pattern.search(m)]


def test_the_patient_route_answers_phi_roles_only_and_audits_every_attempt(
    api: Api, phi_system: PhiSystem, caplog: pytest.LogCaptureFixture  # noqa: F811
) -> None:
    with caplog.at_level(logging.DEBUG):
        _patient_route(api, phi_system)
    # The access log shows the patient route's template, never a value: a mistyped MRN is PHI.
    # (The test's HTTP client logs its own requests; the server's records are billops'.)
    logged = [r.getMessage() for r in caplog.records if not r.name.startswith("httpx")]
    assert any("/patients/{patient_key}" in m for m in logged)
    assert not [m for m in logged if phi_system.pattern().search(m)]


def _patient_route(api: Api, phi_system: PhiSystem) -> None:  # noqa: F811
    key = _patient_keys(phi_system)[0]
    granted = api.client.get(f"{PREFIX}/patients/{key}", headers=api.as_user("u-billing_specialist"))
    assert granted.status_code == 200, granted.text
    patient = granted.json()
    assert patient["patient_key"] == key
    assert patient["patient_id"] in phi_system.phi["patient_id"]
    assert patient["family_name"] in phi_system.phi["family_name"]
    pattern = phi_system.pattern()
    for role in ("analyst", "approver", "admin"):
        refused = api.client.get(f"{PREFIX}/patients/{key}", headers=api.as_user(f"u-{role}"))
        assert_one_line_error(refused, 403)
        assert not pattern.search(refused.text)
    unknown = api.client.get(f"{PREFIX}/patients/{'0' * 32}", headers=api.as_user("u-billing_specialist"))
    assert_one_line_error(unknown, 404)
    mrn = sorted(phi_system.phi["patient_id"])[0]  # a patient id pasted by mistake is never echoed
    wrong = api.client.get(f"{PREFIX}/patients/{mrn}", headers=api.as_user("u-billing_specialist"))
    assert mrn not in assert_one_line_error(wrong, 422)["error"]
    mistyped = api.client.get(f"{PREFIX}/patient/{mrn}", headers=api.as_user("u-billing_specialist"))
    assert mrn not in assert_one_line_error(mistyped, 404)["error"]
    trail = [e for e in phi_access_trail(api.settings) if e["channel"] == "api"]
    assert [(e["actor"], e["outcome"]) for e in trail] == [
        ("u-billing_specialist", "GRANTED"), ("u-analyst", "REFUSED"), ("u-approver", "REFUSED"),
        ("u-admin", "REFUSED"), ("u-billing_specialist", "NOT_FOUND"),
        ("u-billing_specialist", "REFUSED")]
    assert all(not pattern.search(str(e)) for e in trail)


def test_the_phi_store_reads_the_copy(api: Api, phi_system: PhiSystem) -> None:  # noqa: F811
    assert isinstance(api.settings, Settings) and api.settings.home != phi_system.home
