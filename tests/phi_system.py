"""A tiny generated system run end to end with PHI-bearing defects, for the PHI tests.

One session fixture (``phi_system``) generates the tiny system, injects a birth date in the
future (a rule on a PHI column fails), an unknown gender (a rule on another column of a patient
row fails, its sample keyed beside the patient), and a distinctive member id, then runs the
nightly pipeline in process, capturing every log record, and closes the last period. The PHI
values to look for are read back from the landing zone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from billops.config import Settings, get_settings

FUTURE_BIRTH_DATE = "2999-04-05"
ODD_MEMBER_ID = "QZX4711PHI"


@dataclass
class PhiSystem:
    settings: Settings
    close_folder: Path
    logs: list[str] = field(default_factory=list)
    # kind (family_name, given_name, birth_date, postal_code, member_id, patient_id) -> values
    phi: dict[str, set[str]] = field(default_factory=dict)

    @property
    def home(self) -> Path:
        return self.settings.home

    def pattern(self) -> re.Pattern[str]:
        """Every PHI value as a whole word (a postal code inside a longer number is not it)."""
        values = sorted({v for vs in self.phi.values() for v in vs}, key=len, reverse=True)
        alternatives = "|".join(re.escape(v) for v in values)
        return re.compile(rf"(?<![0-9A-Za-z])(?:{alternatives})(?![0-9A-Za-z])")


class _Capture(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.sink.append(record.getMessage())
        except Exception:  # a record whose arguments do not format still says something
            self.sink.append(str(record.msg))


def _rewrite(batch: Path, name: str, edit: Callable[[int, dict], dict]) -> None:
    """Edit the NDJSON file ``name`` of ``batch`` line by line and fix its manifest entry."""
    path = batch / name
    lines = [edit(n, json.loads(line)) for n, line in enumerate(path.read_text().splitlines())]
    body = "".join(json.dumps(r) + "\n" for r in lines).encode()
    path.write_bytes(body)
    manifest_path = batch / "_manifest.json"
    manifest = json.loads(manifest_path.read_text())
    for entry in manifest["files"]:
        if entry["path"] == name:
            entry["sha256"] = hashlib.sha256(body).hexdigest()
    manifest_path.write_text(json.dumps(manifest, indent=2))


def _inject(landing: Path) -> None:
    batch = sorted((landing / "ehr").iterdir())[0]

    def patient(n: int, resource: dict) -> dict:
        if n == 0:
            resource["birthDate"] = FUTURE_BIRTH_DATE
        if n == 1:
            resource["gender"] = "x-unknown"
        return resource

    def coverage(n: int, resource: dict) -> dict:
        if n == 0:
            resource["subscriberId"] = ODD_MEMBER_ID
        return resource

    _rewrite(batch, "Patient.ndjson", patient)
    _rewrite(batch, "Coverage.ndjson", coverage)


def _phi_values(landing: Path, as_of_year: int) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {k: set() for k in (
        "family_name", "given_name", "birth_date", "postal_code", "member_id", "patient_id")}
    for path in (landing / "ehr").glob("*/*.ndjson"):
        for line in path.read_text().splitlines():
            r = json.loads(line)
            if r["resourceType"] == "Patient":
                for name in r.get("name", []):
                    found["family_name"].add(name["family"])
                    found["given_name"].update(name.get("given", []))
                birth = r.get("birthDate")
                # A birth date in the data's own year could equal a service date; older ones
                # cannot, and the injected future one is always looked for.
                if birth and (birth == FUTURE_BIRTH_DATE or date.fromisoformat(birth).year < as_of_year - 1):
                    found["birth_date"].add(birth)
                for address in r.get("address", []):
                    if address.get("postalCode"):
                        found["postal_code"].add(address["postalCode"])
                for ident in r.get("identifier", []):
                    codes = [c["code"] for c in ident.get("type", {}).get("coding", [])]
                    if "MR" in codes:
                        found["patient_id"].add(ident["value"])
            elif r["resourceType"] == "Coverage" and r.get("subscriberId"):
                found["member_id"].add(r["subscriberId"])
    return found


@pytest.fixture(scope="session")
def phi_system(tmp_path_factory: pytest.TempPathFactory) -> PhiSystem:
    from billops import pipeline
    from billops.close import close_period, last_complete_period
    from billops.synth import generate

    home = tmp_path_factory.mktemp("phi-system")
    previous = os.environ.get("BILLOPS_HOME")
    os.environ["BILLOPS_HOME"] = str(home)
    logs: list[str] = []
    handler = _Capture(logs)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        settings = get_settings(fresh=True)
        generate(home, scale="tiny", seed=5)
        landing = Path(settings.landing)  # type: ignore[arg-type]
        _inject(landing)
        pipeline.run_all(settings)
        package = close_period(last_complete_period(settings), settings=settings)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        if previous is None:
            os.environ.pop("BILLOPS_HOME", None)
        else:
            os.environ["BILLOPS_HOME"] = previous
        get_settings(fresh=True)
    system = PhiSystem(settings, package.folder, logs)
    first_batch = sorted((landing / "ehr").iterdir())[0].name
    system.phi = _phi_values(landing, int(first_batch[:4]))
    return system
