"""``GET /api/v1/health``: no token, no data; says the server answers."""

from __future__ import annotations

from fastapi import APIRouter

from billops.api.schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get("/health", name="health", operation_id="health", response_model=HealthOut)
def health() -> HealthOut:
    """The server is up. Reads nothing, needs no token, is not rate limited."""
    return HealthOut()
