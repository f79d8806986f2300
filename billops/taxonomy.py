"""The exception taxonomy of the contract (docs/architecture.md), defined once: the scorecard and the
mart checks read it; tests/test_rules_docs.py ties it to the routing seed and docs/rules.md."""

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
