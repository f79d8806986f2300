"""Issue 21 point 9, re-sent remittances and every encoding at once: the same health system
publishes and raises the same exceptions. The harness is in conftest.py."""

from __future__ import annotations

import pytest
import transforms as T

pytestmark = pytest.mark.integration


def test_remittances_resent(same_exceptions) -> None:
    """Point 6: every 835 transaction set re-sent in a new interchange in a later rcm batch
    posts once and raises nothing."""
    same_exceptions(T.remittances_resent)


def test_every_transform_at_once(same_exceptions) -> None:
    """Points 1-7 together, in the order of transforms.TRANSFORMS."""
    same_exceptions(T.every_transform)
