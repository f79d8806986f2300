"""The vocabularies of the contract (docs/architecture.md), each defined once: the exception types,
the work queues and the owner teams. The scorecard, the mart checks and the quality rules read
them; tests/test_rules_docs.py ties the types to the routing seed and docs/rules.md, and
tests/test_vocabularies.py ties the teams to the seed and dbt's accepted values."""

from __future__ import annotations

EXCEPTION_TYPES: tuple[str, ...] = (
    "COVERAGE_MISMATCH",
    "COVERAGE_INACTIVE",
    "MISSING_PRIOR_AUTH",
    "UNBILLED_CHARGE",
    "DUPLICATE_CHARGE",
    "LATE_CHARGE",
    "CLAIM_NO_RESPONSE",
    "DENIAL",
    "UNDERPAYMENT",
    "REMIT_NOT_IN_GL",
    "GL_AMOUNT_MISMATCH",
    "GL_DUPLICATE_POSTING",
    "DEPOSIT_MISMATCH",
    "STATEMENT_STALE_COVERAGE",
    "PATIENT_BALANCE_MISMATCH",
    "CREDIT_BALANCE",
    "REMIT_UNBALANCED",
    "WRITE_OFF_UNAPPROVED",
)

# The work queues, one per business team: the routing seed (dbt_project/seeds/exception_routing.csv)
# sends every exception type to one, and dbt's accepted values of owner_team are exactly these
# (tests/test_vocabularies.py).
WORK_QUEUES: tuple[str, ...] = ("PATIENT_ACCESS", "CODING", "BILLING", "CASH_POSTING", "FINANCE")
# Every team that owns a rule or a break: the work queues' teams, and data engineering, which owns
# the breaks of the feeds and the warehouse themselves.
OWNER_TEAMS: frozenset[str] = frozenset({*WORK_QUEUES, "DATA_ENGINEERING"})
