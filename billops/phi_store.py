"""The PHI store: the one place outside the warehouse that maps a patient token to the patient.

``billops publish`` writes ``$BILLOPS_HOME/phi/phi.duckdb`` (its own file, folder 0700, file
0600, write-then-rename; never copied into the serving snapshot) with one row per patient:
``patient_key`` (the token the snapshot carries, ``billops.phi.tokenise`` of the patient id), the
patient id (MRN), names, birth date, postal code and member ids. A role that needs them calls
:func:`lookup_patient`; every call, granted or refused, is audited in the operational store.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import duckdb

from billops import ops_store
from billops.config import Settings, get_settings
from billops.errors import BillopsError
from billops.phi import TOKEN_HEX, Tokeniser

TABLE = "patients"
FIELDS = (
    "patient_id",
    "family_name",
    "given_name",
    "birth_date",
    "postal_code",
    "member_ids",
)
CHANNELS = ("dashboard", "api", "cli")
_KEY = re.compile(rf"[0-9a-f]{{{TOKEN_HEX}}}")

_STORE_DDL = f"""
create table {TABLE} (
    patient_key varchar primary key, patient_id varchar, family_name varchar, given_name varchar,
    birth_date varchar, postal_code varchar, member_ids varchar
)
"""
# Member ids of every coverage version, current first; dim_patients and dim_coverage_history are
# marts, so the store is as fresh as the warehouse it is published from.
_FILL = f"""
insert into {TABLE}
select phi_token(p.patient_id), p.patient_id, p.family_name, p.given_name,
       cast(p.birth_date as varchar), p.postal_code, m.member_ids
from wh.marts.dim_patients p
left join (
    select patient_id,
           string_agg(distinct member_id, ', ' order by member_id) as member_ids
    from wh.marts.dim_coverage_history
    where member_id is not null
    group by patient_id
) m using (patient_id)
where p.patient_id is not null
"""
_FILL_NO_COVERAGE = f"""
insert into {TABLE}
select phi_token(patient_id), patient_id, family_name, given_name, cast(birth_date as varchar),
       postal_code, null
from wh.marts.dim_patients
where patient_id is not null
"""


def store_path(settings: Settings | None = None) -> Path:
    settings = settings or get_settings()
    return settings.home / "phi" / "phi.duckdb"


def _has(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute(
        "select count(*) from duckdb_tables() where database_name = 'wh' and schema_name = ? "
        "and table_name = ?", [schema, table]).fetchone()[0])


def write_store(settings: Settings | None = None, tokeniser: Tokeniser | None = None) -> Path:
    """Rebuild the PHI store from the warehouse's patients (write-then-rename, owner-only)."""
    settings = settings or get_settings()
    tokeniser = tokeniser or Tokeniser(settings)
    warehouse = Path(settings.warehouse)  # type: ignore[arg-type]
    target = store_path(settings)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(target.parent, 0o700)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        with duckdb.connect(str(tmp)) as con:  # inside the 0700 folder until renamed
            os.chmod(tmp, 0o600)
            tokeniser.register(con)
            con.execute("attach ? as wh (read_only)", [str(warehouse)])
            con.execute(_STORE_DDL)
            if _has(con, "marts", "dim_patients"):
                con.execute(_FILL if _has(con, "marts", "dim_coverage_history") else _FILL_NO_COVERAGE)
            con.execute("detach wh")
            con.execute("checkpoint")
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def lookup_patient(
    patient_key: str, *, actor: str, role: str, channel: str
) -> dict[str, str | None]:
    """A patient's PHI by token, for a role in ``settings.phi_roles``; audited, granted or not.

    Refused (one-line BillopsError, still audited) for any other role, a missing actor, an
    unknown channel or a key that is not a token. Returns the fields of :data:`FIELDS`.
    """
    settings = get_settings()
    key = (patient_key or "").strip().lower()
    actor = (actor or "").strip()
    refusal = None
    if not _KEY.fullmatch(key):
        # Never echo the value: a patient id pasted here by mistake is PHI.
        refusal = f"a patient key is {TOKEN_HEX} hex digits, as the snapshot's patient_key shows"
        key = "(invalid key)"
    elif not actor:
        refusal = "a PHI lookup needs the actor's name"
    elif channel not in CHANNELS:
        refusal = f"channel {channel!r} is not one of {', '.join(CHANNELS)}"
    elif role not in settings.phi_roles:
        refusal = (f"role {role!r} may not see PHI (roles that may: "
                   f"{', '.join(settings.phi_roles) or 'none'})")
    if refusal:
        ops_store.record_phi_access(key, actor=actor, role=role, channel=str(channel),
                                    outcome="REFUSED", settings=settings)
        raise BillopsError(f"PHI lookup refused: {refusal}")
    path = store_path(settings)
    row = None
    if path.exists():
        with duckdb.connect(str(path), read_only=True) as con:
            row = con.execute(
                f"select {', '.join(FIELDS)} from {TABLE} where patient_key = ?", [key]
            ).fetchone()
    ops_store.record_phi_access(key, actor=actor, role=role, channel=channel,
                                outcome="GRANTED" if row else "NOT_FOUND", settings=settings)
    if row is None:
        raise BillopsError(f"{path}: no patient with key {key} (publish first, or a key of "
                           "another installation)")
    return {f: (None if v is None else str(v)) for f, v in zip(FIELDS, row, strict=True)}
