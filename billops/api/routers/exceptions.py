"""Work items (the exceptions of ``marts.billing_exceptions`` as worked in the operational store):
list and filter them, read one, act on one; and the queues' counts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from billops.api.masking import mask_phi
from billops.api.queues import queue_summary
from billops.api.routers.common import error_responses
from billops.api.schemas import (
    DEFAULT_PAGE,
    MAX_PAGE,
    ActionIn,
    QueuesOut,
    WorkItemOut,
    WorkItemPage,
)
from billops.api.security import CurrentUser, settings_of
from billops.errors import BillopsError
from billops.workflow import items as workflow
from billops.workflow.vocabulary import STATUSES

router = APIRouter(tags=["exceptions"], responses=error_responses())

ExceptionId = Annotated[str, Path(min_length=1, max_length=64)]
Filter = Annotated[str | None, Query(max_length=64)]


@router.get("/exceptions", name="list_exceptions", operation_id="list_exceptions",
            response_model=WorkItemPage)
def list_exceptions(
    request: Request,
    user: CurrentUser,
    status: Filter = None,
    queue: Filter = None,
    exception_type: Annotated[str | None, Query(alias="type", max_length=64)] = None,
    assignee: Filter = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Work items, highest priority first, filtered by status, queue, type and assignee (an
    empty filter is no filter); one page of ``limit`` from ``offset``; ``next_offset`` is null
    on the last page."""
    status, queue, exception_type, assignee = (
        value or None for value in (status, queue, exception_type, assignee))
    if status is not None and status not in STATUSES:
        raise BillopsError(f"query.status: expected one of {', '.join(STATUSES)}")
    found = workflow.list_items(
        status=status, queue=queue, exception_type=exception_type, assignee=assignee,
        limit=limit + 1, offset=offset, settings=settings_of(request),
    )
    more = len(found) > limit
    return {
        "items": [mask_phi(item.to_dict()) for item in found[:limit]],
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if more else None,
    }


@router.get("/exceptions/{exception_id}", name="get_exception", operation_id="get_exception",
            response_model=WorkItemOut)
def get_exception(request: Request, user: CurrentUser, exception_id: ExceptionId) -> dict[str, Any]:
    """One work item (404 when there is none)."""
    return mask_phi(workflow.get_item(exception_id, settings=settings_of(request)).to_dict())


@router.post("/exceptions/{exception_id}/actions", name="act_on_exception",
             operation_id="act_on_exception", response_model=WorkItemOut)
def act_on_exception(
    request: Request, user: CurrentUser, exception_id: ExceptionId, body: ActionIn
) -> dict[str, Any]:
    """Claim, comment, resolve (with ``resolution_code``), dismiss, reopen, escalate, snooze
    (``until``) or assign (``assignee``) a work item at the ``version`` last read: the item as
    it is now, or 409 when someone acted first (read it again and retry) or the action is not
    allowed from its status."""
    item = workflow.act(
        exception_id, body.action, actor=user.name, role=user.role, channel="api",
        version=body.version, reason=body.reason, assignee=body.assignee, until=body.until,
        resolution_code=body.resolution_code, settings=settings_of(request),
    )
    return mask_phi(item.to_dict())


@router.get("/queues", name="list_queues", operation_id="list_queues", response_model=QueuesOut)
def list_queues(request: Request, user: CurrentUser) -> dict[str, Any]:
    """Per queue: open items, items past their due time (at the data's as-of time) and the
    oldest due time."""
    return {"queues": queue_summary(settings_of(request))}
