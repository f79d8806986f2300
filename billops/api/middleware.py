"""The outermost layer of every request: its id, the rate limit, the access log line, and a
one-line 500 for anything that escapes the handlers.

Written as plain ASGI (no per-request task or body buffering), in this order: pick the request
id (:mod:`billops.api.context`) and bind it for the request's log records; take a token from the
caller's bucket (:mod:`billops.api.ratelimit`; 429 with ``Retry-After`` when empty, before the
token is even checked); add ``X-Request-ID`` to the response; log one access line (method, path
without its query, status, milliseconds, user), never a header or a body (:func:`logged_path`).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from billops.api import context
from billops.api.errors import error_response
from billops.api.ratelimit import RateLimiter

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_log = logging.getLogger("billops.api.access")
# Routes whose path values the access log never shows (a mistyped MRN instead of a patient key).
TEMPLATE_ONLY = frozenset({"lookup_patient"})
# Paths the app serves without a route object (the OpenAPI document and its viewer).
EXACT_PATHS = frozenset({"/api/v1/openapi.json", "/api/v1/docs", "/api/v1/docs/oauth2-redirect"})
log = logging.getLogger(__name__)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def bucket_key(scope: Scope) -> str:
    """The SHA-256 of the presented bearer token, else the client's address."""
    authorization = _header(scope, b"authorization")
    if authorization:
        return "token:" + hashlib.sha256(authorization.strip().encode("utf-8")).hexdigest()
    client = scope.get("client") or ("unknown", 0)
    return f"address:{client[0]}"


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, limiter: RateLimiter, exempt: frozenset[str]) -> None:
        self.app = app
        self.limiter = limiter
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = context.chosen_request_id(_header(scope, b"x-request-id"))
        token = context.bind(rid)
        started = time.perf_counter()
        status = {"code": 500, "sent": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["sent"] = message["status"], True
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                message["headers"] = [*headers, (b"x-request-id", rid.encode("latin-1"))]
            await send(message)

        try:
            wait = 0 if scope["path"] in self.exempt else self.limiter.take(bucket_key(scope))
            if wait:
                response = error_response(
                    429, f"rate limit exceeded: retry after {wait} s", {"Retry-After": str(wait)})
                await response(scope, receive, send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
        except Exception as exc:  # the handlers answer every expected error; this is a bug
            where = exc.__traceback__
            while where is not None and where.tb_next is not None:
                where = where.tb_next
            frame = f"{where.tb_frame.f_code.co_filename}:{where.tb_lineno}" if where else "?"
            log.error("internal error: %s at %s", type(exc).__name__, frame)
            if not status["sent"]:
                await error_response(500, "internal error")(scope, receive, send_with_id)
        finally:
            user = scope.get("state", {}).get("user_name", "-")
            access_log.info("%s %s %s %.1f ms user=%s", scope["method"], logged_path(scope),
                            status["code"], (time.perf_counter() - started) * 1000, user)
            context.unbind(token)


def logged_path(scope: Scope) -> str:
    """The path as the log may show it: a route's values only where they are record ids or
    tokens; a patient route's value and an unmatched path (a mistyped one may hold an MRN)
    are replaced by the route's template or ``(no route)``."""
    route = scope.get("route")
    template = getattr(route, "path", None)
    if template is None:
        return "(no route)" if scope["path"] not in EXACT_PATHS else scope["path"]
    return template if getattr(route, "name", "") in TEMPLATE_ONLY else scope["path"]
