"""The API's routers, one module per resource; :data:`ROUTERS` is the order they mount in."""

from __future__ import annotations

from billops.api.routers import adjustments, audit, exceptions, health, patients

ROUTERS = (
    health.router,
    exceptions.router,
    adjustments.router,
    audit.router,
    patients.router,
)
