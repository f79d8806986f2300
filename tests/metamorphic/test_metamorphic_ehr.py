"""Issue 21 point 9, EHR encodings: the same health system, exported another way, publishes and
raises the same exceptions (marts.billing_exceptions as a multiset of exception_type,
account_id, trace_number, journal_id, amount_at_risk). The harness is in conftest.py."""

from __future__ import annotations

import pytest
import transforms as T

pytestmark = pytest.mark.integration


def test_identities_by_identifier(same_exceptions) -> None:
    """Point 1: opaque logical ids; account number as Encounter AN identifier or on an Account;
    patient key as the MR identifier."""
    same_exceptions(T.identities_by_identifier)


def test_bulk_export_names(same_exceptions) -> None:
    """Point 2: NDJSON split into Patient.ndjson, Patient.1.ndjson, Patient_000.ndjson, ..."""
    same_exceptions(T.bulk_export_names)


def test_optional_elements(same_exceptions) -> None:
    """Point 7: no subscriberId, self-pay as payor = Patient or no Coverage, no period.end."""
    same_exceptions(T.optional_elements)
