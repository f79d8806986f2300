"""Who is signed in to this dashboard session (``billops.auth`` users; issue 13).

The session keeps the user's name only, never the token or password; the role is read from the store. Every rerun checks that the user
still exists and is not disabled, so ``billops users disable`` ends open sessions at their next
click. Refused sign-ins are counted per session (and audited by ``billops.auth``); after
``MAX_FAILED_SIGN_INS`` the session's form is locked.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from billops.auth import active_user, audit_sign_out, authenticate

USER_KEY = "billops_user"
FAILED_KEY = "billops_failed_sign_ins"
MAX_FAILED_SIGN_INS = 5


@dataclass(frozen=True)
class SignedIn:
    name: str
    role: str


def current() -> SignedIn | None:
    """The session's user, if signed in and still active."""
    name = st.session_state.get(USER_KEY)
    if not isinstance(name, str):
        return None
    user = active_user(name)
    if user is None:
        del st.session_state[USER_KEY]
        return None
    return SignedIn(user.name, user.role)  # the role as the store holds it now


def failed_attempts() -> int:
    return int(st.session_state.get(FAILED_KEY, 0))


def locked() -> bool:
    return failed_attempts() >= MAX_FAILED_SIGN_INS


def sign_in(name: str, secret: str) -> SignedIn | None:
    """Check the name and the token or password; on success the session is signed in."""
    if locked():
        return None
    user = authenticate(name, secret, channel="dashboard")
    if user is None:
        st.session_state[FAILED_KEY] = failed_attempts() + 1
        return None
    st.session_state[USER_KEY] = user.name
    st.session_state[FAILED_KEY] = 0
    return SignedIn(user.name, user.role)


def sign_out() -> None:
    name = st.session_state.pop(USER_KEY, None)
    if isinstance(name, str):
        audit_sign_out(name, channel="dashboard")
