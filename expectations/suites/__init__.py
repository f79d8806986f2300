"""Every suite ``billops check`` runs, in order: raw sources first, then marts."""

from expectations.spec import SuiteSpec
from expectations.suites import (
    account_reconciliation,
    marts,
    raw_claims,
    raw_ehr,
    raw_erp,
    raw_rcm,
    raw_reference,
    raw_remittance,
)

SUITES: tuple[SuiteSpec, ...] = (
    *raw_ehr.SUITES,
    *raw_claims.SUITES,
    *raw_remittance.SUITES,
    *raw_rcm.SUITES,
    *raw_reference.SUITES,
    *raw_erp.SUITES,
    account_reconciliation.SUITE,
    *marts.SUITES,
)
RAW_SUITES = tuple(s for s in SUITES if s.layer == "raw")
MART_SUITES = tuple(s for s in SUITES if s.layer == "mart")
SOURCES = tuple(dict.fromkeys(s.source for s in SUITES))
