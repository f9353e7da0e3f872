"""``PeriodicTask`` of both shells: timing on an injected clock (exact), then the real thing with short
intervals and generous margins (no overlap, stop waits, max_runs)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import pytest

import midil_async
import midil_sync
from midil_common.errors import ConfigError
from midil_common.events import EventContext, current_context

from .conftest import FakeClock, Flavour, eventually

# ------------------------------------------------------------------------- on an injected clock


async def _run_to_the_end(flavour: Flavour, task: Any) -> None:
    """Start ``task`` (which has ``max_runs``) and wait until it has run them all."""
    await task.start()
    await eventually(lambda: task.runs == task.schedule.max_runs)
    await task.stop()


async def test_fixed_rate_runs_on_the_grid(flavour: Flavour) -> None:
    clock = FakeClock()
    calls: list[float] = []
    task = flavour.Task(
        flavour.job(lambda: calls.append(clock())),
        10.0,
        max_runs=4,
        clock=clock,
        sleep=clock.sleep_for(flavour),
    )
    await _run_to_the_end(flavour, task)
    assert calls == [1010.0, 1020.0, 1030.0, 1040.0]


async def test_run_immediately(flavour: Flavour) -> None:
    clock = FakeClock()
    calls: list[float] = []
    task = flavour.Task(
        flavour.job(lambda: calls.append(clock())),
        5.0,
        run_immediately=True,
        max_runs=3,
        clock=clock,
        sleep=clock.sleep_for(flavour),
    )
    await _run_to_the_end(flavour, task)
    assert calls == [1000.0, 1005.0, 1010.0]


async def test_a_slow_run_skips_the_missed_ticks_instead_of_bunching(flavour: Flavour) -> None:
    clock = FakeClock()
    calls: list[float] = []

    def slow() -> None:
        calls.append(clock())
        clock.advance(25.0)  # the run takes two and a half intervals

    task = flavour.Task(
        flavour.job(slow), 10.0, max_runs=4, clock=clock, sleep=clock.sleep_for(flavour)
    )
    await _run_to_the_end(flavour, task)
    # Due at 1010, done at 1035: 1020 and 1030 are skipped, the next run is at 1040.
    assert calls == [1010.0, 1040.0, 1070.0, 1100.0]


async def test_fixed_delay_counts_from_the_end_of_each_run(flavour: Flavour) -> None:
    clock = FakeClock()
    calls: list[float] = []

    def run() -> None:
        calls.append(clock())
        clock.advance(3.0)

    task = flavour.Task(
        flavour.job(run),
        10.0,
        mode="fixed_delay",
        max_runs=3,
        clock=clock,
        sleep=clock.sleep_for(flavour),
    )
    await _run_to_the_end(flavour, task)
    assert calls == [1010.0, 1023.0, 1036.0]


async def test_jitter_from_an_injected_rng(flavour: Flavour) -> None:
    class Fixed:
        def random(self) -> float:
            return 0.5

    clock = FakeClock()
    calls: list[float] = []
    task = flavour.Task(
        flavour.job(lambda: calls.append(clock())),
        10.0,
        jitter=2.0,
        max_runs=3,
        rng=Fixed(),
        clock=clock,
        sleep=clock.sleep_for(flavour),
    )
    await _run_to_the_end(flavour, task)
    # One second of jitter on each run, off a grid that does not drift.
    assert calls == [1011.0, 1021.0, 1031.0]


async def test_a_failure_is_logged_and_the_schedule_continues_with_backoff(
    flavour: Flavour, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    calls: list[float] = []

    def flaky() -> None:
        calls.append(clock())
        if len(calls) in (2, 3):
            raise RuntimeError("not this time")

    task = flavour.Task(
        flavour.job(flaky),
        10.0,
        max_runs=5,
        backoff=2.0,
        name="flaky-job",
        clock=clock,
        sleep=clock.sleep_for(flavour),
    )
    with caplog.at_level(logging.ERROR, logger="midil.events"):
        await _run_to_the_end(flavour, task)
    # 1020 fails: the next grid point at least 20 s later; 1040 fails again: 40 s; then back to 10.
    assert calls == [1010.0, 1020.0, 1040.0, 1080.0, 1090.0]
    records = [r for r in caplog.records if r.name == "midil.events"]
    assert len(records) == 2
    assert "flaky" in records[0].getMessage() and "RuntimeError" in records[0].getMessage()
    assert "(2 in a row)" in records[1].getMessage()
    assert task.runs == 5


async def test_each_run_has_a_context_of_its_own(flavour: Flavour) -> None:
    clock = FakeClock()
    seen: list[EventContext] = []
    task = flavour.Task(
        flavour.job(lambda: seen.append(current_context())),
        1.0,
        max_runs=2,
        clock=clock,
        sleep=clock.sleep_for(flavour),
    )
    await _run_to_the_end(flavour, task)
    first, second = seen
    assert first.correlation_id and second.correlation_id
    assert first.correlation_id != second.correlation_id
    assert first.trace_id != second.trace_id


# ------------------------------------------------------------------------------ in real time


def _sleeper(flavour: Flavour, seconds: float, log: list[str]) -> Any:
    """A job that logs its start and end around ``seconds`` of work, counting overlaps."""
    state = {"running": 0, "peak": 0}
    lock = threading.Lock()

    def enter() -> None:
        with lock:
            state["running"] += 1
            state["peak"] = max(state["peak"], state["running"])
        log.append("start")

    def leave() -> None:
        log.append("end")
        with lock:
            state["running"] -= 1

    if flavour.is_async:

        async def job() -> None:
            enter()
            await asyncio.sleep(seconds)
            leave()

    else:

        def job() -> None:  # type: ignore[misc]
            enter()
            time.sleep(seconds)
            leave()

    job.state = state  # type: ignore[attr-defined]
    return job


async def test_no_overlap_when_the_job_is_slower_than_the_interval(flavour: Flavour) -> None:
    log: list[str] = []
    job = _sleeper(flavour, 0.04, log)
    task = flavour.Task(job, 0.01, run_immediately=True)
    t0 = time.monotonic()
    await task.start()
    await eventually(lambda: log.count("end") >= 4)
    await task.stop()
    elapsed = time.monotonic() - t0
    assert job.state["peak"] == 1
    assert log == ["start", "end"] * log.count("end")
    # Missed ticks are skipped: about one run per 40 ms, never a burst of catch-up runs.
    assert log.count("start") <= elapsed / 0.04 + 1


async def test_stop_waits_for_the_running_call(flavour: Flavour) -> None:
    log: list[str] = []
    task = flavour.Task(_sleeper(flavour, 0.1, log), 10.0, run_immediately=True)
    await task.start()
    await eventually(lambda: log == ["start"])
    await task.stop()
    assert log == ["start", "end"]
    assert task.runs == 1


async def test_stop_interrupts_the_wait_at_once(flavour: Flavour) -> None:
    calls: list[int] = []
    task = flavour.Task(flavour.job(lambda: calls.append(1)), 60.0)
    async with task:
        await asyncio.sleep(0.01)
    t0 = time.monotonic()
    await task.stop()  # stopped already: a no-op
    assert time.monotonic() - t0 < 0.5
    assert calls == []


async def test_max_runs_in_real_time_and_a_restart(flavour: Flavour) -> None:
    calls: list[int] = []
    task = flavour.Task(flavour.job(lambda: calls.append(1)), 0.005, max_runs=3)
    await task.start()
    await eventually(lambda: task.runs == 3)
    await asyncio.sleep(0.03)
    assert len(calls) == 3
    await task.stop()
    await task.start()  # a stopped task starts again, with a fresh count
    await eventually(lambda: task.runs == 3)
    await task.stop()
    assert len(calls) == 6


async def test_the_job_may_stop_its_own_task() -> None:
    calls: list[int] = []
    holder: list[Any] = []

    def job() -> None:
        calls.append(1)
        holder[0].stop()  # from the task's own thread: returns without waiting for itself

    task = midil_sync.PeriodicTask(job, 0.005, run_immediately=True)
    holder.append(task)
    task.start()
    await eventually(lambda: calls == [1])
    await asyncio.sleep(0.03)
    task.stop()
    assert calls == [1]


async def test_the_async_job_may_stop_its_own_task() -> None:
    calls: list[int] = []

    async def job() -> None:
        calls.append(1)
        await task.stop()

    task = midil_async.PeriodicTask(job, 0.005, run_immediately=True)
    await task.start()
    await eventually(lambda: calls == [1])
    await asyncio.sleep(0.03)
    await task.stop()
    assert calls == [1]


async def test_the_async_shell_runs_a_plain_job_in_a_thread() -> None:
    threads: list[int] = []
    task = midil_async.PeriodicTask(
        lambda: threads.append(threading.get_ident()), 0.005, max_runs=2
    )
    async with task:
        await eventually(lambda: task.runs == 2)
    assert len(threads) == 2 and threading.get_ident() not in threads


async def test_the_sync_shell_refuses_a_coroutine_job() -> None:
    async def job() -> None: ...

    with pytest.raises(ConfigError, match="coroutine function"):
        midil_sync.PeriodicTask(job, 1.0)


@pytest.mark.parametrize(
    ("kwargs", "variable"),
    [({"interval": 0}, "interval"), ({"interval": 1, "max_runs": 0}, "max_runs")],
)
async def test_bad_schedules_raise_config_error(
    flavour: Flavour, kwargs: dict[str, Any], variable: str
) -> None:
    with pytest.raises(ConfigError) as info:
        flavour.Task(flavour.job(lambda: None), **kwargs)
    assert info.value.variable == variable


def test_the_async_task_works_on_consecutive_event_loops() -> None:
    calls: list[int] = []

    async def job() -> None:
        calls.append(1)

    task = midil_async.PeriodicTask(job, 0.005, run_immediately=True, max_runs=2)

    async def one_run(stop: bool) -> None:
        await task.start()
        while task.runs < 2:
            await asyncio.sleep(0.002)
        if stop:
            await task.stop()

    asyncio.run(one_run(stop=True))
    asyncio.run(one_run(stop=True))
    assert len(calls) == 4
    # A loop that ends with the task still waiting (cancelled with the loop) leaves the next loop
    # free to start it again.
    endless = midil_async.PeriodicTask(job, 60.0)
    asyncio.run(endless.start())
    asyncio.run(endless.start())
    asyncio.run(endless.stop())
