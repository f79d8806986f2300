"""Business hours: the clock of service levels (settings ``business_*``).

A due time is the start plus so many business hours of this calendar: weekdays
(``business_weekdays``, Monday = 0), between ``business_day_start_hour`` and
``business_day_end_hour`` in ``business_timezone``, skipping ``business_holidays``. Times in and
out are naive UTC, like the data's as-of time they start from.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from billops.config import Settings
from billops.errors import BillopsError

_MAX_DAYS = 3660  # an SLA that cannot be met within ten years is a configuration error


def _is_business_day(day: date, settings: Settings) -> bool:
    return day.weekday() in settings.business_weekdays and day not in settings.business_holidays


def add_business_hours(start: datetime, hours: float, settings: Settings) -> datetime:
    """``start`` (naive UTC) plus ``hours`` business hours, as naive UTC."""
    zone = ZoneInfo(settings.business_timezone)
    opens, closes = settings.business_day_start_hour, settings.business_day_end_hour
    if not 0 <= opens < closes <= 24:
        raise BillopsError(f"business hours {opens}-{closes}: expected 0 <= start < end <= 24")
    local = start.replace(tzinfo=UTC).astimezone(zone)
    remaining = timedelta(hours=hours)
    day = local.date()
    for _ in range(_MAX_DAYS):
        if _is_business_day(day, settings):
            day_open = datetime.combine(day, time(opens), zone)
            day_close = (datetime.combine(day, time(0), zone) + timedelta(hours=closes))
            begin = max(local, day_open)
            if begin < day_close:
                if begin + remaining <= day_close:
                    return (begin + remaining).astimezone(UTC).replace(tzinfo=None)
                remaining -= day_close - begin
        day += timedelta(days=1)
        local = max(local, datetime.combine(day, time(0), zone))
    raise BillopsError(f"an SLA of {hours} business hours ends more than {_MAX_DAYS} days out; "
                       "check business_weekdays and business_holidays")
