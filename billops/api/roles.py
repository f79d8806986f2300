"""Which roles may call which route: the one table (docs/api.md prints it and a test compares).

Keys are the routes' names (their OpenAPI ``operationId``). A route that is not listed here and
not public is refused to every role. The workflow functions check again what only they can
know (the requester may not approve; an approver's dollar tier; PHI roles in the PHI store).
"""

from __future__ import annotations

from billops.auth import ROLES

EVERYONE = tuple(ROLES)
MONEY_MAKERS = ("billing_specialist", "approver", "admin")
CHECKERS = ("approver",)
OVERSEERS = ("approver", "admin")

# Routes anyone may call without a token; they read no data.
PUBLIC_ROUTES = frozenset({"health"})

ROUTE_ROLES: dict[str, tuple[str, ...]] = {
    "list_exceptions": EVERYONE,
    "get_exception": EVERYONE,
    "list_queues": EVERYONE,
    "act_on_exception": EVERYONE,
    "request_adjustment": MONEY_MAKERS,
    "list_adjustments": EVERYONE,
    "get_adjustment": EVERYONE,
    "approve_adjustment": CHECKERS,
    # An approver rejects; a requester may withdraw their own request by rejecting it.
    "reject_adjustment": MONEY_MAKERS,
    "read_audit": OVERSEERS,
    # Every role reaches the route; the PHI store grants only BILLOPS_PHI_ROLES and audits
    # every attempt, refused ones too (a refusal is a 403).
    "lookup_patient": EVERYONE,
}

# What the workflow or the PHI store checks beyond the role (the table's last column).
ROUTE_NOTES = {
    "health": "no token; reads nothing",
    "act_on_exception": "each action's own roles (analysts only comment: docs/workflow.md); "
                        "409 on a stale version or an illegal transition",
    "request_adjustment": "money: not analysts",
    "approve_adjustment": "403 for the requester (unless break-glass) and above the "
                          "approver's tier",
    "reject_adjustment": "others than approvers only withdraw their own request",
    "read_audit": "never holds PHI or tokens",
    "lookup_patient": "PHI only for `BILLOPS_PHI_ROLES` (default billing_specialist); "
                      "others 403; every attempt audited",
}


def allowed(route: str, role: str) -> bool:
    return role in ROUTE_ROLES.get(route, ())


def roles_table(routes: list[tuple[str, str, str]]) -> str:
    """The Markdown table of docs/api.md from (method, path, name) of the app's routes."""
    lines = ["| route | name | " + " | ".join(ROLES) + " | beyond the role |",
             "|---|---|" + "---|" * (len(ROLES) + 1)]
    for method, path, name in routes:
        if name in PUBLIC_ROUTES:
            marks = ["public"] * len(ROLES)
        else:
            marks = ["yes" if allowed(name, role) else "—" for role in ROLES]
        note = ROUTE_NOTES.get(name, "")
        lines.append(f"| `{method} {path}` | `{name}` | " + " | ".join(marks) + f" | {note} |")
    return "\n".join(lines) + "\n"
