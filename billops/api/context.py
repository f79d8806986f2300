"""The request id of the request being served, in a context variable, and on every log record.

The API accepts the caller's ``X-Request-ID`` when it is sane (1-64 letters, digits or
``._:-``) and otherwise makes one (32 hex digits). The id goes back in every response's header
and error body, and :func:`install_log_records` makes every log record written while the request
is served carry it as ``record.request_id`` (``-`` outside a request), whatever logger wrote it.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

HEADER = "X-Request-ID"
NO_REQUEST = "-"
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,64}")

_current: ContextVar[str] = ContextVar("billops_api_request_id", default=NO_REQUEST)


def request_id() -> str:
    """The id of the request being served, or ``-``."""
    return _current.get()


def chosen_request_id(offered: str | None) -> str:
    """The caller's id if it is sane, else a fresh one (never an echo of arbitrary bytes)."""
    if offered is not None and _SANE.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


def bind(value: str) -> object:
    """Make ``value`` the current request id; returns the token :func:`unbind` takes."""
    return _current.set(value)


def unbind(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


class RequestIdFilter(logging.Filter):
    """Gives a record the current request id when it has none (for a handler's format string)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _current.get()
        return True


def install_log_records() -> None:
    """Wrap the log record factory once so that every record carries ``request_id``."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "billops_request_id", False):
        return

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = _current.get()
        return record

    factory.billops_request_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
