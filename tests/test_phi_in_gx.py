"""No PHI in Great Expectations' stored results, the Data Docs, the quality samples, the close
package or the logs of a run (issue 13), while a rule on a PHI column still fails."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from billops.phi import MASK
from tests.phi_system import FUTURE_BIRTH_DATE, ODD_MEMBER_ID, PhiSystem, phi_system  # noqa: F401


def _leaks_in_files(folder: Path, system: PhiSystem) -> list[str]:
    pattern = system.pattern()
    leaks = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        hits = set(pattern.findall(path.read_text(errors="replace")))
        if hits:
            leaks.append(f"{path.relative_to(system.home)}: {len(hits)} PHI value(s)")
    return leaks


def _rows(system: PhiSystem, sql: str) -> list[tuple]:
    with duckdb.connect(str(system.settings.warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_the_injected_values_are_looked_for(phi_system: PhiSystem) -> None:  # noqa: F811
    assert FUTURE_BIRTH_DATE in phi_system.phi["birth_date"]
    assert ODD_MEMBER_ID in phi_system.phi["member_id"]
    assert all(len(v) > 20 for k, v in phi_system.phi.items() if k != "birth_date")
    # The scan finds PHI where it belongs (a positive control: the scans below can fail).
    assert _leaks_in_files(phi_system.home / "landing" / "ehr", phi_system)


def test_masking_keeps_keys_and_masks_phi_beside_them() -> None:
    from expectations.masking import mask_details

    details = {
        "partial_unexpected_list": ["1961-04-09"],
        "partial_unexpected_counts": [{"value": "1961-04-09", "count": 1}],
        "partial_unexpected_index_list": [{"_record": 3, "id": "P1", "birth_date": "1961-04-09"}],
        "observed_value": "1961-04-09",
    }
    mask_details(details, phi_rule=True, hidden=frozenset({"birth_date", "id"}))
    assert details == {
        "partial_unexpected_list": [MASK],
        "partial_unexpected_counts": [{"value": MASK, "count": 1}],
        "partial_unexpected_index_list": [{"_record": 3, "id": MASK, "birth_date": MASK}],
        "observed_value": MASK,
    }
    other = {"partial_unexpected_list": ["x"], "partial_unexpected_index_list": [{"gender": "x"}]}
    mask_details(other, phi_rule=False, hidden=frozenset({"birth_date"}))
    assert other == {"partial_unexpected_list": ["x"], "partial_unexpected_index_list": [{"gender": "x"}]}


def test_rule_on_a_phi_column_still_fails_with_the_value_masked(phi_system: PhiSystem) -> None:  # noqa: F811
    [(success, count, sample)] = _rows(
        phi_system,
        "select success, unexpected_count, unexpected_sample from dq.expectation_results "
        "where suite = 'raw_fhir_patient' and rule = 'birth_date_not_after_as_of'")
    assert not success and count == 1
    [row] = json.loads(sample)
    assert row["birth_date"] == MASK and row["id"] == MASK and row["_record"] is not None
    # A rule on another column of a patient row: the patient's id beside it is masked too.
    [(gender,)] = _rows(phi_system, "select unexpected_sample from dq.expectation_results "
                        "where suite = 'raw_fhir_patient' and rule like 'gender%' and not success")
    assert json.loads(gender)[0]["id"] == MASK and json.loads(gender)[0]["gender"] == "x-unknown"


@pytest.mark.parametrize("folder", ["data_docs", "gx"])
def test_gx_store_and_data_docs_hold_no_phi(phi_system: PhiSystem, folder: str) -> None:  # noqa: F811
    root = phi_system.home / folder
    pages = [p for p in root.rglob("*") if p.is_file()]
    assert len(pages) > 5, f"{root}: nothing written"
    # The failing birth-date rule is stored and rendered, with the mask where the value was.
    patient = [p.read_text(errors="replace") for p in pages if "fhir_patient" in p.name]
    assert patient and all("birth_date" in t and MASK in t for t in patient)
    assert not _leaks_in_files(root, phi_system)


def test_quality_samples_hold_no_phi(phi_system: PhiSystem) -> None:  # noqa: F811
    pattern = phi_system.pattern()
    texts = _rows(phi_system, "select unexpected_sample, error from dq.expectation_results "
                  "union all select unexpected_sample, error from marts.dq_breaks "
                  "union all select unit_key, reason from dq.quarantine_units "
                  "union all select reason, null from dq.batch_quality")
    leaks = {m for row in texts for text in row if text for m in pattern.findall(text)}
    assert not leaks, f"{len(leaks)} PHI value(s) in quality samples"


def test_close_package_holds_no_phi(phi_system: PhiSystem) -> None:  # noqa: F811
    assert (phi_system.close_folder / "_close_manifest.json").is_file()
    assert not _leaks_in_files(phi_system.close_folder, phi_system)


def test_logs_of_the_run_hold_no_phi(phi_system: PhiSystem) -> None:  # noqa: F811
    assert phi_system.logs, "the run logged nothing to check"
    pattern = phi_system.pattern()
    leaks = {m for line in phi_system.logs for m in pattern.findall(line)}
    log_files = [p for p in phi_system.home.rglob("*.log") if p.is_file()]
    for path in log_files:
        leaks |= set(pattern.findall(path.read_text(errors="replace")))
    assert not leaks, f"{len(leaks)} PHI value(s) in the run's logs"
