"""``billops routing``, ``billops work``, ``billops adjustments`` and ``billops audit``: the
workflow layer from the command line (docs/workflow.md, docs/cli.md).

The CLI is a trusted operator's channel: ``--by`` names the user acting, who must exist, be
active and hold ``--role``; every action is audited with channel ``cli``.
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from billops.errors import BillopsError, ForbiddenError

CHANNEL = "cli"
out = Console()

routing_app = typer.Typer(help="The routing table: which queue works each exception.",
                          no_args_is_help=True)
work_app = typer.Typer(help="Work items: list them and act on them.", no_args_is_help=True)
adjustments_app = typer.Typer(help="Write-offs, refunds and adjustments (maker-checker).",
                              no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit trail.", no_args_is_help=True)

ByOption = Annotated[str, typer.Option("--by", help="the user acting (must exist and be active)")]
RoleOption = Annotated[str, typer.Option(help="the acting user's role, as the store holds it")]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON")]


def register(app: typer.Typer) -> None:
    app.add_typer(routing_app, name="routing")
    app.add_typer(work_app, name="work")
    app.add_typer(adjustments_app, name="adjustments")
    app.add_typer(audit_app, name="audit")


def _acting(by: str, role: str) -> str:
    """The user named by --by, checked against the store: active and of that role."""
    from billops.auth import active_user

    user = active_user(by)
    if user is None:
        raise ForbiddenError(f"user {by}: no such active user")
    if user.role != role:
        raise ForbiddenError(f"user {by}: role is {user.role}, not {role}")
    return user.name


def _print_rows(rows: list[dict[str, Any]], columns: tuple[str, ...], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(rows, default=str) + "\n")
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    out.print(table)


# ----------------------------------------------------------------------------- routing


@routing_app.command("load")
def routing_load(
    file: Annotated[Path | None, typer.Argument(help="routing CSV (default: the shipped table)")] = None,
    by: Annotated[str | None, typer.Option("--by", help="who loads it (default: login name)")] = None,
) -> None:
    """Validate a routing file and make it the current version (audited)."""
    from billops.workflow.routing import load_routing

    version = load_routing(file, actor=by or getpass.getuser(), channel=CHANNEL)
    state = "loaded as" if version.loaded else "already is"
    out.print(f"routing {state} version {version.version_id} ({len(version.rules)} rules, "
              f"sha256 {version.sha256[:12]})")


@routing_app.command("show")
def routing_show(as_json: JsonOption = False) -> None:
    """The current routing version and its rules."""
    from billops.workflow.routing import COLUMNS, show_routing

    shown = show_routing()
    if as_json:
        sys.stdout.write(json.dumps(shown) + "\n")
        return
    out.print(f"routing version {shown['version']} (sha256 {shown['sha256']})")
    _print_rows(shown["rules"], COLUMNS, False)


# ----------------------------------------------------------------------------- work items

_ITEM_COLUMNS = ("exception_id", "exception_type", "queue", "status", "assignee",
                 "amount_at_risk", "priority_score", "due_at", "breached", "version")


@work_app.command("list")
def work_list(
    queue: Annotated[str | None, typer.Option(help="only this queue")] = None,
    status: Annotated[str | None, typer.Option(help="only this status")] = None,
    exception_type: Annotated[str | None, typer.Option("--type", help="only this exception type")] = None,
    assignee: Annotated[str | None, typer.Option(help="only this assignee")] = None,
    limit: Annotated[int, typer.Option(help="at most this many")] = 500,
    as_json: JsonOption = False,
) -> None:
    """Work items by priority, then due time."""
    from billops.workflow.items import list_items

    items = list_items(status=status, queue=queue, exception_type=exception_type,
                       assignee=assignee, limit=limit)
    _print_rows([i.to_dict() for i in items], _ITEM_COLUMNS, as_json)


@work_app.command("act")
def work_act(
    exception_id: Annotated[str, typer.Argument(help="the work item (exception id)")],
    action: Annotated[str, typer.Argument(help="assign, claim, comment, snooze, resolve, dismiss, reopen or escalate")],
    version: Annotated[int, typer.Option(help="the item's version you read (optimistic lock)")],
    by: ByOption,
    role: RoleOption,
    reason: Annotated[str | None, typer.Option(help="comment, dismissal reason or note")] = None,
    assignee: Annotated[str | None, typer.Option(help="for assign: the user")] = None,
    until: Annotated[str | None, typer.Option(help="for snooze: YYYY-MM-DD[THH:MM]")] = None,
    resolution_code: Annotated[str | None, typer.Option(help="for resolve: a resolution code")] = None,
    as_json: JsonOption = False,
) -> None:
    """Take one action on a work item."""
    from datetime import datetime

    from billops.workflow.items import act

    when = None
    if until is not None:
        try:
            when = datetime.fromisoformat(until)
        except ValueError:
            raise BillopsError(f"--until {until!r}: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None
    item = act(exception_id, action, actor=_acting(by, role), role=role, channel=CHANNEL,
               version=version, reason=reason, assignee=assignee, until=when,
               resolution_code=resolution_code)
    _print_rows([item.to_dict()], _ITEM_COLUMNS, as_json)


# ----------------------------------------------------------------------------- adjustments

_ADJUSTMENT_COLUMNS = ("adjustment_id", "account_id", "kind", "amount", "status",
                       "requested_by", "decided_by", "break_glass")


@adjustments_app.command("request")
def adjustments_request(
    account_id: Annotated[str, typer.Argument(help="the account")],
    kind: Annotated[str, typer.Option(help="write_off, refund or adjustment")],
    amount: Annotated[str, typer.Option(help="dollars, above 0, two decimals at most")],
    reason: Annotated[str, typer.Option(help="why")],
    by: ByOption,
    role: RoleOption,
    entity: Annotated[str | None, typer.Option(help="the account's entity")] = None,
    as_json: JsonOption = False,
) -> None:
    """Request a write-off, refund or adjustment: it waits for an approver."""
    from billops.workflow.adjustments import request_adjustment

    made = request_adjustment(account_id, kind, amount, reason, actor=_acting(by, role),
                              role=role, channel=CHANNEL, entity=entity)
    _print_rows([made.to_dict()], _ADJUSTMENT_COLUMNS, as_json)


@adjustments_app.command("approve")
def adjustments_approve(
    adjustment_id: Annotated[str, typer.Argument(help="the request")],
    by: ByOption,
    role: RoleOption = "approver",
    reason: Annotated[str | None, typer.Option(help="why (break-glass: required, 20+ characters)")] = None,
    break_glass: Annotated[bool, typer.Option(help="approve your own request in an emergency (flagged in the audit)")] = False,
    as_json: JsonOption = False,
) -> None:
    """Approve a pending request (an approver other than the requester, within their tier)."""
    from billops.workflow.adjustments import approve

    decided = approve(adjustment_id, actor=_acting(by, role), role=role, channel=CHANNEL,
                      reason=reason, break_glass=break_glass)
    _print_rows([decided.to_dict()], _ADJUSTMENT_COLUMNS, as_json)


@adjustments_app.command("reject")
def adjustments_reject(
    adjustment_id: Annotated[str, typer.Argument(help="the request")],
    by: ByOption,
    reason: Annotated[str, typer.Option(help="why")],
    role: RoleOption = "approver",
    as_json: JsonOption = False,
) -> None:
    """Reject a pending request (or withdraw your own)."""
    from billops.workflow.adjustments import reject

    decided = reject(adjustment_id, actor=_acting(by, role), role=role, channel=CHANNEL,
                     reason=reason)
    _print_rows([decided.to_dict()], _ADJUSTMENT_COLUMNS, as_json)


@adjustments_app.command("list")
def adjustments_list(
    status: Annotated[str | None, typer.Option(help="PENDING_APPROVAL, APPROVED, REJECTED or POSTED")] = None,
    account_id: Annotated[str | None, typer.Option(help="only this account")] = None,
    as_json: JsonOption = False,
) -> None:
    """Requests, newest first."""
    from billops.workflow.adjustments import list_adjustments

    found = list_adjustments(status, account_id=account_id)
    _print_rows([a.to_dict() for a in found], _ADJUSTMENT_COLUMNS, as_json)


@adjustments_app.command("export-journal")
def adjustments_export_journal(
    by: ByOption,
    out_dir: Annotated[Path | None, typer.Option("--out", help="folder of the journal file (default: $BILLOPS_HOME/journals)")] = None,
    as_json: JsonOption = False,
) -> None:
    """Write the approved adjustments not yet exported as a GL journal file in the ERP's import
    layout, and mark them exported (an approver or an admin; a second export writes nothing)."""
    from billops.auth import active_user
    from billops.workflow.journal import EXPORTER_ROLES, export_journal

    user = active_user(by)
    if user is None:
        raise ForbiddenError(f"user {by}: no such active user")
    if user.role not in EXPORTER_ROLES:
        raise ForbiddenError(f"user {by}: role {user.role} may not export journals "
                             f"({', '.join(sorted(EXPORTER_ROLES))} may)")
    summary = export_journal(out_dir, actor=user.name, channel=CHANNEL)
    if as_json:
        sys.stdout.write(json.dumps(summary.as_dict()) + "\n")
    elif summary.file is None:
        out.print("nothing to export: no approved adjustment waits for its journal")
    else:
        out.print(f"{summary.journals} journal(s), {summary.lines} lines, debits "
                  f"{summary.debits}: {summary.file}", soft_wrap=True)


# ----------------------------------------------------------------------------- audit


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the audit trail's hash chain; exits non-zero naming the first broken row."""
    from billops.ops_store import verify_chain

    report = verify_chain()
    if not report.ok:
        raise BillopsError(f"audit trail broken at audit_id {report.first_broken_audit_id}: "
                           f"{report.reason}")
    out.print(f"audit trail intact: {report.rows} rows, head {report.head_hash}", soft_wrap=True)


_AUDIT_COLUMNS = ("audit_id", "at", "table_name", "record_id", "operation", "actor", "channel",
                  "outcome", "reason")


@audit_app.command("show")
def audit_show(
    record_id: Annotated[str | None, typer.Option(help="only this record (exception, adjustment, user...)")] = None,
    table_name: Annotated[str | None, typer.Option("--table", help="only this table")] = None,
    limit: Annotated[int | None, typer.Option(help="at most this many, oldest first")] = None,
    as_json: JsonOption = False,
) -> None:
    """Audit rows, oldest first."""
    from billops.ops_store import audit_entries

    rows = audit_entries(record_id=record_id, table_name=table_name, limit=limit)
    _print_rows(rows, _AUDIT_COLUMNS, as_json)
