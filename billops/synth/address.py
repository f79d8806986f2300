"""A postal address, as patients, facilities and payers carry it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Address:
    line: str
    city: str
    state: str
    zip9: str

    @property
    def zip5(self) -> str:
        return self.zip9[:5]
