"""Business hours (billops.workflow.calendar): the clock of service levels."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from billops.config import Settings
from billops.errors import BillopsError
from billops.workflow.calendar import add_business_hours

FRIDAY = datetime(2026, 12, 4, 16, 0)


@pytest.mark.parametrize(("start", "hours", "due"), [
    (FRIDAY, 1, datetime(2026, 12, 4, 17, 0)),  # ends exactly at closing
    (FRIDAY, 2, datetime(2026, 12, 7, 9, 0)),  # over the weekend
    (datetime(2026, 12, 5, 3, 0), 9, datetime(2026, 12, 7, 17, 0)),  # starts on a Saturday
    (datetime(2026, 12, 7, 6, 0), 0.5, datetime(2026, 12, 7, 8, 30)),  # before opening
    (datetime(2026, 12, 7, 20, 0), 9, datetime(2026, 12, 8, 17, 0)),  # after closing
])
def test_due_times(start: datetime, hours: float, due: datetime) -> None:
    assert add_business_hours(start, hours, Settings()) == due


def test_holidays_timezone_and_bad_hours() -> None:
    holiday = Settings(business_holidays=[date(2026, 12, 7)])
    assert add_business_hours(FRIDAY, 2, holiday) == datetime(2026, 12, 8, 9, 0)
    # 08:00-17:00 in New York (UTC-5 in December) is 13:00-22:00 UTC
    new_york = Settings(business_timezone="America/New_York")
    assert add_business_hours(FRIDAY, 1, new_york) == datetime(2026, 12, 4, 17, 0)
    with pytest.raises(BillopsError, match="business hours 17-8"):
        add_business_hours(FRIDAY, 1, Settings(business_day_start_hour=17, business_day_end_hour=8))
    with pytest.raises(BillopsError, match="check business_weekdays"):
        add_business_hours(FRIDAY, 1, Settings(business_weekdays=[]))
