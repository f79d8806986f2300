"""billops dashboard entry point: ``streamlit run dashboards/app.py`` (or ``billops dashboard``).

Until the session signs in (``dashboards.session``, users of ``billops users``) the only page is
the sign-in form, and no data is read. Every data page reads only the serving snapshot
(``billops publish``), read-only; the roles of ``settings.phi_roles`` also get the audited
patient lookup (``dashboards.navigation``).
"""

from __future__ import annotations

from functools import partial

import streamlit as st

from billops.config import get_settings
from dashboards import session
from dashboards.navigation import ALL_PATHS, pages_for
from dashboards.views import sign_in

st.set_page_config(page_title="billops", layout="wide")

user = session.current()
if user is None:
    # Every page's address answers with the sign-in form (a deep link is no "page not found"),
    # and once signed in the session stays on the page that was asked for. No page is drawn.
    st.navigation(
        [st.Page(sign_in.render, title=sign_in.TITLE, url_path="sign-in", default=True),
         *(st.Page(partial(sign_in.render), title=sign_in.TITLE, url_path=path)
           for path in ALL_PATHS)],
        position="hidden",
    ).run()
    st.stop()

with st.sidebar:
    st.caption(f"Signed in as {user.name} ({user.role})")
    if st.button("Sign out", key="sign_out"):
        session.sign_out()
        st.rerun()

st.navigation([st.Page(p.render, title=p.title, url_path=p.url_path)
               for p in pages_for(user, get_settings().phi_roles)]).run()
