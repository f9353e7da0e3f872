"""What truly differs between an event loop and threads, for the async shell.

``midil_sync._primitives`` has the same names with the same shape, so the shell modules written
once here become their sync twins by a plain rewrite (``scripts/unasync.py``): ``await`` goes,
``async with`` becomes ``with``, and these primitives swap for their thread versions.

- :class:`Lock`: mutual exclusion across an ``await`` (one ``asyncio.Lock`` per event loop).
- :class:`StateLock`: guards a few lines of state that never await; a no-op on a loop, where
  nothing interleaves between two awaits, and a ``threading.Lock`` in threads.
- :class:`SingleFlight`: one run of a piece of work at a time, shared by concurrent callers.
- :func:`sleep`, :func:`gather`, :func:`within` (a deadline around awaited work).
- :class:`LoopBound` (from :mod:`midil_async._loop`): a resource per event loop.
"""

from __future__ import annotations

import builtins
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from midil_async._loop import LoopBound

if TYPE_CHECKING:
    import asyncio

__all__ = [
    "IS_ASYNC",
    "DeadlineExceeded",
    "Lock",
    "LoopBound",
    "SingleFlight",
    "StateLock",
    "gather",
    "sleep",
    "within",
]

T = TypeVar("T")

IS_ASYNC = True
"""Whether this shell's I/O methods are coroutines (for checks on what users hand in)."""


class DeadlineExceeded(Exception):
    """Raised by :func:`within` and :meth:`SingleFlight.run` when their deadline passes."""


class Lock:
    """An ``asyncio.Lock`` for the running loop (a lock belongs to the loop it first waits in)."""

    __slots__ = ("_locks",)

    def __init__(self) -> None:
        self._locks: LoopBound[asyncio.Lock] = LoopBound(_new_lock)

    async def __aenter__(self) -> None:
        await self._locks.get().acquire()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._locks.get().release()


def _new_lock() -> asyncio.Lock:
    import asyncio  # here, not at import: a running loop has loaded it; an import need not

    return asyncio.Lock()


class StateLock(AbstractContextManager[None]):
    """Nothing to do on an event loop: code that does not await cannot be interleaved."""

    __slots__ = ()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


class SingleFlight:
    """Runs one piece of work at a time and shares its outcome: callers that find a run in flight
    wait for it and get its result or its error (or skip it), as Go's ``singleflight`` does.

    The work runs as its own task, shielded: a caller that is cancelled does not cancel the run
    the others wait for. One flight per event loop.
    """

    __slots__ = ("_tasks",)

    def __init__(self) -> None:
        self._tasks: LoopBound[list[asyncio.Task[Any]]] = LoopBound(list)

    async def run(
        self,
        work: Callable[[], Awaitable[T]],
        *,
        deadline: float | None = None,
        skip_if_busy: bool = False,
    ) -> T | None:
        """The outcome of ``work``, run now, or of the run already in flight: waited for at most
        until ``deadline`` (a ``time.monotonic()`` instant, else :class:`DeadlineExceeded`), or
        skipped with None when ``skip_if_busy``."""
        import asyncio

        slot = self._tasks.get()
        if slot and not slot[0].done():
            if skip_if_busy:
                return None
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                result: T = await asyncio.wait_for(asyncio.shield(slot[0]), timeout=left)
            except asyncio.TimeoutError:
                raise DeadlineExceeded from None
            return result
        task: asyncio.Task[T] = asyncio.ensure_future(work())
        task.add_done_callback(_retrieve)
        slot[:] = [task]
        return await asyncio.shield(task)


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a run's error as seen, so an error no caller awaited is not reported as lost."""
    if not task.cancelled():
        task.exception()


async def sleep(seconds: float) -> None:
    """Wait ``seconds`` without holding the loop."""
    import asyncio

    await asyncio.sleep(seconds)


async def gather(*works: Awaitable[T]) -> list[T]:
    """Run ``works`` concurrently; their results in order."""
    import asyncio

    return list(await asyncio.gather(*works))


async def within(work: Awaitable[T], deadline: float | None) -> T:
    """Await ``work``, cancelled at ``deadline`` (a ``time.monotonic()`` instant) with
    :class:`DeadlineExceeded`. On Python 3.11+ a timeout scope, not a new task."""
    if deadline is None:
        return await work
    import asyncio

    left = max(0.0, deadline - time.monotonic())
    if sys.version_info >= (3, 11):
        scope = asyncio.timeout(left)
        try:
            async with scope:
                return await work
        except builtins.TimeoutError:
            # The kit's own TimeoutError is a builtins one too: only the scope's expiry is ours.
            if scope.expired():
                raise DeadlineExceeded from None
            raise
    try:
        return await asyncio.wait_for(work, timeout=left)
    except asyncio.TimeoutError:
        raise DeadlineExceeded from None
