"""Patient lookup: a patient's name, birth date, postal code and member ids by the patient key
the other pages show, for the roles in ``settings.phi_roles`` only. Every lookup, granted or
refused, is audited by ``billops.phi_store.lookup_patient`` under the signed-in user; nothing is
kept in the session (the answer is drawn once, for the click that asked)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from billops.errors import BillopsError
from billops.phi_store import lookup_patient
from dashboards.session import SignedIn

TITLE = "Patient lookup"
_LABELS = {
    "patient_id": "Patient id (MRN)",
    "family_name": "Family name",
    "given_name": "Given name",
    "birth_date": "Birth date",
    "postal_code": "Postal code",
    "member_ids": "Member ids",
}


def render(user: SignedIn) -> None:
    st.title(TITLE)
    st.caption(
        f"Looked up as {user.name} ({user.role}); every lookup is recorded in the audit log. "
        "Paste a patient key from another page."
    )
    with st.form("patient_lookup", clear_on_submit=True):
        key = st.text_input("Patient key", key="patient_lookup_key")
        submitted = st.form_submit_button("Look up")
    if not submitted:
        return
    try:
        patient = lookup_patient(key, actor=user.name, role=user.role, channel="dashboard")
    except BillopsError as exc:
        st.error(str(exc))
        return
    st.table(pd.DataFrame({"Field": [_LABELS.get(k, k) for k in patient],
                           "Value": [v or "—" for v in patient.values()]}))
