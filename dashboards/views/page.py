"""The frame every page shares: title, caption, and snapshot problems as one message."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import streamlit as st

from dashboards import data


def render_page(title: str, caption: str, body: Callable[[], None]) -> None:
    """Draw ``body`` under the page title; a missing or stale snapshot is a message, never a traceback."""
    st.title(title)
    st.caption(caption)
    try:
        body()
    except data.SnapshotUnavailable as exc:
        (st.warning if exc.level == "warning" else st.info)(str(exc))
    except duckdb.Error as exc:
        st.error(data.one_line_error(exc))
