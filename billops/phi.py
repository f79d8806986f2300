"""The PHI vocabulary, defined once: which columns hold PHI, the mask, and the patient token.

Every part of billops that must keep PHI out of a message, a quality sample, Great Expectations'
results, the close package or the serving snapshot imports :data:`PHI_COLUMNS` from here
(``tests/test_phi_vocabulary.py`` fails on a hand-kept copy elsewhere).

A token is a keyed HMAC-SHA256 of the value with a per-installation secret kept in
``$BILLOPS_HOME/secrets/phi.key`` (created owner-only on first use, never in the repository), so
tokens join across tables and runs of one installation, yet cannot be reversed or recomputed
without the key. Only the PHI store (``billops.phi_store``) maps a token back to the patient.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Any

from billops.config import Settings, get_settings
from billops.errors import BillopsError

# Columns whose values are PHI (HIPAA identifiers), by name, in every layer (raw, staging, marts):
PATIENT_NAMES = frozenset(
    {
        "family_name",
        "given_name",
        "patient_last_name",
        "patient_first_name",
        "subscriber_last_name",
        "subscriber_first_name",
    }
)
BIRTH_DATES = frozenset({"birth_date", "subscriber_birth_date"})
ADDRESSES = frozenset({"postal_code", "address", "address_line", "city"})
MEMBER_IDS = frozenset(
    {
        "member_id",
        "subscriber_id",
        "member_id_on_file",
        "member_id_normalized",
        "normalized_member_id",
    }
)
# Patient ids are medical record numbers (or FHIR ids standing in for them).
PATIENT_IDS = frozenset({"patient_id", "mrn", "fhir_patient_id", "patient_id_sent"})
# The original text of a record (a whole FHIR resource, a rejected line) holds all of the above.
RECORD_TEXT = frozenset({"resource_json", "original_text"})

PHI_COLUMNS: frozenset[str] = (
    PATIENT_NAMES | BIRTH_DATES | ADDRESSES | MEMBER_IDS | PATIENT_IDS | RECORD_TEXT
)
MASK = "***"

KEY_BYTES = 32
TOKEN_HEX = 32  # 128 bits of the HMAC: no collision among any health system's patients


def is_phi(column: str) -> bool:
    return column.lower() in PHI_COLUMNS


def masked(value: object, column: str) -> object:
    """The value as it may be shown outside the warehouse: the mask for a PHI column."""
    return MASK if is_phi(column) and value is not None else value


def key_path(settings: Settings | None = None) -> Path:
    settings = settings or get_settings()
    return settings.home / "secrets" / "phi.key"


def _key(settings: Settings | None = None) -> bytes:
    """The installation's secret, created owner-only (file 0600, folder 0700) on first use."""
    path = key_path(settings)
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    partial = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(secrets.token_bytes(KEY_BYTES).hex().encode())
    try:
        os.link(partial, path)  # never replaces a key another process created meanwhile
    except FileExistsError:
        pass
    finally:
        partial.unlink(missing_ok=True)
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    text = path.read_text().strip()
    try:
        key = bytes.fromhex(text)
    except ValueError as exc:
        raise BillopsError(f"{path}: not a PHI key (expected {KEY_BYTES * 2} hex digits)") from exc
    if len(key) != KEY_BYTES:
        raise BillopsError(f"{path}: not a PHI key (expected {KEY_BYTES * 2} hex digits)")
    return key


class Tokeniser:
    """Tokenises many values with one read of the key (the snapshot tokenises every row)."""

    def __init__(self, settings: Settings | None = None) -> None:
        self._key = _key(settings)
        self._known: dict[str, str] = {}  # a patient id recurs on every fact row of the patient

    def __call__(self, value: str | None) -> str | None:
        if value is None:
            return None
        text = str(value)
        token = self._known.get(text)
        if token is None:
            token = hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()[:TOKEN_HEX]
            self._known[text] = token
        return token

    def register(self, con: Any, name: str = "phi_token") -> None:
        """Make ``name(varchar) -> varchar`` a DuckDB function on ``con``, a vector at a time
        (several times faster than a per-row Python function on the snapshot's fact tables)."""
        import pyarrow as pa

        def tokens(values: Any) -> Any:
            return pa.array([self(v) for v in values.to_pylist()], type=pa.string())

        con.create_function(name, tokens, ["VARCHAR"], "VARCHAR", type="arrow")


def tokenise(value: str | None, settings: Settings | None = None) -> str | None:
    """The installation's token of a PHI value (a patient id becomes a ``patient_key``)."""
    return Tokeniser(settings)(value)
