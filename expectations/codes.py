"""Code-set checks that no built-in expectation covers: NPI check digits and ICD-10-CM codes."""

from __future__ import annotations

from functools import lru_cache

NPI_PREFIX = "80840"  # the card-issuer prefix the NPI check digit is computed over (ISO 7812)


def luhn_check_digit(digits: str) -> int:
    """The Luhn check digit that completes ``digits``."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:  # doubled: the rightmost digit of the payload, then every other one
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return (10 - total % 10) % 10


def npi_is_valid(value: object) -> bool:
    """Ten digits whose last is the Luhn check digit of ``80840`` + the first nine."""
    if not isinstance(value, str) or len(value) != 10 or not value.isdigit():
        return False
    return luhn_check_digit(NPI_PREFIX + value[:9]) == int(value[9])


@lru_cache(maxsize=65536)
def icd10cm_exists(value: object) -> bool:
    """An ICD-10-CM code (chapter and block headers excluded), written with or without the dot."""
    if not isinstance(value, str) or not 3 <= len(value.replace(".", "")) <= 7:
        return False
    import simple_icd_10_cm as icd

    code = value.strip().upper()
    return icd.is_valid_item(code) and (icd.is_category(code) or icd.is_subcategory(code))


@lru_cache(maxsize=65536)
def icd10cm_billable(value: object) -> bool:
    """A code that can be billed: a leaf of the ICD-10-CM tree."""
    if not icd10cm_exists(value):
        return False
    import simple_icd_10_cm as icd

    return bool(icd.is_leaf(str(value).strip().upper()))
