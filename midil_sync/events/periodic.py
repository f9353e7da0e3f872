# Generated from midil_async/events/periodic.py by scripts/unasync.py: do not edit by hand.
# Change the async module and run `make unasync`.
"""Running a function on a schedule: ``PeriodicTask``.

Every timing decision comes from :class:`~midil_common.events.PeriodicSchedule` (fixed rate on a
grid with missed ticks skipped, or fixed delay; jitter; backoff after failures; ``max_runs``); the
task only waits until the next due time, in a worker thread of its own, and calls the function. A call
never overlaps the previous one. An exception is logged (logger ``midil.events``) and the schedule
goes on. Each call runs in a new event context (its own correlation id and trace), so its log lines
and outbound requests are correlated.

``stop()`` interrupts the wait at once and waits for a call in progress to return; it may be called
from inside the function (it then returns without waiting). A stopped task can be started again.

For tests, ``clock`` (a monotonic ``() -> float``) and ``sleep`` (a blocking ``sleep(seconds)``)
replace the real clock and the wait: with a fake pair, runs follow the fake clock without real
waiting (``stop`` is then seen after the current sleep returns).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from midil_common.errors import ConfigError
from midil_common.events.context import event_context
from midil_common.events.dispatch import callable_name, report_run_failure
from midil_common.events.periodic import PeriodicSchedule, RandomFloat, ScheduleMode
from midil_sync._primitives import (
    Flag,
    Job,
    LoopBound,
    Sleeper,
    StateLock,
    Worker,
    join,
    runner,
    spawn,
)

__all__ = ["PeriodicTask"]


class _Run:
    """One run of a periodic task, from ``start`` to its end."""

    __slots__ = ("finished", "stopping", "worker")

    def __init__(self) -> None:
        self.stopping = Flag()
        self.finished = False
        self.worker: Worker | None = None


class _Slot:
    """The current run of a task."""

    __slots__ = ("run",)

    def __init__(self) -> None:
        self.run: _Run | None = None


class PeriodicTask:
    """Call ``func`` every ``interval`` seconds until stopped (or ``max_runs`` calls).

    Args:
        func: what to run, without arguments.
            A plain function: an ``async def`` function is refused with ``ConfigError``.
        interval: seconds between runs (> 0).
        jitter: a random delay in ``[0, jitter)`` added to each run.
        run_immediately: the first run is at start rather than one interval later.
        mode: ``"fixed_rate"`` (runs on a grid; ticks missed by a long run are skipped) or
            ``"fixed_delay"`` (``interval`` after the previous run finished).
        max_runs: stop after this many runs (None: until stopped).
        backoff: after ``n`` failures in a row, wait ``interval * backoff ** n`` (capped at
            ``max_delay``); 1 keeps the normal pace.
        max_delay: the longest backed-off wait, in seconds.
        name: a name for log lines and the worker (default: the function's name).
        rng: randomness for the jitter (a ``random.Random``; seeded in tests).
        clock: a monotonic clock in seconds (default ``time.monotonic``; tests inject one).
        sleep: an injected wait ``sleep(seconds)`` going with an injected ``clock`` (tests); by
            default the task waits on a flag that ``stop`` sets.

    Example::

        def refresh() -> None: ...

        with PeriodicTask(refresh, 30.0, jitter=5.0, run_immediately=True):
            ...
    """

    def __init__(
        self,
        func: Job,
        interval: float,
        *,
        jitter: float = 0.0,
        run_immediately: bool = False,
        mode: ScheduleMode = "fixed_rate",
        max_runs: int | None = None,
        backoff: float = 1.0,
        max_delay: float = 3600.0,
        name: str | None = None,
        rng: RandomFloat | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Sleeper | None = None,
    ) -> None:
        self._schedule = PeriodicSchedule(
            interval,
            jitter=jitter,
            run_immediately=run_immediately,
            mode=mode,
            max_runs=max_runs,
            backoff=backoff,
            max_delay=max_delay,
        )
        if not callable(func):
            raise ConfigError("func must be callable", variable="func")
        self._func = func
        self._call: Callable[[], Any] = runner(func)
        self._name = name if name is not None else callable_name(func)
        self._rng: RandomFloat = rng if rng is not None else random.Random()
        self._clock = clock if clock is not None else time.monotonic
        self._sleep = sleep
        self._slots: LoopBound[_Slot] = LoopBound(_Slot)
        self._lock = StateLock()
        self._runs = 0

    @property
    def schedule(self) -> PeriodicSchedule:
        """The schedule that decides when the task runs."""
        return self._schedule

    @property
    def runs(self) -> int:
        """The runs completed since the last start (failed ones included)."""
        return self._runs

    def start(self) -> None:
        """Start the schedule (a no-op when it is running already)."""
        slot = self._slots.get()
        with self._lock:
            if slot.run is not None and not slot.run.finished and not slot.run.stopping.is_set():
                return
            run = _Run()
            self._runs = 0
            # Before the worker starts: a job that stops its own task must find this run.
            slot.run = run
            run.worker = spawn(self._loop, run, name=f"midil-periodic-{self._name}")

    def stop(self) -> None:
        """Stop the schedule: no further run starts; a run in progress is waited for."""
        slot = self._slots.get()
        with self._lock:
            run = slot.run
            if run is None:
                return
            run.stopping.set()
            worker = run.worker
        if worker is not None:
            join([worker])

    def __enter__(self) -> PeriodicTask:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _pause(self, stopping: Flag, delay: float) -> bool:
        """Wait ``delay`` seconds (less when stopped); True once stopped."""
        if self._sleep is None:
            return stopping.wait(max(0.0, delay))
        if not stopping.is_set():
            self._sleep(max(0.0, delay))
        return stopping.is_set()

    def _loop(self, run: _Run) -> None:
        """The worker: wait for each due time, run, ask the schedule for the next."""
        schedule, clock, rng = self._schedule, self._clock, self._rng
        try:
            due = schedule.first_due(clock())
            at = due + schedule.jitter_delay(rng)
            failures = 0
            while not schedule.done(self._runs):
                if self._pause(run.stopping, at - clock()):
                    return
                started = clock()
                try:
                    with event_context():
                        self._call()
                except Exception as exc:
                    failures += 1
                    report_run_failure(self._func, exc, failures)
                else:
                    failures = 0
                finished = clock()
                self._runs += 1
                due = schedule.next_due(due, started, finished, clock(), failures)
                at = due + schedule.jitter_delay(rng)
        finally:
            run.finished = True
