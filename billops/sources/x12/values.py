"""X12 element values: dates, times, amounts and numbers as the raw tables hold them, and the
segment helpers the 837 and 835 extractors share.

A value that cannot be read raises :class:`RecordError` naming where it is (``DTP*472``,
``CLM02``); a value that may be PHI (a date of birth or of service) is not quoted in it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from billops.sources import RecordError
from billops.sources.values import to_decimal
from billops.sources.x12.tokenizer import Segment

# Parsed dates and amounts by their text: feeds repeat the same few values (service dates,
# prices, adjustment amounts) thousands of times. Only values that parse are kept; bounded.
_CACHE_LIMIT = 1 << 16
_DATES: dict[str, date] = {}
_AMOUNTS: dict[str, Decimal] = {}


def x12_date(value: str, where: str, phi: bool = False) -> date | None:
    """CCYYMMDD, or the start of a CCYYMMDD-CCYYMMDD range; empty is NULL."""
    known = _DATES.get(value)
    if known is not None:
        return known
    text = value.strip()
    if not text:
        return None
    head = text.split("-", 1)[0] if "-" in text else text
    try:
        if len(head) == 8 and head.isdigit():
            parsed = date(int(head[:4]), int(head[4:6]), int(head[6:]))
            if len(_DATES) < _CACHE_LIMIT:
                _DATES[value] = parsed
            return parsed
    except ValueError:
        pass
    raise RecordError(f"{where}: {'the value' if phi else repr(text)} is not a CCYYMMDD date")


def x12_range_end(value: str, where: str, phi: bool = False) -> date | None:
    """The end of a CCYYMMDD-CCYYMMDD range, or the single date."""
    if "-" in value:
        return x12_date(value.split("-", 1)[1], where, phi)
    return x12_date(value, where, phi)


def x12_amount(value: str, where: str) -> Decimal | None:
    """A monetary amount or quantity (DECIMAL(18,2)); empty is NULL."""
    known = _AMOUNTS.get(value)
    if known is not None:
        return known
    if not value.strip():
        return None
    parsed = to_decimal(value, 18, 2, where)
    if len(_AMOUNTS) < _CACHE_LIMIT:
        _AMOUNTS[value] = parsed
    return parsed


def readable_amount(value: str) -> Decimal | None:
    """An amount for a Reject's ``amount``: None when it is empty or cannot be read."""
    try:
        return x12_amount(value, "amount")
    except RecordError:
        return None


def x12_int(value: str, where: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit():
        raise RecordError(f"{where}: {value!r} is not a number")
    return int(value)


def x12_timestamp(day: str, hhmm: str, where: str) -> datetime | None:
    """A CCYYMMDD date and an HHMM[SS[DD]] time (empty: midnight); an empty date is NULL."""
    start = x12_date(day, where)
    if start is None:
        return None
    digits = hhmm.strip()
    if digits and (not digits.isdigit() or len(digits) < 4):
        raise RecordError(f"{where}: time {digits!r} is not HHMM[SS[DD]]")
    hour, minute = (int(digits[:2]), int(digits[2:4])) if digits else (0, 0)
    second = int(digits[4:6]) if len(digits) >= 6 else 0
    try:
        return datetime(start.year, start.month, start.day, hour, minute, second)
    except ValueError as exc:
        raise RecordError(f"{where}: time {digits!r} is not a valid time") from exc


def joined_modifiers(composite: list[str]) -> str | None:
    """The procedure modifiers of a procedure composite (SV101, SV202, SVC01), joined with ``,``."""
    mods = [m for m in composite[2:6] if m]
    return ",".join(mods) if mods else None


def segments_text(segments: list[Segment]) -> str:
    """The segments as they can be shown in a reject's original text."""
    return "".join(seg.text for seg in segments)


def first_flaw(segments: Iterable[Segment]) -> Segment | None:
    """The first segment that must not load (a :class:`FlawedSegment`), if any."""
    return next((seg for seg in segments if seg.problem is not None), None)
