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
    "reject_adjustment": CHECKERS,
    "read_audit": OVERSEERS,
    # Every role reaches the route; the PHI store grants only BILLOPS_PHI_ROLES and audits
    # every attempt, refused ones too (a refusal is a 403).
    "lookup_patient": EVERYONE,
}


def allowed(route: str, role: str) -> bool:
    return role in ROUTE_ROLES.get(route, ())
