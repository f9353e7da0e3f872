"""Both shells' ``EventDispatcher`` and ``PeriodicTask`` behind one interface, so each test body runs
on the sync and the async flavour (the ``flavour`` fixture).

Tests are coroutines: the async shell's objects are used as they are; the sync shell's are wrapped
so that ``start``, ``stop``, ``publish`` and ``notify`` can be awaited (they run, blocking, in the
test's thread) and ``async with`` works. ``flavour.handler(fn)`` and ``flavour.job(fn)`` turn a plain
function into the shell's native kind (a coroutine function in the async shell).
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

import midil_async
import midil_sync

AWAITED = {"start", "stop", "publish", "notify"}
"""The methods that are coroutines in the async shell."""


class SyncAsAsync:
    """A sync-shell object with the async shell's interface."""

    def __init__(self, target: Any) -> None:
        self.target = target

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.target, name)
        if name not in AWAITED:
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            return attr(*args, **kwargs)

        return call

    async def __aenter__(self) -> SyncAsAsync:
        self.target.__enter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.target.__exit__(*exc)


class Flavour:
    """One shell, as the tests see it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.module: Any = midil_sync if name == "sync" else midil_async
        self.made: list[Any] = []

    def __repr__(self) -> str:
        return self.name

    @property
    def is_async(self) -> bool:
        return self.name == "async"

    def _wrap(self, obj: Any) -> Any:
        self.made.append(obj)
        return SyncAsAsync(obj) if self.name == "sync" else obj

    def Dispatcher(self, **kwargs: Any) -> Any:
        return self._wrap(self.module.EventDispatcher(**kwargs))

    def Task(self, func: Callable[[], Any], interval: float, **kwargs: Any) -> Any:
        return self._wrap(self.module.PeriodicTask(func, interval, **kwargs))

    def handler(self, fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """``fn`` as the shell's native handler: a coroutine function in the async shell."""
        if self.name == "sync":
            return fn

        @functools.wraps(fn)
        async def native(event: Any) -> Any:
            return fn(event)

        return native

    def job(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        """``fn`` as the shell's native periodic job."""
        if self.name == "sync":
            return fn

        @functools.wraps(fn)
        async def native() -> Any:
            return fn()

        return native

    def background(self, obj: Any, method: str, *args: Any) -> asyncio.Future[Any]:
        """Start ``obj.method(*args)`` without waiting: a thread (sync) or a task (async)."""
        if self.name == "sync":
            return asyncio.ensure_future(asyncio.to_thread(getattr(obj.target, method), *args))
        return asyncio.ensure_future(getattr(obj, method)(*args))


@pytest.fixture(params=["sync", "async"])
async def flavour(request: pytest.FixtureRequest) -> Any:
    made = Flavour(str(request.param))
    yield made
    # Whatever a test left running is stopped (a no-op for what it stopped itself).
    for obj in made.made:
        result = obj.stop()
        if asyncio.iscoroutine(result):
            await result


async def eventually(condition: Callable[[], bool], within: float = 3.0) -> None:
    """Wait (without blocking the loop) until ``condition()`` holds."""
    stop = time.monotonic() + within
    while not condition():
        assert time.monotonic() < stop, "condition not reached in time"
        await asyncio.sleep(0.002)


class FakeClock:
    """A monotonic clock that moves only when slept on (or advanced by a job)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds

    def sleep_for(self, flavour: Flavour) -> Callable[[float], Any]:
        """The injected ``sleep`` going with this clock, in the flavour's kind."""

        def sleep(seconds: float) -> None:
            self.slept.append(seconds)
            self.advance(seconds)

        if flavour.name == "sync":
            return sleep

        async def asleep(seconds: float) -> None:
            sleep(seconds)
            await asyncio.sleep(0)

        return asleep
