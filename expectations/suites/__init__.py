"""Every suite ``billops check`` runs, in order."""

from expectations.spec import SuiteSpec
from expectations.suites import account_reconciliation, raw_charge_items

SUITES: tuple[SuiteSpec, ...] = (raw_charge_items.SUITE, account_reconciliation.SUITE)
