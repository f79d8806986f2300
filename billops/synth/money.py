"""Money as integer cents: no float ever takes part in an amount."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def cents(text: str) -> int:
    """'12.34' -> 1234 (exact)."""
    return int((Decimal(text) * 100).to_integral_value(rounding=ROUND_HALF_UP))


def fmt(amount: int) -> str:
    """1234 -> '12.34', -5 -> '-0.05' (CSV and X12 amounts)."""
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), 100)
    return f"{sign}{whole}.{frac:02d}"


def fmt_x12(amount: int) -> str:
    """X12 decimal: no trailing zeros after the point ('12.30' -> '12.3', '12.00' -> '12')."""
    text = fmt(amount)
    return text.rstrip("0").rstrip(".") if "." in text else text


def as_number(amount: int) -> float:
    """A JSON number for FHIR Money.value; c/100 prints as its exact two-decimal value."""
    return amount / 100


def mul_fraction(amount: int, fraction: str) -> int:
    """amount x fraction, rounded half up to the cent."""
    return int((Decimal(amount) * Decimal(fraction)).to_integral_value(rounding=ROUND_HALF_UP))
