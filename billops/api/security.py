"""Authentication (``Authorization: Bearer <token>``) and the role check of every route.

:func:`authorised` is the dependency of every non-public route: it reads the bearer token,
asks ``billops.auth.authenticate_bearer`` for the active user it belongs to (nothing is cached
between requests, so a disabled user is refused at once), and checks the user's role against
:data:`billops.api.roles.ROUTE_ROLES` under the route's own name. 401 and 403 are one-line JSON
(:mod:`billops.api.errors`); neither ever names the token. A refusal by the role table is
audited (table ``api``, operation ``FORBIDDEN``); a refused token is audited by
``billops.auth``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from billops import auth, ops_store
from billops.api.context import request_id
from billops.api.roles import ROUTE_ROLES, allowed
from billops.auth import User
from billops.config import Settings

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="billops"'}
MAX_TOKEN_CHARS = 256


# Declares the scheme in the OpenAPI document; the refusal is ours (one line, 401 not 403).
bearer_scheme = HTTPBearer(auto_error=False, description="a token of `billops users add`")


def _token(credentials: HTTPAuthorizationCredentials | None) -> str:
    token = credentials.credentials.strip() if credentials else ""
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise HTTPException(401, "authentication required: send Authorization: Bearer <token>",
                            headers=CHALLENGE)
    return token


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def authorised(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> User:
    """The signed-in user, if the route's role table admits the user's role."""
    token = _token(credentials)
    user = auth.authenticate_bearer(token, channel="api", settings=settings_of(request))
    if user is None:
        raise HTTPException(401, "invalid or disabled token", headers=CHALLENGE)
    request.state.user_name = user.name
    route = request.scope.get("route")
    name = getattr(route, "name", "")
    if not allowed(name, user.role):
        roles = ", ".join(ROUTE_ROLES.get(name, ())) or "no role"
        message = f"role {user.role} may not call {name} (allowed: {roles})"
        _audit_refusal(request, name, user, message)
        raise HTTPException(403, message)
    return user


def _audit_refusal(request: Request, route: str, user: User, message: str) -> None:
    """A refused route is a row of the audit trail, under the record it aimed at (the path's
    exception, adjustment or patient key), else the route's name."""
    record = next(iter(request.path_params.values()), route)
    ops_store.record_audit(
        "api", str(record)[:64], "FORBIDDEN", user.name,
        {"route": route, "role": user.role, "request_id": request_id()},
        settings_of(request), channel="api", reason=message, outcome="REFUSED")


CurrentUser = Annotated[User, Depends(authorised)]
