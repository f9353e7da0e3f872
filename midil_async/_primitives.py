"""What truly differs between an event loop and threads, for the async shell.

``midil_sync._primitives`` has the same names with the same shape, so the shell modules written
once here become their sync twins by a plain rewrite (``scripts/unasync.py``): ``await`` goes,
``async with`` becomes ``with``, and these primitives swap for their thread versions.

- :class:`Lock`: mutual exclusion across an ``await`` (one ``asyncio.Lock`` per event loop).
- :class:`StateLock`: guards a few lines of state that never await; a no-op on a loop, where
  nothing interleaves between two awaits, and a ``threading.Lock`` in threads.
- :class:`SingleFlight`: one run of a piece of work at a time, shared by concurrent callers.
- :func:`sleep`, :func:`gather`, :func:`within` (a deadline around awaited work), :func:`unless`
  (work given up when a :class:`Flag` is set first: a long poll that must not delay a stop).
- :class:`LoopBound` (from :mod:`midil_async._loop`): a resource per event loop.
- For the event dispatcher and periodic tasks: :class:`WorkQueue` (bounded, closable, FIFO),
  :func:`spawn`, :func:`join` and :func:`abandon` (worker tasks), :class:`Flag` (a settable
  event with a timed wait), :func:`runner` (a handler as something to await: a sync one runs in
  a thread), and the type aliases :data:`Job` and :data:`Sleeper`.
- For consumers run as scripts: :func:`catch_signals` (SIGTERM and SIGINT call a function in the
  loop, through ``loop.add_signal_handler``).
"""

from __future__ import annotations

import builtins
import contextvars
import functools
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from midil_async._loop import LoopBound

if TYPE_CHECKING:
    import asyncio

__all__ = [
    "IS_ASYNC",
    "DeadlineExceeded",
    "Flag",
    "Interrupted",
    "Job",
    "Lock",
    "LoopBound",
    "QueueClosed",
    "QueueFull",
    "SingleFlight",
    "Sleeper",
    "StateLock",
    "WorkQueue",
    "Worker",
    "abandon",
    "catch_signals",
    "gather",
    "join",
    "runner",
    "sleep",
    "spawn",
    "unless",
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


class Interrupted(Exception):
    """Raised by :func:`unless` when its flag was set before its work finished."""


async def unless(
    flag: Flag, work: Callable[..., Awaitable[T]], *args: Any, grace: float = 0.0
) -> T:
    """The result of ``work(*args)``, or :class:`Interrupted` when ``flag`` is set first and the
    work does not finish within ``grace`` seconds more: it is then cancelled (what it was
    receiving is lost to it; SQS redelivers a message whose receive was cut after its visibility
    timeout)."""
    import asyncio

    if flag.is_set():
        raise Interrupted
    task = asyncio.ensure_future(work(*args))
    waiter = asyncio.ensure_future(flag.wait())
    try:
        await asyncio.wait((task, waiter), return_when=asyncio.FIRST_COMPLETED)
        if not task.done() and grace > 0:
            await asyncio.wait((task,), timeout=grace)
    finally:
        waiter.cancel()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    if task.cancelled() and flag.is_set():
        raise Interrupted
    return task.result()


# ----------------------------------------------------------------- dispatcher and periodic tasks

Job = Callable[[], Awaitable[object]] | Callable[[], object]
"""What a periodic task runs: a coroutine function, or a plain function (run in a thread)."""

Sleeper = Callable[[float], Awaitable[object]]
"""An injected sleep (tests): waits the given seconds (on the clock it goes with)."""

if TYPE_CHECKING:
    Worker = asyncio.Task[None]
else:
    Worker = Any
"""A running worker: an ``asyncio.Task``."""


class QueueFull(Exception):
    """:meth:`WorkQueue.put_nowait` found the queue full."""


class QueueClosed(Exception):
    """The :class:`WorkQueue` is closed: it takes nothing more, and ``get`` raises once it is empty."""


def _wake_one(waiters: deque[asyncio.Future[None]]) -> None:
    while waiters:
        waiter = waiters.popleft()
        if not waiter.done():
            waiter.set_result(None)
            return


def _wake_all(waiters: deque[asyncio.Future[None]]) -> None:
    while waiters:
        waiter = waiters.popleft()
        if not waiter.done():
            waiter.set_result(None)


class WorkQueue(Generic[T]):
    """A bounded FIFO that can be closed, for one event loop (make it inside the loop that uses it).

    ``put`` waits for room, ``put_nowait`` raises :class:`QueueFull`; after :meth:`close` both
    raise :class:`QueueClosed` (waiting putters too), while ``get`` still hands out what is left
    and raises :class:`QueueClosed` once the queue is empty. :meth:`clear` takes what is left.
    """

    __slots__ = ("_closed", "_getters", "_items", "_maxsize", "_putters")

    def __init__(self, maxsize: int) -> None:
        self._maxsize = maxsize
        self._items: deque[T] = deque()
        self._getters: deque[asyncio.Future[None]] = deque()
        self._putters: deque[asyncio.Future[None]] = deque()
        self._closed = False

    def __len__(self) -> int:
        return len(self._items)

    def put_nowait(self, item: T, *, after_close: bool = False) -> None:
        """Append ``item``, or raise :class:`QueueFull` / :class:`QueueClosed`. With
        ``after_close`` a closed queue takes it too (work a running worker adds while the queue
        drains: that worker is still there to take it)."""
        if self._closed and not after_close:
            raise QueueClosed
        if len(self._items) >= self._maxsize:
            raise QueueFull
        self._items.append(item)
        if self._getters:
            _wake_one(self._getters)

    async def put(self, item: T) -> None:
        """Append ``item``, waiting for room; :class:`QueueClosed` if the queue is or gets closed."""
        while not self._closed and len(self._items) >= self._maxsize:
            waiter: asyncio.Future[None] = _running_loop().create_future()
            self._putters.append(waiter)
            try:
                await waiter
            except BaseException:
                waiter.cancel()
                if waiter in self._putters:
                    self._putters.remove(waiter)
                elif not self._closed and len(self._items) < self._maxsize:
                    _wake_one(self._putters)  # this wake-up was ours: pass it on
                raise
        self.put_nowait(item)

    async def get(self, holder: list[T | None] | None = None) -> T:
        """The oldest item, waiting for one; :class:`QueueClosed` once closed and empty.

        With ``holder``, the item is also put in ``holder[0]`` as it leaves the queue, so that
        whoever :meth:`clear` s the queue finds every item either left in it or held.
        """
        while not self._items:
            if self._closed:
                raise QueueClosed
            waiter: asyncio.Future[None] = _running_loop().create_future()
            self._getters.append(waiter)
            try:
                await waiter
            except BaseException:
                waiter.cancel()
                if waiter in self._getters:
                    self._getters.remove(waiter)
                elif self._items:
                    _wake_one(self._getters)
                raise
        item = self._items.popleft()
        if holder is not None:
            holder[0] = item
        if self._putters:
            _wake_one(self._putters)
        return item

    def close(self) -> None:
        """Take nothing more; wake every waiter."""
        self._closed = True
        _wake_all(self._getters)
        _wake_all(self._putters)

    def clear(self) -> list[T]:
        """Remove and return the items left, oldest first."""
        items = list(self._items)
        self._items.clear()
        _wake_all(self._putters)
        return items


def _running_loop() -> asyncio.AbstractEventLoop:
    from asyncio import get_running_loop

    return get_running_loop()


def spawn(work: Callable[..., Awaitable[None]], *args: Any, name: str = "midil-worker") -> Worker:
    """Run ``work(*args)`` as a task of the running loop, in a fresh (empty) ``contextvars``
    context: a worker carries none of the starter's context, as a new thread carries none."""
    loop = _running_loop()
    coro = work(*args)
    task: Worker = contextvars.Context().run(loop.create_task, coro, name=name)  # type: ignore[arg-type]
    return task


async def join(workers: Sequence[Worker], deadline: float | None = None) -> bool:
    """Wait until every worker has finished, or until ``deadline`` (a ``time.monotonic()``
    instant); True if all finished. The calling worker itself is not waited for."""
    import asyncio

    current = asyncio.current_task()
    waiting = [w for w in workers if w is not current and not w.done()]
    if not waiting:
        return True
    timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
    _, still = await asyncio.wait(waiting, timeout=timeout)
    return not still


async def abandon(workers: Sequence[Worker]) -> None:
    """Stop workers that did not finish in time: cancel them (a handler awaiting is interrupted)
    and wait for them to unwind."""
    import asyncio

    current = asyncio.current_task()
    waiting = [w for w in workers if w is not current and not w.done()]
    for worker in waiting:
        worker.cancel()
    if waiting:
        await asyncio.gather(*waiting, return_exceptions=True)


class Flag:
    """A flag that can be set once and waited for with a timeout (an ``asyncio.Event``; make it
    inside the loop that uses it)."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        import asyncio

        self._event = asyncio.Event()

    def set(self) -> None:
        """Set the flag and wake the waiters."""
        self._event.set()

    def is_set(self) -> bool:
        """Whether the flag is set."""
        return self._event.is_set()

    async def wait(self, timeout: float | None = None) -> bool:
        """Wait until the flag is set or ``timeout`` seconds pass; whether it is set."""
        if self._event.is_set():
            return True
        if timeout is not None and timeout <= 0:
            await sleep(0)
            return self._event.is_set()
        try:
            await within(
                self._event.wait(), None if timeout is None else time.monotonic() + timeout
            )
        except DeadlineExceeded:
            return self._event.is_set()
        return True


async def _in_thread(func: Callable[..., object], *args: Any) -> object:
    import asyncio

    return await asyncio.to_thread(func, *args)


def runner(func: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """``func`` as something to await: a coroutine function as it is, a plain function run in a
    worker thread (``asyncio.to_thread``, which carries the current ``contextvars`` context)."""
    from midil_common.events.router import is_async_handler

    if is_async_handler(func):
        return func
    return functools.partial(_in_thread, func)


def catch_signals(callback: Callable[[], object]) -> Callable[[], None]:
    """Call ``callback`` in the running loop on SIGTERM and SIGINT (``loop.add_signal_handler``);
    returns the function that removes the handlers. Only from the main thread (``ConfigError``
    otherwise)."""
    import signal

    from midil_common.errors import ConfigError

    loop = _running_loop()
    caught = (signal.SIGTERM, signal.SIGINT)
    try:
        for number in caught:
            loop.add_signal_handler(number, callback)
    except (ValueError, RuntimeError) as exc:
        for number in caught:
            loop.remove_signal_handler(number)
        raise ConfigError(
            "signal handlers can be installed only from the main thread's event loop"
        ) from exc

    def restore() -> None:
        for number in caught:
            loop.remove_signal_handler(number)

    return restore
