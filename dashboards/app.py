"""billops dashboard entry point: ``streamlit run dashboards/app.py`` (or ``billops dashboard``).

Every page reads only the serving snapshot (``billops publish``), read-only.
"""

from __future__ import annotations

import streamlit as st

from dashboards.views import process, quality, reconciliation

st.set_page_config(page_title="billops", layout="wide")

navigation = st.navigation(
    [st.Page(reconciliation.render, title=reconciliation.TITLE, url_path="reconciliation"),
     st.Page(quality.render, title=quality.TITLE, url_path="quality"),
     st.Page(process.render, title=process.TITLE, url_path="process")]
)
navigation.run()
