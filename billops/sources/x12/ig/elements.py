"""Element checks of one segment against its compiled rule, as pyx12's map_if checks them:
usage (required, not used), length, control characters, trailing spaces, listed and external
codes, data types (N, R, ID, AN, DT, D8, TM), composites and the syntax rules (P, R, C, L, E).

Errors are ``(code, refdes, message)``, refdes "" for an error pyx12 reports on the segment
(composites, syntax rules); messages never hold an element's value.
"""

from __future__ import annotations

import re

from billops.sources.x12.ig.maps import CompositeRule, ElementRule, SegmentRule

EleError = tuple[str, str, str]

_N = re.compile(r"-?[0-9]+")
_R = re.compile(r"-?[0-9]*(\.[0-9]+)?")
# pyx12's extended character set for 5010 (its default "E" charset)
_BAD_AN = re.compile(r"""[^A-Z0-9!"&'()*+,\-\./:;?= a-z%~@\[\]_{}\\|<>^`#$]""")
_CONTROL = re.compile("[\x01-\x07\x09-\x0d\x11-\x17\x1c-\x1f]")
_DIGITS = re.compile(r"[0-9]+")
_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def valid_time(value: str) -> bool:
    if not _DIGITS.fullmatch(value) or value[0:2] > "23" or value[2:4] > "59":
        return False
    return len(value) <= 4 or (6 <= len(value) <= 8 and value[4:6] <= "59")


def valid_date(data_type: str, value: str) -> bool:
    if (data_type == "D8" and len(value) != 8) or (data_type == "D6" and len(value) != 6):
        return False
    if not _DIGITS.fullmatch(value) or len(value) not in (6, 8, 12):
        return False
    if len(value) == 6:
        value = ("20" if int(value[0:2]) < 50 else "19") + value
    year, month, day = int(value[0:4]), int(value[4:6]), int(value[6:8])
    if year < 1800 or not 1 <= month <= 12:
        return False
    last = _DAYS[month - 1]
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        last = 29
    return 1 <= day <= last and (len(value) != 12 or valid_time(value[8:12]))


def valid_type(data_type: str, value: str) -> bool:
    if not data_type or data_type == "B":
        return True
    if data_type[0] == "N":
        return _N.fullmatch(value) is not None
    if data_type == "R":
        return _R.fullmatch(value) is not None
    if data_type in ("ID", "AN"):
        return _BAD_AN.search(value) is None
    if data_type == "RD8":
        parts = value.split("-")
        return len(parts) == 2 and valid_date("D8", parts[0]) and valid_date("D8", parts[1])
    if data_type in ("DT", "D8", "D6"):
        return valid_date(data_type, value)
    if data_type == "TM":
        return valid_time(value)
    return False


def _type_error(rule: ElementRule) -> EleError:
    if rule.data_type in ("RD8", "DT", "D8", "D6"):
        return "8", rule.refdes, f"{rule.refdes} holds an invalid date"
    if rule.data_type == "TM":
        return "9", rule.refdes, f"{rule.refdes} holds an invalid time"
    return "6", rule.refdes, f"{rule.refdes} (type {rule.data_type}) holds an invalid character"


def check_value(
    rule: ElementRule, value: str, external: dict[str, frozenset[str]]
) -> list[EleError]:
    """Errors of one element's value (pyx12's element_if.is_valid_errors)."""
    if not value:
        if rule.usage == "R" and not rule.first_of_optional_composite:
            return [("1", rule.refdes, f"Mandatory data element {rule.refdes} is missing")]
        return []
    if rule.usage == "N":
        return [("10", rule.refdes, f"Data element {rule.refdes} is marked as Not Used")]
    out: list[EleError] = []
    data_type = rule.data_type
    measured = len(value)
    if data_type and (data_type == "R" or data_type[0] == "N"):
        measured = len(value.replace("-", "").replace(".", ""))
    if measured < rule.min_len:
        out.append(("4", rule.refdes, f"{rule.refdes} is too short: {measured} < {rule.min_len}"))
    if measured > rule.max_len:
        out.append(("5", rule.refdes, f"{rule.refdes} is too long: {measured} > {rule.max_len}"))
    if _CONTROL.search(value):
        out.append(("6", rule.refdes, f"{rule.refdes} holds a control character"))
        return out
    if data_type in ("AN", "ID") and value[-1] == " " and len(value.rstrip()) >= rule.min_len:
        out.append(("6", rule.refdes, f"{rule.refdes} has unnecessary trailing spaces"))
    if (rule.codes is not None or rule.external is not None) and not _code_ok(
        rule, value, external
    ):
        shown = f" ({value})" if data_type == "ID" else ""  # code values are not PHI
        out.append(("7", rule.refdes, f"Not a valid code{shown} for {rule.refdes}"))
    if not valid_type(data_type, value):
        out.append(_type_error(rule))
    if rule.regex is not None and rule.regex.search(value) is None:
        out.append(("7", rule.refdes, f"{rule.refdes} does not match the guide's pattern"))
    return out


_DATE_TYPES = ("RD8", "DT", "D8", "D6")


def check_type_list(rule: ElementRule, value: str, types: tuple[str, ...]) -> list[EleError]:
    """pyx12's check of a 1251 value against the formats its 1250 qualifier allows (DTP03 against
    DTP02's value): an error only when none fits and a date or time format was among them."""
    if not value or not types or any(valid_type(t, value) for t in types):
        return []
    if "TM" in types:
        return [("9", rule.refdes, f"{rule.refdes} holds an invalid time")]
    if any(t in types for t in _DATE_TYPES):
        return [("8", rule.refdes, f"{rule.refdes} holds an invalid date")]
    return []


def _code_ok(rule: ElementRule, value: str, external: dict[str, frozenset[str]]) -> bool:
    if rule.codes is not None and value in rule.codes:
        return True
    return rule.external is not None and value in external.get(rule.external, ())


def check_composite(
    rule: CompositeRule, value: str, component: str, external: dict[str, frozenset[str]]
) -> list[EleError]:
    parts = value.split(component) if value else []
    if not any(parts):
        if rule.usage == "R":
            return [("1", "", f"Mandatory composite {rule.refdes} is missing")]
        return []
    if rule.usage == "N":
        return [("5", "", f"Composite {rule.refdes} is marked as Not Used")]
    out: list[EleError] = []
    components = rule.components
    if len(parts) > len(components):
        out.append(("3", "", f"Too many sub-elements in composite {rule.refdes}"))
    for index, sub in enumerate(components):
        out += check_value(sub, parts[index] if index < len(parts) else "", external)
    return out


def _present(elements: list[str], index: int) -> bool:
    return index < len(elements) and elements[index] != ""


def check_syntax(rule: SegmentRule, elements: list[str]) -> list[EleError]:
    out: list[EleError] = []
    for kind, idx in rule.syntax:
        if len(idx) < 2:
            continue
        count = sum(1 for i in idx if _present(elements, i))
        where = ""  # pyx12 reports a syntax error on the segment
        if kind == "P" and count not in (0, len(idx)):
            out.append(("2", where, f"Syntax {kind}: if any is present, all are required"))
        elif kind == "R" and count == 0:
            out.append(("2", where, f"Syntax {kind}: at least one element is required"))
        elif kind == "E" and count > 1:
            out.append(("10", where, f"Syntax {kind}: at most one may be present"))
        elif kind in "CL" and _present(elements, idx[0]):
            rest = sum(1 for i in idx[1:] if _present(elements, i))
            if (kind == "C" and rest != len(idx) - 1) or (kind == "L" and rest == 0):
                out.append(("2", where, f"Syntax {kind}: conditional element missing"))
    return out
