"""Business-time helpers: every simulated event happens between 06:00 and 22:00 UTC."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from billops.synth.draw import below, rint

DAY_OPEN = 6
DAY_CLOSE = 22


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second)


def office_time(
    rng: random.Random, day: date, first_hour: int = 8, last_hour: int = 17
) -> datetime:
    """A time on ``day`` between first_hour:00 and last_hour:59, to the second."""
    return at(day, rint(rng, first_hour, last_hour), below(rng, 60), below(rng, 60))


def later(rng: random.Random, ts: datetime, min_minutes: int, max_minutes: int) -> datetime:
    """ts plus a random delay; pushed to the next morning if it would fall outside the day."""
    out = ts + timedelta(minutes=rint(rng, min_minutes, max_minutes), seconds=below(rng, 60))
    if out.hour < DAY_OPEN or out.hour >= DAY_CLOSE:
        day = out.date() if out.hour < DAY_OPEN else out.date() + timedelta(days=1)
        out = office_time(rng, day, 8, 10)
    return out


def next_weekday(day: date, weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)) -> date:
    """The first day on or after ``day`` whose weekday is in ``weekdays``."""
    while day.weekday() not in weekdays:
        day += timedelta(days=1)
    return day
