"""The Patient lookup page: only the roles of settings.phi_roles get it, and every lookup goes
through billops.phi_store.lookup_patient under the signed-in user, audited."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from billops.config import get_settings
from billops.ops_store import phi_access_trail
from billops.phi import TOKEN_HEX
from billops.phi_store import FIELDS, TABLE, store_path
from dashboards.navigation import LOOKUP_PATH, pages_for
from dashboards.session import SignedIn

KEY = "0123456789abcdef" * (TOKEN_HEX // 16)


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BILLOPS_HOME", str(tmp_path))
    settings = get_settings(fresh=True)
    path = store_path(settings)
    path.parent.mkdir(parents=True)
    with duckdb.connect(str(path)) as con:
        con.execute(f"create table {TABLE} (patient_key varchar, "
                    + ", ".join(f"{f} varchar" for f in FIELDS) + ")")
        con.execute(f"insert into {TABLE} values (?, 'MRN-7', 'Rivera', 'Ana', '1961-04-02', "
                    "'85001', 'M123')", [KEY])
    return tmp_path


def _page_as_billing_specialist() -> None:
    from dashboards.session import SignedIn
    from dashboards.views import patient_lookup

    patient_lookup.render(SignedIn("bea", "billing_specialist"))


def _page_as_analyst() -> None:
    from dashboards.session import SignedIn
    from dashboards.views import patient_lookup

    patient_lookup.render(SignedIn("ana", "analyst"))


def _look_up(page: object, key: str) -> AppTest:
    at = AppTest.from_function(page, default_timeout=30).run()  # type: ignore[arg-type]
    at.text_input(key="patient_lookup_key").set_value(key)
    return at.button[0].click().run()


def test_only_phi_roles_get_the_page() -> None:
    phi_roles = get_settings(fresh=True).phi_roles
    assert phi_roles == ["billing_specialist"]
    for role in ("analyst", "approver", "admin"):
        assert LOOKUP_PATH not in [p.url_path for p in pages_for(SignedIn("x", role), phi_roles)]
    paths = [p.url_path for p in pages_for(SignedIn("bea", "billing_specialist"), phi_roles)]
    assert paths == ["reconciliation", "statements", "queues", "quality", "process", LOOKUP_PATH]


def test_a_lookup_shows_the_patient_and_is_audited(home: Path) -> None:
    at = AppTest.from_function(_page_as_billing_specialist, default_timeout=30).run()
    assert not at.table  # nothing until asked
    at = _look_up(_page_as_billing_specialist, KEY)
    assert not at.exception and not at.error
    shown = at.table[0].value
    assert dict(zip(shown["Field"], shown["Value"], strict=True))["Family name"] == "Rivera"
    [audit] = phi_access_trail()
    assert (audit["record_id"], audit["actor"]) == (KEY, "bea")
    assert '"outcome": "GRANTED"' in audit["detail"] and '"channel": "dashboard"' in audit["detail"]


def test_a_role_without_phi_is_refused_and_audited(home: Path) -> None:
    at = _look_up(_page_as_analyst, KEY)
    assert not at.exception and not at.table
    [error] = at.error
    assert error.value.startswith("PHI lookup refused: role 'analyst' may not see PHI")
    [audit] = phi_access_trail()
    assert audit["actor"] == "ana" and '"outcome": "REFUSED"' in audit["detail"]


def test_a_value_that_is_not_a_key_is_never_echoed(home: Path) -> None:
    at = _look_up(_page_as_billing_specialist, "MRN-7")
    [error] = at.error
    assert "MRN-7" not in error.value and not at.table
