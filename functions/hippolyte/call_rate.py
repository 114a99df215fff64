"""Client-side rate arithmetic: a token bucket that hands out start times for calls.

Pure: the caller passes the time (seconds on any steady scale) and sleeps what it is told. A call
reserves its token at once, even one not yet earned, so several threads asking together are
spread out one after another instead of all waking at the same instant and asking again.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TokenBucket:
    """Tokens in hand at a moment; negative when calls have reserved tokens not yet earned."""

    per_second: float
    burst: float
    tokens: float
    at: float

    @classmethod
    def full(cls, per_second: float, burst: float, now: float) -> TokenBucket:
        """A bucket holding its whole burst at ``now``."""
        if per_second <= 0 or burst < 1:
            raise ValueError(f"a bucket needs a positive rate and a burst of at least 1: {per_second}, {burst}")
        return cls(per_second=per_second, burst=burst, tokens=burst, at=now)

    def reserve(self, now: float) -> tuple[float, TokenBucket]:
        """Take one token: the seconds to wait before the call, and the bucket after it.

        >>> bucket = TokenBucket.full(per_second=10, burst=2, now=0.0)
        >>> wait, bucket = bucket.reserve(0.0)
        >>> wait, bucket = bucket.reserve(0.0)
        >>> wait
        0.0
        >>> wait, bucket = bucket.reserve(0.0)
        >>> round(wait, 3)
        0.1
        """
        # Time never runs back for the bucket: a clock read late by another thread counts as now.
        moment = max(now, self.at)
        tokens = min(self.burst, self.tokens + (moment - self.at) * self.per_second) - 1
        wait = 0.0 if tokens >= 0 else -tokens / self.per_second
        return wait, TokenBucket(per_second=self.per_second, burst=self.burst, tokens=tokens, at=moment)


def seconds_for(calls: int, per_second: float, burst: float = 0.0) -> float:
    """The least time ``calls`` calls take at ``per_second``, the first ``burst`` of them at once.

    >>> seconds_for(100, per_second=10)
    10.0
    >>> seconds_for(5, per_second=10, burst=8)
    0.0
    """
    return max(0.0, (calls - burst) / per_second)
