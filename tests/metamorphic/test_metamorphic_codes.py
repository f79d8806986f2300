"""Issue 21 point 9, code and id encodings: the same health system, exported another way,
publishes and raises the same exceptions. The harness is in conftest.py."""

from __future__ import annotations

import pytest
import transforms as T

pytestmark = pytest.mark.integration


def test_procedure_codings(same_exceptions) -> None:
    """Point 5: a local chargemaster coding before the HCPCS one; priceOverride left out where
    it is the chargemaster's price times the quantity."""
    same_exceptions(T.procedure_codings)


def test_no_line_control_numbers(same_exceptions) -> None:
    """Point 3: 837s (and so 835s) without 2400 REF*6R."""
    same_exceptions(T.no_line_control_numbers)


def test_payer_ids_crosswalked(same_exceptions) -> None:
    """Point 4: EHR payer ids of its own with payer_crosswalk.csv; member ids spelled otherwise."""
    same_exceptions(T.payer_ids_crosswalked)
