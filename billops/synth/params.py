"""Generation parameters: scales, the simulated horizon and the landing extract times."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property, lru_cache

from billops.errors import BillopsError

DEFAULT_START = "2026-10"
DEFAULT_DEFECT_RATE = 0.03

# Extract hour (UTC) of each system's month-end batch, on the first day of the next month.
# Business events are simulated between 06:00 and 22:00 UTC only, so the extracts of one
# month-end see the same set of events whatever their order.
EXTRACT_HOUR: dict[str, int] = {"ehr": 2, "rcm": 3, "erp": 4}
SYSTEMS: tuple[str, ...] = ("ehr", "rcm", "erp")


@dataclass(frozen=True)
class Scale:
    name: str
    patients: int
    months: int
    hospitals: int
    clinics_per_hospital: int
    cadence: str = "monthly"  # default landing cadence, see Horizon.extracts
    # patients are simulated in this many parallel processes (patient number modulo parts);
    # fixed per scale, never taken from the machine, so that the output stays a function of
    # the arguments
    parts: int = 1


CADENCES = ("monthly", "daily")
# Intraday extracts on the last simulated day (hours, UTC) when the cadence is daily.
INTRADAY_HOURS = tuple(range(7, 23))
INTRADAY_MINUTE: dict[str, int] = {"ehr": 0, "rcm": 5, "erp": 10}


SCALES: dict[str, Scale] = {
    # tiny keeps two GL entities so that per-entity views mean something
    "tiny": Scale("tiny", patients=200, months=1, hospitals=2, clinics_per_hospital=2),
    "small": Scale("small", patients=2_000, months=3, hospitals=3, clinics_per_hospital=4),
    # one month of the whole regional system: about 60,000 accounts
    "medium": Scale(
        "medium",
        patients=42_000,
        months=1,
        hospitals=3,
        clinics_per_hospital=4,
        cadence="daily",
        parts=2,
    ),
    # twelve months of medium (about 720,000 accounts): a patient visits about 5 times a year
    "large": Scale(
        "large",
        patients=136_000,
        months=12,
        hospitals=3,
        clinics_per_hospital=4,
        cadence="daily",
        parts=2,
    ),
}
PLANNED_SCALES: tuple[str, ...] = ()


@dataclass(frozen=True)
class Horizon:
    """The simulated months and the extract time of each system's batch per month-end."""

    start: date  # first day of the first month
    months: int
    cadence: str = "monthly"

    @property
    def periods(self) -> list[str]:
        return [f"{d.year:04d}-{d.month:02d}" for d in self.month_starts]

    @property
    def month_starts(self) -> list[date]:
        out = []
        y, m = self.start.year, self.start.month
        for _ in range(self.months):
            out.append(date(y, m, 1))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    @property
    def end(self) -> date:
        """Last simulated service day (the last day of the last month)."""
        last = self.month_starts[-1]
        return date(last.year, last.month, calendar.monthrange(last.year, last.month)[1])

    def extracts(self, system: str) -> list[datetime]:
        """Extract time of each batch of ``system``, in order.

        monthly: one batch after each month-end. daily: one nightly batch after each day, plus
        hourly intraday batches during the last day (before its nightly batch)."""
        return list(_extracts(self, system))

    def _extracts(self, system: str) -> list[datetime]:
        if self.cadence == "daily":
            out = [
                datetime.combine(self.start + timedelta(days=n + 1), time(EXTRACT_HOUR[system]))
                for n in range((self.end - self.start).days + 1)
            ]
            intraday = [
                datetime.combine(self.end, time(h, INTRADAY_MINUTE[system])) for h in INTRADAY_HOURS
            ]
            return out[:-1] + intraday + out[-1:]
        out = []
        for first in self.month_starts:
            days = calendar.monthrange(first.year, first.month)[1]
            out.append(
                datetime(first.year, first.month, days, EXTRACT_HOUR[system]) + timedelta(days=1)
            )
        return out

    @cached_property
    def as_of(self) -> datetime:
        """The latest extract of all systems: the as-of time of the generated data."""
        return max(_extracts(self, s)[-1] for s in SYSTEMS)


@lru_cache(maxsize=64)
def _extracts(horizon: Horizon, system: str) -> tuple[datetime, ...]:
    return tuple(horizon._extracts(system))


def resolve_scale(scale: str) -> Scale:
    if scale in SCALES:
        return SCALES[scale]
    if scale in PLANNED_SCALES:
        raise BillopsError(f"scale {scale!r} is not generated yet; use one of: {', '.join(SCALES)}")
    raise BillopsError(f"unknown scale {scale!r}; use one of: {', '.join(SCALES)}")


def resolve_horizon(
    scale: Scale, start: str | None, months: int | None, cadence: str | None = None
) -> Horizon:
    text = DEFAULT_START if start is None else start
    match = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
        raise BillopsError(f"bad --start {text!r}: expected a month YYYY-MM, e.g. 2026-10")
    n = scale.months if months is None else months
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise BillopsError(f"bad --months {months!r}: expected a whole number of months >= 1")
    if n > 120:
        raise BillopsError(f"bad --months {n}: at most 120 months")
    how = scale.cadence if cadence is None else cadence
    if how not in CADENCES:
        raise BillopsError(f"bad cadence {how!r}; use one of: {', '.join(CADENCES)}")
    return Horizon(date(int(match.group(1)), int(match.group(2)), 1), n, how)


def validate_defect_rate(rate: float) -> float:
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 0.5:
        raise BillopsError(f"bad defect rate {rate!r}: expected a fraction between 0 and 0.5")
    return float(rate)


def batch_id(ts: datetime) -> str:
    return ts.strftime("%Y%m%dT%H%M%SZ")


def iso(ts: datetime) -> str:
    """UTC timestamp to the second, e.g. 2026-10-01T08:00:00Z."""
    # isoformat() without timespec is twice as fast; simulated times are whole seconds
    return ts.isoformat() + "Z" if not ts.microsecond else ts.isoformat("T", "seconds") + "Z"
