"""The workflow's vocabularies, each defined once: work-item statuses, actions and the one
transition table; adjustment kinds and statuses; resolution codes (a data file).

docs/workflow.md shows the transition table; tests/test_workflow_docs.py ties the two.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).parent / "data"

OPEN, ASSIGNED, SNOOZED = "OPEN", "ASSIGNED", "SNOOZED"
RESOLVED, DISMISSED, AUTO_RESOLVED = "RESOLVED", "DISMISSED", "AUTO_RESOLVED"
STATUSES: tuple[str, ...] = (OPEN, ASSIGNED, SNOOZED, RESOLVED, DISMISSED, AUTO_RESOLVED)
ACTIVE_STATUSES: frozenset[str] = frozenset({OPEN, ASSIGNED, SNOOZED})
CLOSED_STATUSES: frozenset[str] = frozenset({RESOLVED, DISMISSED, AUTO_RESOLVED})

ACTIONS: tuple[str, ...] = (
    "assign", "claim", "comment", "snooze", "resolve", "dismiss", "reopen", "escalate")
# What the pipeline does to items when it syncs the marts (never offered to people).
SYSTEM_ACTIONS: tuple[str, ...] = ("open", "auto_resolve", "redetect", "wake")
SYSTEM_ACTOR, SYSTEM_CHANNEL = "billops", "pipeline"

ANALYST, SPECIALIST, APPROVER, ADMIN = "analyst", "billing_specialist", "approver", "admin"
_WORKERS = frozenset({SPECIALIST, APPROVER, ADMIN})
_EVERYONE = frozenset({ANALYST, *_WORKERS})


@dataclass(frozen=True)
class Transition:
    """An action: the statuses it may start from, the status it leads to (None: unchanged),
    the roles that may take it and the field it needs."""

    action: str
    from_statuses: frozenset[str]
    to_status: str | None
    roles: frozenset[str]
    needs: str | None = None


TRANSITIONS: dict[str, Transition] = {t.action: t for t in (
    Transition("assign", ACTIVE_STATUSES, ASSIGNED, _WORKERS, "assignee"),
    Transition("claim", frozenset({OPEN, SNOOZED}), ASSIGNED, _WORKERS),
    Transition("comment", frozenset(STATUSES), None, _EVERYONE, "reason"),
    Transition("snooze", frozenset({OPEN, ASSIGNED}), SNOOZED, _WORKERS, "until"),
    Transition("resolve", ACTIVE_STATUSES, RESOLVED, _WORKERS, "resolution_code"),
    Transition("dismiss", ACTIVE_STATUSES, DISMISSED, _WORKERS, "reason"),
    Transition("reopen", frozenset({RESOLVED, DISMISSED}), OPEN, _WORKERS),
    # to the item's escalation queue, unassigned
    Transition("escalate", ACTIVE_STATUSES, OPEN, _WORKERS),
)}
assert tuple(TRANSITIONS) == ACTIONS


def _resolution_codes() -> tuple[str, ...]:
    with (DATA / "resolution_codes.csv").open(newline="", encoding="utf-8") as handle:
        return tuple(row["code"] for row in csv.DictReader(handle))


RESOLUTION_CODES: tuple[str, ...] = _resolution_codes()

ADJUSTMENT_KINDS: tuple[str, ...] = ("write_off", "refund", "adjustment")
PENDING_APPROVAL, APPROVED, REJECTED = "PENDING_APPROVAL", "APPROVED", "REJECTED"
# An approved adjustment whose exported GL journal came back in an ERP extract (the ERP imported
# it): set by the pipeline (billops.workflow.posting), never by a person.
POSTED = "POSTED"
ADJUSTMENT_STATUSES: tuple[str, ...] = (PENDING_APPROVAL, APPROVED, REJECTED, POSTED)


def transition_table() -> str:
    """The transition table as Markdown (docs/workflow.md prints it; a test keeps them equal)."""
    lines = ["| action | from | to | roles | needs |", "|---|---|---|---|---|"]
    for t in TRANSITIONS.values():
        starts = ", ".join(s for s in STATUSES if s in t.from_statuses)
        roles = ", ".join(r for r in (ANALYST, SPECIALIST, APPROVER, ADMIN) if r in t.roles)
        lines.append(f"| {t.action} | {starts} | {t.to_status or '(unchanged)'} | {roles} "
                     f"| {t.needs or ''} |")
    return "\n".join(lines)
