"""One time source for a local run: the execution's start, its Wait states and the handlers' clock.

A Step Functions execution reads its own start time as ``$$.Execution.StartTime``, and the backup
run derives its deadline from it (window plus grace). moto's interpreter stamps that start with the
machine's real clock (``datetime.datetime.now`` in ``moto.stepfunctions.parser.models``), while the
handlers and the AWS rules of a test may run on a fake clock. Two clocks drift apart: a deadline
taken from the real start never arrives on a fake clock that started earlier. So a session given a
clock stamps executions with that clock too.

When the clock can also move (it has ``advance``), Wait states advance it instead of sleeping: a
Wait of 300 s takes no real time and moves the night on by 300 s, as the Step Functions
Developer Guide's "Wait workflow state" page describes one ("delays the state machine from
continuing for a specified time").
A test of a whole night then runs in seconds on any machine, whatever today's date and hour.
"""

from __future__ import annotations

import datetime as _datetime
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable
from unittest import mock

from moto.stepfunctions.parser import models as parser_models
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.backend import execution as parser_execution

Clock = Callable[[], datetime]


@runtime_checkable
class MovableClock(Protocol):
    """A clock that tests move: ``clock()`` reads it, ``advance(delta)`` moves it forward."""

    def __call__(self) -> datetime:
        """The current simulated time, timezone-aware UTC."""
        ...

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` and return the new time."""
        ...


class SimulatedClock:
    """A thread-safe UTC clock that moves only when told to (by a test, or by a Wait state).

    >>> clock = SimulatedClock(datetime(2026, 11, 28, 0, 10, tzinfo=UTC))
    >>> clock.advance(timedelta(minutes=50)).isoformat()
    '2026-11-28T01:00:00+00:00'
    >>> clock() == clock.now()
    True
    """

    def __init__(self, start: datetime) -> None:
        """Start at ``start``, a timezone-aware datetime (converted to UTC)."""
        self._now = as_utc(start)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The current simulated time, timezone-aware UTC."""
        with self._lock:
            return self._now

    def __call__(self) -> datetime:
        """Same as :meth:`now`: the clock can stand in for a ``Callable[[], datetime]``."""
        return self.now()

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` (not negative) and return the new time."""
        if delta < timedelta(0):
            raise ValueError(f"the clock cannot go back: {delta}")
        with self._lock:
            self._now += delta
            return self._now

    def set(self, when: datetime) -> None:
        """Jump forward to ``when``; time never runs backwards."""
        when = as_utc(when)
        with self._lock:
            if when < self._now:
                raise ValueError(f"the clock cannot go back from {self._now} to {when}")
            self._now = when


class SkippingClock:
    """Real time, plus every Wait skipped so far: time runs on, and Waits take none of it.

    The default clock of a local session: two executions started one after the other still start
    at different times, and a Wait of an hour moves the run on by an hour at once.
    """

    def __init__(self) -> None:
        """Start at the real time, with nothing skipped yet."""
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        """The real time plus what Waits have skipped, timezone-aware UTC."""
        with self._lock:
            return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> datetime:
        """Skip ``delta`` (not negative) ahead and return the new time."""
        if delta < timedelta(0):
            raise ValueError(f"the clock cannot go back: {delta}")
        with self._lock:
            self._offset += delta
        return self()


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive datetime is refused, since its zone is unknown."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a timezone-aware datetime is required, got {moment!r}")
    return moment.astimezone(UTC)


def _datetime_module_reading(clock: Clock) -> types.SimpleNamespace:
    """A stand-in for the ``datetime`` module whose ``datetime.now`` reads ``clock``."""

    class _ClockDatetime(_datetime.datetime):
        @classmethod
        def now(cls, tz: _datetime.tzinfo | None = None) -> Any:
            moment = clock()
            return moment.astimezone(tz) if tz is not None else moment.replace(tzinfo=None)

    return types.SimpleNamespace(
        datetime=_ClockDatetime, timezone=_datetime.timezone, timedelta=_datetime.timedelta, date=_datetime.date
    )


@contextmanager
def executions_start_on(clock: Clock) -> Iterator[None]:
    """Stamp every new execution's start date (``$$.Execution.StartTime``) with ``clock``, and its
    stop date when it ends (DescribeExecution's and ListExecutions' ``stopDate``), so that a night's
    duration is the time it took on that clock."""
    reading = _datetime_module_reading(clock)
    with (
        mock.patch.object(parser_models, "datetime", reading),
        mock.patch.object(parser_execution, "datetime", reading),
    ):
        yield


@contextmanager
def waits_advance(clock: MovableClock) -> Iterator[list[int]]:
    """Wait states move ``clock`` on by their seconds instead of sleeping; yields the waits seen.

    A stopped execution stops waiting at once, as moto's own Wait does when interrupted.
    """
    waited: list[int] = []

    def _wait_interval(self: WaitFunction, env: Any, wait_seconds: int) -> None:
        if not env.is_running():
            return
        waited.append(int(wait_seconds))
        if wait_seconds > 0:
            clock.advance(timedelta(seconds=wait_seconds))
        # Give other threads (the emulated EMR, a test) a turn, as a real Wait would.
        env.program_state_event.wait(0.001)

    with mock.patch.object(WaitFunction, "_wait_interval", _wait_interval):
        yield waited


@contextmanager
def one_time_source(clock: Clock | None) -> Iterator[list[int]]:
    """Apply ``clock`` to executions' start times, and, if it can move, to Wait states.

    Yields the list of simulated waits (empty when the clock cannot move or none was given).
    """
    with ExitStack() as stack:
        waited: list[int] = []
        if clock is not None:
            stack.enter_context(executions_start_on(clock))
            if isinstance(clock, MovableClock):
                waited = stack.enter_context(waits_advance(clock))
        yield waited
