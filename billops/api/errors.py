"""Every error the API returns is one line of JSON: ``{"error": "...", "request_id": "..."}``.

Never a traceback, never the presented token, never a submitted value (a validation error names
the field and the rule only). ``billops.errors`` classes map to statuses by :data:`STATUS_BY_ERROR`
(a subclass maps like its parent); any other ``BillopsError`` is 422, anything unexpected is 500
with the message ``internal error`` (and a log line with the request id and the exception's type,
not its text, which may quote a stored value).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from billops.api.context import HEADER, request_id
from billops.errors import (
    BillopsError,
    ConflictError,
    ForbiddenError,
    IllegalTransitionError,
    NotFoundError,
)

log = logging.getLogger(__name__)

# billops.errors classes -> HTTP status (a subclass maps like its parent).
STATUS_BY_ERROR: tuple[tuple[type[BillopsError], int], ...] = (
    (NotFoundError, 404),
    (ForbiddenError, 403),
    (ConflictError, 409),
    (IllegalTransitionError, 409),
)
UNPROCESSABLE = 422
MAX_MESSAGE = 300


def one_line(message: object) -> str:
    text = " ".join(str(message).split()) or "error"
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def error_response(status: int, message: object, headers: dict[str, str] | None = None) -> JSONResponse:
    rid = request_id()
    return JSONResponse(
        {"error": one_line(message), "request_id": rid}, status_code=status,
        headers={**(headers or {}), HEADER: rid},
    )


def status_of(exc: BillopsError) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(exc, cls):
            return status
    return UNPROCESSABLE


def validation_message(errors: list[Any]) -> str:
    """``body.version: Field required`` for the first error (and how many more); no values."""
    first = errors[0] if errors else {}
    where = ".".join(str(part) for part in first.get("loc", ()))
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where or 'request'}: {first.get('msg', 'invalid')}{more}"


async def _billops_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BillopsError)
    status = status_of(exc)
    log.info("refused with %s: %s", status, type(exc).__name__)
    return error_response(status, exc)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return error_response(exc.status_code, exc.detail, dict(exc.headers or {}))


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(UNPROCESSABLE, validation_message(list(exc.errors())))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(BillopsError, _billops_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
