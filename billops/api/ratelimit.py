"""A token bucket per API token: ``per_minute`` requests a minute on average, ``burst`` at once.

Buckets are keyed by the SHA-256 of the presented bearer token (the token itself is never kept);
a request without one is keyed by the client's address. At most ``max_keys`` buckets are kept,
the least recently used dropped first, so a flood of made-up tokens cannot grow memory. The clock
is monotonic time, which only paces requests and never reaches a business result.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Thread-safe token buckets; :meth:`take` returns 0 when allowed, else seconds to wait."""

    def __init__(
        self, per_minute: float, burst: int, *, max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute <= 0 or burst < 1:
            raise ValueError("a rate limit needs per_minute > 0 and burst >= 1")
        self.rate = per_minute / 60.0
        self.burst = burst
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> int:
        """Take one token from ``key``'s bucket: 0 if there was one, else the whole seconds
        until there will be (the ``Retry-After`` value, at least 1)."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.pop(key, None) or _Bucket(float(self.burst), now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            self._buckets[key] = bucket
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0
            return max(1, math.ceil((1.0 - bucket.tokens) / self.rate))
