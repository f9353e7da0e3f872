"""When a periodic task runs: the decisions behind both shells' ``PeriodicTask``.

Times are plain floats (seconds on the shell's monotonic clock); randomness comes from ``rng``. The
shell keeps the *due* time of each run (the grid time, without jitter) and asks::

    due = schedule.first_due(now)
    at = due + schedule.jitter_delay(rng)            # or: at = schedule.first_run(now, rng)
    while not schedule.done(runs):
        sleep until at; started = now(); run; finished = now()
        runs += 1; failures = 0 if it succeeded else failures + 1
        due = schedule.next_due(due, started, finished, now(), failures)
        at = due + schedule.jitter_delay(rng)

Modes:

- ``fixed_rate``: runs sit on the grid ``scheduled_at + k * interval``. A run that overruns skips the
  ticks it missed: the next run is the first grid point not in the past, so runs never overlap
  and never bunch up to catch up.
- ``fixed_delay``: the next run is ``interval`` after the previous one finished.

Jitter adds a uniform delay in ``[0, jitter)`` to each run (not to the grid, which keeps fixed-rate
runs from drifting). Passing the jittered time back as ``scheduled_at`` works too, but then the grid
drifts by the jitter.

Failure backoff: after ``n`` consecutive failures the wait is ``interval * backoff ** n``, capped at
``max_delay`` (and never shorter than ``interval``); ``backoff=1.0`` (the default) keeps the normal
pace. In ``fixed_rate`` mode the backed-off run still lands on the grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from midil_common.errors import ConfigError
from midil_common.http.retry import Random as RandomFloat

__all__ = ["PeriodicSchedule", "RandomFloat", "ScheduleMode"]

ScheduleMode = Literal["fixed_rate", "fixed_delay"]


def _number(name: str, value: Any) -> float:
    # bool is an int subclass; True seconds is a mistake, not an interval.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number of seconds", variable=name)
    return float(value)


@dataclass(frozen=True, slots=True)
class PeriodicSchedule:
    """The schedule of a periodic task, validated on construction (``ConfigError`` names the
    argument).

    Args:
        interval: seconds between runs (> 0).
        jitter: a random delay in ``[0, jitter)`` added to each run (>= 0).
        run_immediately: the first run is at start rather than one interval later.
        mode: ``"fixed_rate"`` (a grid, missed ticks skipped) or ``"fixed_delay"``.
        max_runs: stop after this many runs (None: run until stopped).
        backoff: multiplier of the wait per consecutive failure (>= 1; 1 disables backoff).
        max_delay: the longest backed-off wait in seconds (never below ``interval``).
    """

    interval: float
    jitter: float = 0.0
    run_immediately: bool = False
    mode: ScheduleMode = "fixed_rate"
    max_runs: int | None = None
    backoff: float = 1.0
    max_delay: float = 3600.0

    def __post_init__(self) -> None:
        interval = _number("interval", self.interval)
        if interval <= 0:
            raise ConfigError("interval must be greater than 0", variable="interval")
        if _number("jitter", self.jitter) < 0:
            raise ConfigError("jitter must not be negative", variable="jitter")
        if self.mode not in ("fixed_rate", "fixed_delay"):
            raise ConfigError("mode must be 'fixed_rate' or 'fixed_delay'", variable="mode")
        if self.max_runs is not None and (type(self.max_runs) is not int or self.max_runs < 1):
            raise ConfigError("max_runs must be None or an integer >= 1", variable="max_runs")
        if _number("backoff", self.backoff) < 1:
            raise ConfigError("backoff must be at least 1", variable="backoff")
        if _number("max_delay", self.max_delay) <= 0:
            raise ConfigError("max_delay must be greater than 0", variable="max_delay")
        if type(self.run_immediately) is not bool:
            raise ConfigError("run_immediately must be a bool", variable="run_immediately")

    # ------------------------------------------------------------------------------ decisions

    def jitter_delay(self, rng: RandomFloat) -> float:
        """A uniform delay in ``[0, jitter)`` from ``rng`` (a ``random.Random``); 0 without jitter."""
        if not self.jitter:
            return 0.0
        # random() is in [0, 1); the product can still round up to jitter itself: keep it below.
        return min(rng.random() * self.jitter, math.nextafter(self.jitter, 0.0))

    def first_due(self, now: float) -> float:
        """The grid time of the first run: ``now`` or one interval later."""
        return now if self.run_immediately else now + self.interval

    def first_run(self, now: float, rng: RandomFloat) -> float:
        """When to start the first run: ``now`` if ``run_immediately``, else one interval (plus
        jitter) later."""
        return now if self.run_immediately else now + self.interval + self.jitter_delay(rng)

    def delay_after(self, consecutive_failures: int) -> float:
        """The wait between runs after ``consecutive_failures`` failures in a row."""
        if consecutive_failures <= 0 or self.backoff == 1.0:
            return self.interval
        try:
            delay = self.interval * self.backoff**consecutive_failures
        except OverflowError:
            delay = math.inf
        return max(self.interval, min(delay, self.max_delay))

    def next_due(
        self,
        scheduled_at: float,
        started_at: float,
        finished_at: float,
        now: float,
        consecutive_failures: int = 0,
    ) -> float:
        """The grid time of the next run, decided after a run (never before ``now``).

        ``scheduled_at`` is the due time of the run that just ended, ``started_at`` and
        ``finished_at`` when it actually ran, ``now`` the current time.
        """
        delay = self.delay_after(consecutive_failures)
        if self.mode == "fixed_delay":
            return max(finished_at + delay, now)
        # Fixed rate: the first grid point at least ``delay`` after the scheduled time and not in
        # the past. Ticks missed while the run overran are skipped, never run back to back.
        earliest = max(scheduled_at + delay, now, finished_at)
        steps = max(1, math.ceil((earliest - scheduled_at) / self.interval))
        # The division rounds: settle on the first grid point that is not before ``earliest``.
        while steps > 1 and scheduled_at + (steps - 1) * self.interval >= earliest:
            steps -= 1
        while scheduled_at + steps * self.interval < earliest:
            steps += 1
        return scheduled_at + steps * self.interval

    def next_run(
        self,
        scheduled_at: float,
        started_at: float,
        finished_at: float,
        now: float,
        consecutive_failures: int,
        rng: RandomFloat,
    ) -> float:
        """When to start the next run: :meth:`next_due` plus jitter."""
        return self.next_due(
            scheduled_at, started_at, finished_at, now, consecutive_failures
        ) + self.jitter_delay(rng)

    def done(self, runs: int) -> bool:
        """Whether ``runs`` completed runs reach ``max_runs``."""
        return self.max_runs is not None and runs >= self.max_runs
