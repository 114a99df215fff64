"""The rate arithmetic behind DiscoverTables' client-side limiter, and its page budget."""

from __future__ import annotations

import pytest
from hippolyte.call_rate import TokenBucket, seconds_for
from hippolyte.discovery_pages import TABLES_PER_SECOND, TABLES_PER_STEP, DiscoveryState, step_seconds
from hypothesis import given
from hypothesis import strategies as st

rates = st.floats(min_value=0.5, max_value=100)
bursts = st.integers(min_value=1, max_value=20)
gaps = st.lists(st.floats(min_value=0, max_value=2), min_size=1, max_size=60)


def starts(per_second: float, burst: int, asked_after: list[float]) -> list[float]:
    """When each call starts, asked at the running sum of ``asked_after`` and waiting as told."""
    now = 0.0
    bucket = TokenBucket.full(per_second, burst, now)
    started = []
    for gap in asked_after:
        now += gap
        wait, bucket = bucket.reserve(now)
        started.append(now + wait)
    return started


@given(per_second=rates, burst=bursts, asked_after=gaps)
def test_no_window_holds_more_calls_than_the_burst_plus_the_rate(
    per_second: float, burst: int, asked_after: list[float]
) -> None:
    # GIVEN calls asked for at any moments
    started = starts(per_second, burst, asked_after)
    # THEN between any two starts there are at most burst + rate x time calls
    for first in range(len(started)):
        for last in range(first, len(started)):
            calls = last - first + 1
            assert calls <= burst + per_second * (started[last] - started[first]) + 1e-6


@given(per_second=rates, burst=bursts, asked_after=gaps)
def test_calls_start_in_the_order_asked_and_never_before_they_are_asked(
    per_second: float, burst: int, asked_after: list[float]
) -> None:
    started = starts(per_second, burst, asked_after)
    asked = [sum(asked_after[: i + 1]) for i in range(len(asked_after))]
    assert all(start >= ask - 1e-9 for start, ask in zip(started, asked, strict=True))
    assert started == sorted(started)


@given(per_second=rates, burst=bursts, calls=st.integers(min_value=1, max_value=200))
def test_calls_asked_at_once_take_the_time_seconds_for_says(per_second: float, burst: int, calls: int) -> None:
    # GIVEN a full bucket and calls all asked for at the same moment
    started = starts(per_second, burst, [0.0] * calls)
    # THEN the last starts when seconds_for says the calls need (the first burst go at once)
    assert started[-1] == pytest.approx(seconds_for(calls, per_second, burst))


def test_a_bucket_needs_a_rate_and_a_token() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        TokenBucket.full(0, 1, 0.0)
    with pytest.raises(ValueError, match="burst"):
        TokenBucket.full(1, 0.5, 0.0)


def test_a_step_of_discovery_keeps_twice_its_time_at_the_rate_in_hand() -> None:
    # 40 tables at 8 a second take 5 s: a step starts only with 10 s in hand
    assert step_seconds() == pytest.approx(2 * TABLES_PER_STEP / TABLES_PER_SECOND)
    # AND at 10,000 tables the rate alone needs more than one invocation's 900 s
    assert seconds_for(10_000, TABLES_PER_SECOND) > 900


@given(to_describe=st.integers(0, 50), to_lease=st.one_of(st.none(), st.integers(0, 50)))
def test_tables_left_counts_both_queues(to_describe: int, to_lease: int | None) -> None:
    state = DiscoveryState(
        whole_account=True,
        poll_seconds=60,
        to_describe=[f"d{i}" for i in range(to_describe)],
        to_lease=None if to_lease is None else [f"l{i}" for i in range(to_lease)],
    )
    assert state.tables_left() == to_describe + (to_lease or 0)
