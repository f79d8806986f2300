"""Time buckets: simulated records grouped by the landing batch that will show them.

The simulation appends each record as it is made; a record lands in the first batch of its
system whose extract time is at or after the record's time (``bisect_left`` over the extract
times) and is dropped when it happens after the last extract. The writer pops a batch's records
once no later simulation step can add to it, so only the batches still open are held in memory.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Generic, TypeVar

T = TypeVar("T")


class Buckets(Generic[T]):
    """Records of one kind per (system, batch index).

    ``targets`` maps each system that extracts the records to its extract times; ``key`` is the
    record's time. With ``prefix``, a record whose ``id`` is empty gets the next id
    (``prefix`` + ``digits`` digits) when it is appended, in the order the simulation makes them."""

    def __init__(
        self,
        targets: Mapping[str, Sequence[datetime]],
        key: Callable[[T], datetime],
        prefix: str = "",
        digits: int = 8,
    ) -> None:
        self.targets = {system: list(times) for system, times in targets.items()}
        self.key = key
        self.prefix = prefix
        self.digits = digits
        self.count = 0
        self._open: dict[str, dict[int, list[T]]] = {system: {} for system in targets}
        self._targets = [
            (self.targets[system], self._open[system], len(self.targets[system]))
            for system in targets
        ]

    def append(self, item: T) -> None:
        if self.prefix and not item.id:  # type: ignore[attr-defined]
            self.count += 1
            item.id = f"{self.prefix}{self.count:0{self.digits}d}"  # type: ignore[attr-defined]
        ts = self.key(item)
        for times, batches, n in self._targets:
            k = bisect_left(times, ts)
            if k < n:
                batch = batches.get(k)
                if batch is None:
                    batches[k] = [item]
                else:
                    batch.append(item)

    def extend(self, items: Iterable[T]) -> None:
        for item in items:
            self.append(item)

    def __iadd__(self, items: Iterable[T]) -> Buckets[T]:
        self.extend(items)
        return self

    def pop(self, system: str, k: int) -> list[T]:
        """The records of batch ``k`` of ``system`` (removed from the buckets)."""
        return self._open[system].pop(k, [])

    def pending(self) -> int:
        return sum(len(items) for batches in self._open.values() for items in batches.values())
