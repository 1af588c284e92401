"""Sliding-window rate limits for the public endpoints, kept in this process's memory.

Each key (a client IP; a login ID *with* the client IP) may make ``limit`` requests in any
``window`` seconds. The state is per process: with N processes behind a load balancer a
client may make up to N × ``limit`` requests; the limits that hold across processes are in
the database (login throttling per login ID and source, registrations per address and
client). At most ``max_keys`` keys are remembered (least recently used go).
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable


class SlidingWindowLimiter:
    def __init__(
        self,
        limit: int,
        window_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("limit must be >= 1 and window_seconds > 0")
        self.limit = limit
        self.window = window_seconds
        self.clock = clock
        self.max_keys = max_keys
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def hit(self, key: str) -> float | None:
        """Count a request; ``None`` if allowed, else the seconds until one would be."""
        now = self.clock()
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = deque()
        else:
            self._hits.move_to_end(key)
        while hits and now - hits[0] >= self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(0.0, self.window - (now - hits[0]))
        hits.append(now)
        while len(self._hits) > self.max_keys:
            self._hits.popitem(last=False)
        return None

    def reset(self) -> None:
        self._hits.clear()


class RateLimits:
    """The two limits of the public endpoints: per client IP, per login ID and client IP."""

    def __init__(
        self,
        *,
        per_ip: int,
        per_login_id: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.by_ip = SlidingWindowLimiter(per_ip, window_seconds, clock=clock)
        self.by_login_id = SlidingWindowLimiter(per_login_id, window_seconds, clock=clock)

    def reset(self) -> None:
        self.by_ip.reset()
        self.by_login_id.reset()
