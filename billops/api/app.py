"""The app factory of the governed HTTP API (docs/api.md)."""

from __future__ import annotations

from fastapi import FastAPI

from billops.api.context import install_log_records
from billops.api.errors import install_error_handlers
from billops.api.middleware import RequestContextMiddleware
from billops.api.ratelimit import RateLimiter
from billops.api.routers import ROUTERS
from billops.config import Settings, get_settings

PREFIX = "/api/v1"
VERSION = "1.0.0"
# Paths that are never rate limited (a load balancer's health probe).
UNLIMITED = frozenset({f"{PREFIX}/health"})


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API on ``settings`` (default: the ``BILLOPS_`` environment), routes under /api/v1."""
    settings = settings or get_settings()
    install_log_records()
    app = FastAPI(
        title="billops API",
        version=VERSION,
        summary="Work the billing exceptions, request and approve adjustments, read the audit trail.",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=f"{PREFIX}/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router, prefix=PREFIX)
    limiter = RateLimiter(settings.api_rate_limit_per_minute, settings.api_rate_limit_burst)
    app.add_middleware(RequestContextMiddleware, limiter=limiter, exempt=UNLIMITED)
    return app


def route_list(app: FastAPI) -> list[tuple[str, str, str]]:
    """(method, path, name) of every API route, in the order they were mounted."""
    found = []
    for route in app.routes:
        methods = sorted(getattr(route, "methods", None) or ())
        path = getattr(route, "path", "")
        if path.startswith(PREFIX) and path not in app_docs_paths():
            found.extend((method, path, route.name) for method in methods if method != "HEAD")
    return found


def app_docs_paths() -> set[str]:
    return {f"{PREFIX}/openapi.json", f"{PREFIX}/docs", f"{PREFIX}/docs/oauth2-redirect"}
