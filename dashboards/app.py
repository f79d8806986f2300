"""billops dashboard entry point: ``streamlit run dashboards/app.py`` (or ``billops dashboard``).

Until the session signs in (``dashboards.session``, users of ``billops users``) the only page is
the sign-in form, and no data is read. Every page reads only the serving snapshot
(``billops publish``), read-only.
"""

from __future__ import annotations

import streamlit as st

from dashboards import session
from dashboards.views import process, quality, reconciliation, sign_in

st.set_page_config(page_title="billops", layout="wide")

user = session.current()
if user is None:
    # One hidden page: whatever URL was asked for, the sign-in form answers it.
    st.navigation([st.Page(sign_in.render, title=sign_in.TITLE, url_path="sign-in")],
                  position="hidden").run()
    st.stop()

with st.sidebar:
    st.caption(f"Signed in as {user.name} ({user.role})")
    if st.button("Sign out", key="sign_out"):
        session.sign_out()
        st.rerun()

navigation = st.navigation(
    [st.Page(reconciliation.render, title=reconciliation.TITLE, url_path="reconciliation"),
     st.Page(quality.render, title=quality.TITLE, url_path="quality"),
     st.Page(process.render, title=process.TITLE, url_path="process")]
)
navigation.run()
