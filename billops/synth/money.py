"""Money as integer cents: no float ever takes part in an amount."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache


def cents(text: str) -> int:
    """'12.34' -> 1234 (exact)."""
    return int((Decimal(text) * 100).to_integral_value(rounding=ROUND_HALF_UP))


@lru_cache(maxsize=1 << 16)
def fmt(amount: int) -> str:
    """1234 -> '12.34', -5 -> '-0.05' (CSV and X12 amounts)."""
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), 100)
    return f"{sign}{whole}.{frac:02d}"


@lru_cache(maxsize=1 << 16)
def fmt_x12(amount: int) -> str:
    """X12 decimal: no trailing zeros after the point ('12.30' -> '12.3', '12.00' -> '12')."""
    text = fmt(amount)
    return text.rstrip("0").rstrip(".") if "." in text else text


def as_number(amount: int) -> float:
    """A JSON number for FHIR Money.value; c/100 prints as its exact two-decimal value."""
    return amount / 100


def mul_fraction(amount: int, fraction: str) -> int:
    """amount x fraction, rounded half up (away from zero) to the cent, in integers."""
    num, den = _ratio(fraction)
    sign = -1 if (amount < 0) != (num < 0) else 1
    return sign * ((2 * abs(amount * num) + den) // (2 * den))


@lru_cache(maxsize=256)
def _ratio(fraction: str) -> tuple[int, int]:
    """'0.65' -> (65, 100), exactly."""
    return Decimal(fraction).as_integer_ratio()
