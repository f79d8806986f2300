"""Adjustments (write-offs, refunds, adjustments) under maker-checker: requested by one user,
approved or rejected by an approver who is not the requester and whose tier covers the amount."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from billops.api.masking import mask_phi
from billops.api.routers.common import error_responses
from billops.api.schemas import (
    DEFAULT_PAGE,
    MAX_PAGE,
    AdjustmentIn,
    AdjustmentOut,
    AdjustmentsOut,
    DecisionIn,
    RejectIn,
)
from billops.api.security import CurrentUser, settings_of
from billops.errors import BillopsError
from billops.workflow import adjustments as workflow
from billops.workflow.vocabulary import ADJUSTMENT_STATUSES

router = APIRouter(tags=["adjustments"], responses=error_responses())

AdjustmentId = Annotated[str, Path(min_length=1, max_length=64)]


@router.post("/adjustments", name="request_adjustment", operation_id="request_adjustment",
             response_model=AdjustmentOut, status_code=201)
def request_adjustment(request: Request, user: CurrentUser, body: AdjustmentIn) -> dict[str, Any]:
    """Request a write-off, refund or adjustment on an account: it is ``PENDING_APPROVAL`` until
    an approver other than the requester approves or rejects it."""
    adjustment = workflow.request_adjustment(
        body.account_id, body.kind, body.amount, body.reason, actor=user.name, role=user.role,
        channel="api", entity=body.entity, settings=settings_of(request),
    )
    return mask_phi(adjustment.to_dict())


@router.get("/adjustments", name="list_adjustments", operation_id="list_adjustments",
            response_model=AdjustmentsOut)
def list_adjustments(
    request: Request, user: CurrentUser,
    status: Annotated[str | None, Query(max_length=32)] = None,
    account_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Adjustment requests, newest first, filtered by status (``PENDING_APPROVAL``,
    ``APPROVED``, ``REJECTED``) and account; paged like the exceptions."""
    status, account_id = status or None, account_id or None
    if status is not None and status not in ADJUSTMENT_STATUSES:
        raise BillopsError(f"query.status: expected one of {', '.join(ADJUSTMENT_STATUSES)}")
    found = workflow.list_adjustments(status=status, account_id=account_id, limit=limit + 1,
                                      offset=offset, settings=settings_of(request))
    more = len(found) > limit
    return {"items": [mask_phi(a.to_dict()) for a in found[:limit]], "limit": limit,
            "offset": offset, "next_offset": offset + limit if more else None}


@router.get("/adjustments/{adjustment_id}", name="get_adjustment", operation_id="get_adjustment",
            response_model=AdjustmentOut)
def get_adjustment(request: Request, user: CurrentUser, adjustment_id: AdjustmentId) -> dict[str, Any]:
    """One adjustment request (404 when there is none)."""
    return mask_phi(workflow.get_adjustment(adjustment_id, settings=settings_of(request)).to_dict())


@router.post("/adjustments/{adjustment_id}/approve", name="approve_adjustment",
             operation_id="approve_adjustment", response_model=AdjustmentOut)
def approve_adjustment(
    request: Request, user: CurrentUser, adjustment_id: AdjustmentId, body: DecisionIn
) -> dict[str, Any]:
    """Approve: 403 for a role other than approver, for an approver whose tier is below the
    amount, and for the requester (unless ``break_glass`` with a reason of at least 20
    characters, flagged in the audit trail; the tier still applies)."""
    adjustment = workflow.approve(
        adjustment_id, actor=user.name, role=user.role, channel="api", reason=body.reason,
        break_glass=body.break_glass, settings=settings_of(request),
    )
    return mask_phi(adjustment.to_dict())


@router.post("/adjustments/{adjustment_id}/reject", name="reject_adjustment",
             operation_id="reject_adjustment", response_model=AdjustmentOut)
def reject_adjustment(
    request: Request, user: CurrentUser, adjustment_id: AdjustmentId, body: RejectIn
) -> dict[str, Any]:
    """Reject a pending request, with a reason: an approver, or the requester withdrawing
    their own request (403 for anyone else)."""
    adjustment = workflow.reject(
        adjustment_id, actor=user.name, role=user.role, channel="api", reason=body.reason,
        settings=settings_of(request),
    )
    return mask_phi(adjustment.to_dict())
