"""A thread-safe client-side rate limiter over :mod:`hippolyte.call_rate`.

Several worker threads share one limiter: each call takes a token under a lock, then sleeps (on the
runtime's sleep, outside the lock) until its turn.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from hippolyte.call_rate import TokenBucket


class RateLimiter:
    """At most ``per_second`` calls a second on average, ``burst`` at once."""

    def __init__(
        self,
        per_second: float,
        burst: float,
        clock: Callable[[], datetime],
        sleep: Callable[[float], None],
    ) -> None:
        """A full bucket at the clock's now."""
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._bucket = TokenBucket.full(per_second, burst, clock().timestamp())

    def acquire(self) -> None:
        """Wait until one more call may start.

        The wait is measured again just before sleeping, to the reserved moment: time another
        thread spent meanwhile counts towards it, so threads sharing the limiter start their calls
        at their own moments, not later.
        """
        with self._lock:
            now = self._clock().timestamp()
            wait, self._bucket = self._bucket.reserve(now)
        if wait > 0:
            left = now + wait - self._clock().timestamp()
            if left > 0:
                self._sleep(left)
