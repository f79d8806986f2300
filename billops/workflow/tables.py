"""The workflow's tables in the operational store (on ``billops.ops_store.metadata``)."""

from __future__ import annotations

import sqlalchemy as sa

from billops.ops_store import metadata
from billops.workflow.vocabulary import ADJUSTMENT_KINDS, ADJUSTMENT_STATUSES, STATUSES

# The smallest reason a break-glass decision must give (the store checks it too).
MIN_BREAK_GLASS_REASON = 20


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


routing_versions = sa.Table(
    "routing_versions",
    metadata,
    sa.Column("version_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("source", sa.String(255), nullable=False),
    sa.Column("rules", sa.Integer, nullable=False),
    sa.Column("loaded_at", sa.DateTime, nullable=False),
    sa.Column("loaded_by", sa.String(128), nullable=False),
)

routing_rules = sa.Table(
    "routing_rules",
    metadata,
    sa.Column("version_id", sa.Integer, sa.ForeignKey("routing_versions.version_id"),
              primary_key=True),
    sa.Column("rule_id", sa.String(64), primary_key=True),
    sa.Column("exception_type", sa.String(64), nullable=False),
    sa.Column("entity", sa.String(64), nullable=False),
    sa.Column("payer_id", sa.String(64), nullable=False),
    sa.Column("min_amount", sa.Numeric(14, 2)),
    sa.Column("max_amount", sa.Numeric(14, 2)),
    sa.Column("queue", sa.String(32), nullable=False),
    sa.Column("sla_business_hours", sa.Float, nullable=False),
    sa.Column("escalation_queue", sa.String(32), nullable=False),
)

# One row per sync of the marts: its data as-of time is the workflow's clock.
sync_runs = sa.Table(
    "sync_runs",
    metadata,
    sa.Column("sync_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("as_of", sa.DateTime, nullable=False, index=True),
    sa.Column("synced_at", sa.DateTime, nullable=False),
    sa.Column("routing_version", sa.Integer),
    sa.Column("opened", sa.Integer, nullable=False),
    sa.Column("reopened", sa.Integer, nullable=False),
    sa.Column("auto_resolved", sa.Integer, nullable=False),
    sa.Column("woken", sa.Integer, nullable=False),
)

work_items = sa.Table(
    "work_items",
    metadata,
    sa.Column("exception_id", sa.String(64), primary_key=True),
    sa.Column("exception_type", sa.String(64), nullable=False),
    sa.Column("severity", sa.String(16)),
    sa.Column("entity", sa.String(64)),
    sa.Column("account_id", sa.String(64)),
    sa.Column("payer_id", sa.String(64)),
    sa.Column("amount_at_risk", sa.Numeric(14, 2)),
    sa.Column("priority_score", sa.Float),
    sa.Column("queue", sa.String(32), nullable=False, index=True),
    sa.Column("escalation_queue", sa.String(32)),
    sa.Column("rule_id", sa.String(64)),
    sa.Column("routing_version", sa.Integer),
    sa.Column("sla_business_hours", sa.Float),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("assignee", sa.String(64)),
    sa.Column("opened_at", sa.DateTime, nullable=False),
    sa.Column("due_at", sa.DateTime),
    sa.Column("snoozed_until", sa.DateTime),
    sa.Column("resolution_code", sa.String(32)),
    # Whether the exception was in the marts at the last sync (an item "comes back" only after
    # it left them).
    sa.Column("in_marts", sa.Boolean, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("updated_by", sa.String(128), nullable=False),
    sa.CheckConstraint(_one_of("status", STATUSES), name="ck_work_items_status"),
    # the work list's order: priority first
    sa.Index("ix_work_items_priority", sa.desc("priority_score"), "due_at", "exception_id"),
    sa.Index("ix_work_items_queue_priority", "queue", sa.desc("priority_score"), "due_at",
             "exception_id"),
)

work_item_events = sa.Table(
    "work_item_events",
    metadata,
    sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("exception_id", sa.String(64), nullable=False, index=True),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("from_status", sa.String(16)),
    sa.Column("to_status", sa.String(16), nullable=False),
    sa.Column("queue", sa.String(32)),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("as_of", sa.DateTime),
    sa.Column("version", sa.Integer, nullable=False),
)

# The maker-checker rule, in the store itself: a decision by the requester is refused unless it
# is a rejection (a withdrawal) or a break-glass approval with a reason.
_MAKER_IS_NOT_CHECKER = (
    "status = 'PENDING_APPROVAL' or status = 'REJECTED' or decided_by is null "
    "or decided_by <> requested_by "
    f"or (break_glass = true and length(coalesce(decision_reason, '')) >= {MIN_BREAK_GLASS_REASON})"
)

adjustment_requests = sa.Table(
    "adjustment_requests",
    metadata,
    sa.Column("adjustment_id", sa.String(36), primary_key=True),
    sa.Column("account_id", sa.String(64), nullable=False, index=True),
    sa.Column("entity", sa.String(64)),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("amount", sa.Numeric(12, 2), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("requested_by", sa.String(128), nullable=False),
    sa.Column("requested_at", sa.DateTime, nullable=False),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("decided_by", sa.String(128)),
    sa.Column("decided_at", sa.DateTime),
    sa.Column("decision_reason", sa.Text),
    sa.Column("break_glass", sa.Boolean, nullable=False, default=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("exported_at", sa.DateTime),
    sa.Column("journal_id", sa.String(64)),
    sa.CheckConstraint("amount > 0", name="ck_adjustment_amount_positive"),
    sa.CheckConstraint(_one_of("kind", ADJUSTMENT_KINDS), name="ck_adjustment_kind"),
    sa.CheckConstraint(_one_of("status", ADJUSTMENT_STATUSES), name="ck_adjustment_status"),
    sa.CheckConstraint(_MAKER_IS_NOT_CHECKER, name="ck_adjustment_maker_is_not_checker"),
)
