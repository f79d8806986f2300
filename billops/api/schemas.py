"""The request and response bodies of the API (pydantic), as the OpenAPI document shows them.

Requests forbid unknown fields (a typo is a 422, never silently ignored). Responses name the
contract's fields and allow more, so the workflow may add fields without breaking a client.
No schema has a PHI field except :class:`PatientOut`, which only the PHI store fills.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ACTIONS = ("claim", "comment", "resolve", "dismiss", "reopen", "escalate", "snooze", "assign")
ADJUSTMENT_KINDS = ("write_off", "refund", "adjustment")
MAX_PAGE = 500
DEFAULT_PAGE = 100

Text = Field(default=None, max_length=2000)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorOut(BaseModel):
    error: str = Field(description="what is wrong, on one line")
    request_id: str


class HealthOut(BaseModel):
    status: Literal["ok"] = "ok"


class WorkItemOut(_Response):
    exception_id: str
    exception_type: str
    account_id: str | None = None
    queue: str | None = None
    status: str
    priority_score: float | None = None
    due_at: datetime | str | None = None
    version: int


class WorkItemPage(BaseModel):
    items: list[WorkItemOut]
    limit: int
    offset: int
    next_offset: int | None = Field(description="offset of the next page; null on the last page")


class QueueOut(BaseModel):
    queue: str
    open: int = Field(description="open work items (not resolved, dismissed or auto-resolved)")
    breached: int = Field(description="open items past their due time, at the data's as-of time")
    oldest_due_at: datetime | str | None = None


class QueuesOut(BaseModel):
    queues: list[QueueOut]


class ActionIn(_Request):
    action: Literal["claim", "comment", "resolve", "dismiss", "reopen", "escalate", "snooze", "assign"]
    version: int = Field(ge=0, description="the item's version as last read; 409 when stale")
    reason: str | None = Text
    resolution_code: str | None = Field(default=None, max_length=64)
    until: date | datetime | None = Field(default=None, description="snooze: until when")
    assignee: str | None = Field(default=None, max_length=64, description="assign: the user")


class AdjustmentIn(_Request):
    account_id: str = Field(min_length=1, max_length=64)
    kind: Literal["write_off", "refund", "adjustment"]
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    reason: str = Field(min_length=1, max_length=2000)
    entity: str | None = Field(default=None, max_length=64)


class DecisionIn(_Request):
    reason: str | None = Text
    break_glass: bool = Field(default=False, description="the requester approving their own "
                              "request: needs a reason of at least 20 characters, flagged in "
                              "the audit trail")


class RejectIn(_Request):
    reason: str = Field(min_length=1, max_length=2000)


class AdjustmentOut(_Response):
    adjustment_id: str
    status: str
    account_id: str | None = None
    kind: str | None = None
    amount: Decimal | float | str | None = None


class AdjustmentsOut(BaseModel):
    items: list[AdjustmentOut]
    limit: int
    offset: int
    next_offset: int | None


class AuditEntryOut(_Response):
    audit_id: int
    table_name: str
    record_id: str
    operation: str
    actor: str
    at: datetime | str


class AuditOut(BaseModel):
    entries: list[AuditEntryOut]


class PatientOut(BaseModel):
    patient_key: str
    patient_id: str | None = None
    family_name: str | None = None
    given_name: str | None = None
    birth_date: str | None = None
    postal_code: str | None = None
    member_ids: str | None = None
