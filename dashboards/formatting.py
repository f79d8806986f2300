"""Display formats shared by the dashboard pages."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pandas as pd

MISSING = "—"


def money(value: float | Decimal | None) -> str:
    """US dollars with cents and thousands separators: ``-$1,234.50``."""
    if value is None or pd.isna(value):
        return MISSING
    amount = round(float(value), 2)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def count(value: int | float | None) -> str:
    """A whole number with thousands separators."""
    if value is None or pd.isna(value):
        return MISSING
    return f"{int(value):,}"


def timestamp_utc(value: datetime | None) -> str:
    """A warehouse timestamp (naive, UTC) to the minute; the label says UTC."""
    if value is None:
        return MISSING
    return f"{value:%Y-%m-%d %H:%M}"
