"""User-facing errors: the CLI prints their message on one line and exits non-zero.

The workflow layer (issue 15) raises the subclasses below; the HTTP API maps them to status
codes (404, 403, 409, 409) and the CLI prints them like any other ``BillopsError``. Messages name
the record and the reason on one line and never carry PHI.
"""


class BillopsError(Exception):
    """An error caused by input or state the user can fix; never shown with a traceback."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


class NotFoundError(BillopsError):
    """The record asked for does not exist (HTTP 404)."""


class ForbiddenError(BillopsError):
    """The caller's role, tier or identity may not do this (HTTP 403)."""


class ConflictError(BillopsError):
    """The record changed since the caller read it: a stale version (HTTP 409)."""


class IllegalTransitionError(BillopsError):
    """The action is not allowed from the record's current status (HTTP 409 or 422)."""
