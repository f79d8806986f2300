"""What every data route shares: the error responses the OpenAPI document lists."""

from __future__ import annotations

from typing import Any

from billops.api.schemas import ErrorOut

_ERRORS = {
    401: "no, wrong or disabled token",
    403: "the role (or tier, or identity) may not do this",
    404: "no such record",
    409: "stale version or illegal transition",
    422: "invalid request",
    429: "rate limit exceeded (see Retry-After)",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    wanted = codes or tuple(_ERRORS)
    return {code: {"model": ErrorOut, "description": _ERRORS[code]} for code in wanted}
