"""Fast draws from a ``random.Random`` stream.

``Random.randint``, ``randrange`` and ``choice`` go through several Python-level calls each;
the generator makes millions of draws, so these use one ``random()`` call instead. The draws
are uniform to within 2**-53, which is all a synthetic data set needs.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def rint(rng: random.Random, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high``, both included."""
    return low + int(rng.random() * (high - low + 1))


def below(rng: random.Random, n: int) -> int:
    """A whole number from 0 to ``n`` - 1."""
    return int(rng.random() * n)


def between(rng: random.Random, start: int, stop: int, step: int = 1) -> int:
    """Like ``randrange(start, stop, step)``."""
    return start + step * int(rng.random() * ((stop - start + step - 1) // step))


def pick(rng: random.Random, items: Sequence[T]) -> T:
    return items[int(rng.random() * len(items))]
