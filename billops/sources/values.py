"""Casting source values to the raw-zone contract types, with one-line errors free of PHI."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

# PHI_COLUMNS (billops.phi, re-exported here): an error about them names the column, never the value.
from billops.phi import PHI_COLUMNS
from billops.sources import RecordError

_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_INTEGER = re.compile(r"[+-]?\d+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DECIMAL_TYPE = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")
_BIGINT_MAX = 2**63 - 1


def shown(value: object, column: str) -> str:
    """The value as an error message may show it: masked for PHI columns, shortened otherwise."""
    if column in PHI_COLUMNS:
        return "the value"
    text = str(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def to_decimal(value: object, precision: int, scale: int, column: str) -> Decimal:
    """An exact decimal with at most ``scale`` places; never rounds money silently."""
    if isinstance(value, bool):
        raise RecordError(f"{column}: {shown(value, column)} is not a decimal number")
    if isinstance(value, Decimal | int):
        number = Decimal(value)
    elif isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        number = Decimal(value.strip())
    else:
        raise RecordError(f"{column}: {shown(value, column)} is not a decimal number")
    try:
        quantized = number.quantize(Decimal(1).scaleb(-scale))
    except InvalidOperation as exc:
        raise RecordError(
            f"{column}: {shown(value, column)} does not fit DECIMAL({precision},{scale})"
        ) from exc
    if quantized != number:
        raise RecordError(f"{column}: {shown(value, column)} has more than {scale} decimal places")
    if len(quantized.as_tuple().digits) > precision and quantized != 0:
        raise RecordError(
            f"{column}: {shown(value, column)} does not fit DECIMAL({precision},{scale})"
        )
    return quantized


def to_bigint(value: object, column: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        number = int(value.strip())
    elif isinstance(value, Decimal) and value == value.to_integral_value():
        number = int(value)
    else:
        raise RecordError(f"{column}: {shown(value, column)} is not an integer")
    if abs(number) > _BIGINT_MAX:
        raise RecordError(f"{column}: {shown(value, column)} is out of the BIGINT range")
    return number


def to_date(value: object, column: str) -> date:
    if isinstance(value, datetime):
        raise RecordError(f"{column}: {shown(value, column)} is a timestamp, not a date")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise RecordError(f"{column}: {shown(value, column)} is not a date (YYYY-MM-DD)")


def to_timestamp(value: object, column: str) -> datetime:
    """A naive UTC timestamp; offsets are converted to UTC, values without one are UTC already."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and value.strip()[:1].isdigit():
        if value[-1:] == "Z" and value[10:11] == "T":  # the common form, UTC already
            try:
                naive = datetime.fromisoformat(value[:-1])
            except ValueError:
                naive = None  # the general path below gives the error
            if naive is not None and naive.tzinfo is None:
                return naive
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise RecordError(
                f"{column}: {shown(value, column)} is not an ISO 8601 timestamp"
            ) from exc
    else:
        raise RecordError(f"{column}: {shown(value, column)} is not an ISO 8601 timestamp")
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def to_boolean(value: object, column: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    raise RecordError(f"{column}: {shown(value, column)} is not a boolean (true/false)")


# C0 controls other than tab, LF and CR, and DEL: never part of a text value (a NUL in a VARCHAR
# truncates it in some clients and hides text from checks and reviews).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def reject_control_characters(value: str, column: str) -> str:
    """``value`` unchanged, or a RecordError naming the column and the first control character
    (its code point only, never the value)."""
    if value.isprintable():  # fast path: no control character at all (C code, no regex)
        return value
    found = _CONTROL.search(value)
    if found is not None:
        raise RecordError(
            f"{column}: contains control character U+{ord(found.group()):04X}"
        )
    return value


def printable(text: str) -> str:
    """``text`` with each control character written as an escape (``\\x00``), for keeping the
    original text of a rejected record without storing the characters it was rejected for."""
    if text.isprintable():
        return text
    return _CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}", text)


def to_varchar(value: object, column: str) -> str:
    if isinstance(value, dict | list):
        raise RecordError(f"{column}: expected a single value, found a JSON {type(value).__name__}")
    if isinstance(value, bool):
        return "true" if value else "false"
    return reject_control_characters(str(value), column)


def cast(value: object, type_name: str, column: str) -> object:
    """``value`` as the Python value of DuckDB type ``type_name``; empty text is NULL."""
    return caster(type_name)(value, column)


Caster = Callable[[object, str], object]
_CASTERS: dict[str, Caster] = {}
_CACHE_LIMIT = 1 << 16


def _text_caster(value: object, column: str) -> object:
    if value is None or value == "":
        return None
    if type(value) is str:
        return reject_control_characters(value, column)  # type: ignore[arg-type]
    return to_varchar(value, column)


def _typed_caster(convert: Callable[[object, str], object], memo: bool) -> Caster:
    """NULL for missing or blank text, else ``convert``; a text or number that converts is
    memoized when ``memo`` (feeds repeat the same dates, times and amounts many times, the
    results are immutable, and equal numbers cast to the same value)."""
    known: dict[str, object] = {}

    def cast_value(value: object, column: str) -> object:
        if value is None:
            return None
        kind = value.__class__
        if kind is str or kind is Decimal or kind is int:  # never bool: True == 1
            hit = known.get(value)  # type: ignore[call-overload]
            if hit is not None:
                return hit
            if kind is str and not value.strip():  # type: ignore[attr-defined]
                return None
            result = convert(value, column)
            if memo and len(known) < _CACHE_LIMIT:
                known[value] = result  # type: ignore[index]
            return result
        return convert(value, column)

    return cast_value


def caster(type_name: str) -> Caster:
    """The function that casts a source value to DuckDB type ``type_name`` (see :func:`cast`)."""
    found = _CASTERS.get(type_name)
    if found is not None:
        return found
    if type_name == "VARCHAR":
        found = _text_caster
    elif type_name == "BIGINT":
        found = _typed_caster(to_bigint, memo=False)
    elif type_name == "DATE":
        found = _typed_caster(to_date, memo=True)
    elif type_name == "TIMESTAMP":
        found = _typed_caster(to_timestamp, memo=True)
    elif type_name == "BOOLEAN":
        found = _typed_caster(to_boolean, memo=True)
    else:
        match = _DECIMAL_TYPE.fullmatch(type_name)
        if not match:
            raise TypeError(f"unsupported contract type {type_name}")
        precision, scale = int(match.group(1)), int(match.group(2))
        found = _typed_caster(
            lambda value, column: to_decimal(value, precision, scale, column), memo=True
        )
    _CASTERS[type_name] = found
    return found


_ROW_CASTERS: dict[int, tuple[dict[str, str], list[tuple[str, Caster, bool]]]] = {}


def cast_row(values: dict[str, object], columns: dict[str, str]) -> dict[str, object]:
    """Every contract column of ``columns`` cast from ``values`` (missing keys are NULL)."""
    entry = _ROW_CASTERS.get(id(columns))
    if entry is None or entry[0] is not columns:
        casts = [(column, caster(kind), kind == "VARCHAR") for column, kind in columns.items()]
        entry = _ROW_CASTERS[id(columns)] = (columns, casts)
    get = values.get
    row: dict[str, object] = {}
    for column, cast_value, text in entry[1]:
        value = get(column)
        # non-empty printable text for a VARCHAR column is already its value
        row[column] = (
            value
            if text and value.__class__ is str and value and value.isprintable()  # type: ignore[attr-defined]
            else cast_value(value, column)
        )
    return row
