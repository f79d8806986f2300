"""The sign-in page: the only page an unauthenticated session sees (no snapshot is read)."""

from __future__ import annotations

import streamlit as st

from dashboards import session

TITLE = "Sign in"
REFUSED = "Sign-in refused: unknown user name or wrong token or password."
LOCKED = (
    "Too many refused sign-ins in this session. Ask an administrator for your token "
    "(`billops users add`), then open the dashboard again."
)


def render() -> None:
    st.title("billops")
    st.caption(
        "Sign in with your user name and your password, or the token `billops users add NAME "
        "--role ROLE` printed for you."
    )
    if session.locked():
        st.error(LOCKED)
        return
    with st.form("sign_in"):
        name = st.text_input("User name", key="sign_in_name", autocomplete="username")
        secret = st.text_input("Token or password", key="sign_in_token", type="password",
                               autocomplete="current-password")
        submitted = st.form_submit_button("Sign in")
    if not submitted:
        return
    if session.sign_in(name, secret) is not None:
        st.rerun()
    st.error(LOCKED if session.locked() else REFUSED)
