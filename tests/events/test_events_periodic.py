"""PeriodicSchedule: validation and the run-time decisions, with explicit clocks."""

from __future__ import annotations

import itertools
import math
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from midil_common.errors import ConfigError
from midil_common.events import PeriodicSchedule, ScheduleMode


@pytest.mark.parametrize(
    ("kwargs", "variable"),
    [
        ({"interval": 0}, "interval"),
        ({"interval": -1}, "interval"),
        ({"interval": math.inf}, "interval"),
        ({"interval": math.nan}, "interval"),
        ({"interval": True}, "interval"),
        ({"interval": "1"}, "interval"),
        ({"interval": 1, "jitter": -0.1}, "jitter"),
        ({"interval": 1, "jitter": math.inf}, "jitter"),
        ({"interval": 1, "mode": "cron"}, "mode"),
        ({"interval": 1, "max_runs": 0}, "max_runs"),
        ({"interval": 1, "max_runs": 1.5}, "max_runs"),
        ({"interval": 1, "max_runs": True}, "max_runs"),
        ({"interval": 1, "backoff": 0.5}, "backoff"),
        ({"interval": 1, "max_delay": 0}, "max_delay"),
        ({"interval": 1, "run_immediately": 1}, "run_immediately"),
    ],
)
def test_invalid_arguments_raise_config_error_naming_them(
    kwargs: dict[str, Any], variable: str
) -> None:
    with pytest.raises(ConfigError) as info:
        PeriodicSchedule(**kwargs)
    assert info.value.variable == variable and variable in str(info.value)


def test_first_run() -> None:
    rng = random.Random(1)
    assert PeriodicSchedule(10).first_run(100.0, rng) == 110.0
    assert PeriodicSchedule(10, run_immediately=True).first_run(100.0, rng) == 100.0
    assert PeriodicSchedule(10, jitter=5, run_immediately=True).first_run(100.0, rng) == 100.0
    jittered = PeriodicSchedule(10, jitter=5).first_run(100.0, rng)
    assert 110.0 <= jittered < 115.0
    assert PeriodicSchedule(10).first_due(100.0) == 110.0


def test_fixed_rate_keeps_the_grid() -> None:
    schedule = PeriodicSchedule(10)
    rng = random.Random(0)
    # A short run: the next tick is one interval after the scheduled one, whatever the run took.
    assert schedule.next_run(100.0, 100.2, 101.0, 101.0, 0, rng) == 110.0
    assert schedule.next_run(100.0, 103.0, 104.0, 104.5, 0, rng) == 110.0


def test_fixed_rate_skips_missed_ticks_and_never_overlaps() -> None:
    schedule = PeriodicSchedule(10)
    # The run took 25 s: ticks 110 and 120 passed; the next is 130, not 110 and 120 back to back.
    assert schedule.next_due(100.0, 100.0, 125.0, 125.0) == 130.0
    # A tick due exactly now runs now.
    assert schedule.next_due(100.0, 100.0, 120.0, 120.0) == 120.0


def test_a_slow_function_never_causes_overlap_or_bunching() -> None:
    """Simulate a task that takes 2.5 intervals, on an explicit clock."""
    modes: tuple[ScheduleMode, ...] = ("fixed_rate", "fixed_delay")
    for mode in modes:
        schedule = PeriodicSchedule(1.0, mode=mode, run_immediately=True)
        clock = 0.0
        due = schedule.first_due(clock)
        runs: list[tuple[float, float]] = []
        for _ in range(20):
            clock = max(clock, due)  # sleep until due
            started = clock
            clock += 2.5  # the slow function
            runs.append((started, clock))
            due = schedule.next_due(due, started, clock, clock)
        for (_, finished), (started, _) in itertools.pairwise(runs):
            assert started >= finished  # no overlap
        gaps = [b[0] - a[0] for a, b in itertools.pairwise(runs)]
        assert min(gaps) >= 2.5  # no bunching: never two runs back to back to catch up
        if mode == "fixed_rate":
            assert all(float(start).is_integer() for start, _ in runs)  # still on the grid
            assert gaps == [3.0] * 19
        else:
            assert gaps == [3.5] * 19


def test_fixed_delay_waits_after_the_run() -> None:
    schedule = PeriodicSchedule(10, mode="fixed_delay")
    assert schedule.next_due(100.0, 100.0, 107.0, 107.0) == 117.0
    assert schedule.next_due(100.0, 100.0, 107.0, 200.0) == 200.0  # never in the past


def test_jitter_is_uniform_in_range_and_from_the_rng() -> None:
    schedule = PeriodicSchedule(10, jitter=2)
    draws = [schedule.next_run(100.0, 100.0, 101.0, 101.0, 0, random.Random(i)) for i in range(200)]
    assert all(110.0 <= d < 112.0 for d in draws)
    assert len(set(draws)) > 150
    assert schedule.next_run(100.0, 100.0, 101.0, 101.0, 0, random.Random(5)) == (
        schedule.next_run(100.0, 100.0, 101.0, 101.0, 0, random.Random(5))
    )

    class MaxRng:
        def random(self) -> float:
            return math.nextafter(1.0, 0.0)

    assert schedule.jitter_delay(MaxRng()) < 2.0
    assert PeriodicSchedule(10).jitter_delay(MaxRng()) == 0.0


def test_jitter_does_not_move_the_grid() -> None:
    schedule = PeriodicSchedule(10, jitter=3)
    rng = random.Random(2)
    due = schedule.first_due(0.0)
    for _ in range(50):
        at = due + schedule.jitter_delay(rng)
        due = schedule.next_due(due, at, at + 0.5, at + 0.5)
    assert due == 510.0


def test_backoff_on_consecutive_failures() -> None:
    schedule = PeriodicSchedule(10, backoff=2.0, max_delay=60)
    assert [schedule.delay_after(n) for n in range(6)] == [10, 20, 40, 60, 60, 60]
    assert schedule.delay_after(10_000) == 60  # no overflow
    assert PeriodicSchedule(100, backoff=2.0, max_delay=60).delay_after(3) == 100
    assert PeriodicSchedule(10).delay_after(5) == 10  # backoff off by default
    # Fixed rate: the backed-off run lands on the grid.
    assert schedule.next_due(100.0, 100.0, 101.0, 101.0, consecutive_failures=2) == 140.0
    # Fixed delay: after the run.
    delay = PeriodicSchedule(10, mode="fixed_delay", backoff=3.0)
    assert delay.next_due(100.0, 100.0, 101.0, 101.0, consecutive_failures=1) == 131.0


def test_done() -> None:
    assert not PeriodicSchedule(1).done(10**9)
    three = PeriodicSchedule(1, max_runs=3)
    assert [three.done(n) for n in range(5)] == [False, False, False, True, True]


@given(
    interval=st.floats(0.001, 1e4),
    scheduled=st.floats(0, 1e6),
    duration=st.floats(0, 1e5),
    lag=st.floats(0, 1e3),
)
def test_fixed_rate_next_is_on_the_grid_and_not_in_the_past(
    interval: float, scheduled: float, duration: float, lag: float
) -> None:
    schedule = PeriodicSchedule(interval)
    finished = scheduled + duration
    now = finished + lag
    due = schedule.next_due(scheduled, scheduled, finished, now)
    assert due >= now and due > scheduled
    steps = (due - scheduled) / interval
    assert abs(steps - round(steps)) < 1e-6 * max(1.0, steps)
    assert due - interval < now + 1e-6 * max(1.0, abs(now))  # the first such grid point
