"""``GET /api/v1/audit``: the hash-chained audit trail, oldest first (approvers and admins).

Rows never hold PHI or a token (docs/security.md); the JSON columns (``detail``, ``before``,
``after``) are returned parsed, and the PHI guard masks any PHI-named key all the same.
"""

from __future__ import annotations

import contextlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from billops import ops_store
from billops.api.masking import mask_phi
from billops.api.routers.common import error_responses
from billops.api.schemas import AuditOut
from billops.api.security import CurrentUser, settings_of

router = APIRouter(tags=["audit"], responses=error_responses(401, 403, 422, 429))

JSON_COLUMNS = ("detail", "before", "after")
MAX_ENTRIES = 5000


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    entry = dict(row)
    for column in JSON_COLUMNS:
        text = entry.get(column)
        if isinstance(text, str):
            with contextlib.suppress(ValueError):
                entry[column] = json.loads(text)
    return mask_phi(entry)


@router.get("/audit", name="read_audit", operation_id="read_audit", response_model=AuditOut)
def read_audit(
    request: Request,
    user: CurrentUser,
    record_id: Annotated[str | None, Query(max_length=64)] = None,
    table_name: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_ENTRIES)] = 1000,
) -> dict[str, Any]:
    """Audit entries, oldest first, for one record (``record_id``: an exception id, an
    adjustment id, a user name, a patient key) and/or one table; at most ``limit`` (the
    oldest)."""
    rows = ops_store.audit_entries(
        record_id=record_id, table_name=table_name, limit=limit, settings=settings_of(request))
    return {"entries": [_entry(dict(row)) for row in rows]}
