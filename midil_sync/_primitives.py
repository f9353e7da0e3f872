"""What truly differs between threads and an event loop, for the sync shell.

The twin of ``midil_async._primitives``, with the same names and shapes: the shell modules written
once in ``midil_async`` are rewritten into this package by ``scripts/unasync.py``, and these thread
versions take the place of the event-loop ones.

- :class:`Lock` and :class:`StateLock`: ``threading.Lock`` both (in threads, even code that does
  not block can be interleaved).
- :class:`SingleFlight`: one run of a piece of work at a time; a lock with a timeout.
- :func:`sleep`, :func:`gather` (its arguments already ran, one after the other), :func:`within`
  (the transport enforces request deadlines in threads; nothing more can be cut from outside),
  :func:`unless` (a blocking call given up when a :class:`Flag` is set first: it runs in a thread
  of its own, left to end by itself).
- :class:`LoopBound`: threads have no loops: one resource, made on first use.
- For the event dispatcher and periodic tasks: :class:`WorkQueue` (bounded, closable, FIFO,
  thread-safe), :func:`spawn`, :func:`join` and :func:`abandon` (worker threads), :class:`Flag`
  (a ``threading.Event``), :func:`runner` (a plain function as it is; a coroutine function is
  refused), and the type aliases :data:`Job` and :data:`Sleeper`.
- For consumers run as scripts: :func:`catch_signals` (SIGTERM and SIGINT call a function in a
  new thread, so it never runs inside whatever lock the interrupted main thread holds).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar, cast

from midil_common.errors import ConfigError

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

IS_ASYNC = False
"""Whether this shell's I/O methods are coroutines (for checks on what users hand in)."""


class DeadlineExceeded(Exception):
    """Raised by :meth:`SingleFlight.run` when its deadline passes while waiting."""


def Lock() -> threading.Lock:
    """A ``threading.Lock``."""
    return threading.Lock()


def StateLock() -> threading.Lock:
    """A ``threading.Lock`` around a few lines of state."""
    return threading.Lock()


class SingleFlight:
    """Runs one piece of work at a time and shares its outcome: callers that find a run in flight
    wait for it and get its result or its error (or skip it), as Go's ``singleflight`` does."""

    __slots__ = ("_cond", "_finished", "_outcome", "_running")

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._running = False
        self._finished = 0
        self._outcome: tuple[Any, BaseException | None] = (None, None)

    def run(
        self,
        work: Callable[[], T],
        *,
        deadline: float | None = None,
        skip_if_busy: bool = False,
    ) -> T | None:
        """The outcome of ``work``, run now, or of the run already in flight: waited for at most
        until ``deadline`` (a ``time.monotonic()`` instant, else :class:`DeadlineExceeded`), or
        skipped with None when ``skip_if_busy``."""
        with self._cond:
            if self._running:
                if skip_if_busy:
                    return None
                awaited = self._finished
                while self._finished == awaited:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        raise DeadlineExceeded
                    self._cond.wait(left)
                result, error = self._outcome
                if error is not None:
                    raise error
                return cast(T, result)
            self._running = True
        outcome: tuple[Any, BaseException | None] = (None, None)
        try:
            value = work()
            outcome = (value, None)
            return value
        except BaseException as exc:
            outcome = (None, exc)
            raise
        finally:
            with self._cond:
                self._running = False
                self._finished += 1
                self._outcome = outcome
                self._cond.notify_all()


class LoopBound(Generic[T]):
    """One ``T``, made by ``factory`` on first use (the twin of the per-loop holder)."""

    __slots__ = ("_closer", "_factory", "_lock", "_value")

    def __init__(self, factory: Callable[[], T], closer: Callable[[T], None] | None = None) -> None:
        self._factory = factory
        self._closer = closer
        self._value: T | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        """The ``T`` (made now if there is none yet)."""
        value = self._value
        if value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._factory()
                value = self._value
        return value

    def close(self) -> None:
        """Close the ``T`` now; the next :meth:`get` makes a new one."""
        with self._lock:
            value, self._value = self._value, None
        if value is not None and self._closer is not None:
            self._closer(value)


def sleep(seconds: float) -> None:
    """Block this thread for ``seconds``."""
    time.sleep(seconds)


def gather(*results: T) -> list[T]:
    """The results in order (in threads, the calls already ran one after the other)."""
    return list(results)


def within(result: T, deadline: float | None) -> T:
    """``result`` itself: its work already ran, bounded by the transport's request deadline."""
    return result


# ----------------------------------------------------------------- dispatcher and periodic tasks

Job = Callable[[], object]
"""What a periodic task runs: a plain function."""

Sleeper = Callable[[float], object]
"""An injected sleep (tests): waits the given seconds (on the clock it goes with)."""

Worker = threading.Thread
"""A running worker: a thread."""


class QueueFull(Exception):
    """:meth:`WorkQueue.put_nowait` found the queue full."""


class QueueClosed(Exception):
    """The :class:`WorkQueue` is closed: it takes nothing more, and ``get`` raises once it is empty."""


class WorkQueue(Generic[T]):
    """A bounded FIFO that can be closed, shared by threads.

    ``put`` waits for room, ``put_nowait`` raises :class:`QueueFull`; after :meth:`close` both
    raise :class:`QueueClosed` (waiting putters too), while ``get`` still hands out what is left
    and raises :class:`QueueClosed` once the queue is empty. :meth:`clear` takes what is left.
    """

    __slots__ = ("_closed", "_items", "_lock", "_maxsize", "_not_empty", "_not_full")

    def __init__(self, maxsize: int) -> None:
        self._maxsize = maxsize
        self._items: deque[T] = deque()
        self._lock = threading.Lock()
        self._not_empty = threading.Condition(self._lock)
        self._not_full = threading.Condition(self._lock)
        self._closed = False

    def __len__(self) -> int:
        return len(self._items)

    def put_nowait(self, item: T, *, after_close: bool = False) -> None:
        """Append ``item``, or raise :class:`QueueFull` / :class:`QueueClosed`. With
        ``after_close`` a closed queue takes it too (work a running worker adds while the queue
        drains: that worker is still there to take it)."""
        with self._lock:
            if self._closed and not after_close:
                raise QueueClosed
            if len(self._items) >= self._maxsize:
                raise QueueFull
            self._items.append(item)
            self._not_empty.notify()

    def put(self, item: T) -> None:
        """Append ``item``, waiting for room; :class:`QueueClosed` if the queue is or gets closed."""
        with self._lock:
            while not self._closed and len(self._items) >= self._maxsize:
                self._not_full.wait()
            if self._closed:
                raise QueueClosed
            self._items.append(item)
            self._not_empty.notify()

    def get(self, holder: list[T | None] | None = None) -> T:
        """The oldest item, waiting for one; :class:`QueueClosed` once closed and empty.

        With ``holder``, the item is also put in ``holder[0]`` as it leaves the queue (under its
        lock), so that whoever :meth:`clear` s the queue finds every item either left in it or held.
        """
        with self._lock:
            while not self._items:
                if self._closed:
                    raise QueueClosed
                self._not_empty.wait()
            item = self._items.popleft()
            if holder is not None:
                holder[0] = item
            self._not_full.notify()
            return item

    def close(self) -> None:
        """Take nothing more; wake every waiter."""
        with self._lock:
            self._closed = True
            self._not_empty.notify_all()
            self._not_full.notify_all()

    def clear(self) -> list[T]:
        """Remove and return the items left, oldest first."""
        with self._lock:
            items = list(self._items)
            self._items.clear()
            self._not_full.notify_all()
            return items


def spawn(work: Callable[..., None], *args: Any, name: str = "midil-worker") -> Worker:
    """Run ``work(*args)`` in a new daemon thread (which starts with an empty ``contextvars``
    context) and return it."""
    thread = threading.Thread(target=work, args=args, name=name, daemon=True)
    thread.start()
    return thread


def join(workers: Sequence[Worker], deadline: float | None = None) -> bool:
    """Wait until every worker has finished, or until ``deadline`` (a ``time.monotonic()``
    instant); True if all finished. The calling worker itself is not waited for."""
    current = threading.current_thread()
    for worker in workers:
        if worker is current:
            continue
        worker.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        if worker.is_alive():
            return False
    return True


def abandon(workers: Sequence[Worker]) -> None:
    """Leave workers that did not finish in time: a thread cannot be interrupted, so each ends
    once its current call returns (it takes no further work from a cleared, closed queue)."""
    return None


class Flag(threading.Event):
    """A flag that can be set once and waited for with a timeout (a ``threading.Event``) that also
    wakes the waiters of :func:`unless`."""

    def __init__(self) -> None:
        super().__init__()
        self._wakers: list[threading.Event] = []
        self._wakers_lock = threading.Lock()

    def set(self) -> None:
        """Set the flag and wake the waiters."""
        super().set()
        with self._wakers_lock:
            wakers = list(self._wakers)
        for waker in wakers:
            waker.set()

    def _link(self, waker: threading.Event) -> None:
        with self._wakers_lock:
            self._wakers.append(waker)
        if self.is_set():
            waker.set()

    def _unlink(self, waker: threading.Event) -> None:
        with self._wakers_lock:
            self._wakers.remove(waker)


class Interrupted(Exception):
    """Raised by :func:`unless` when its flag was set before its work finished."""


def unless(flag: Flag, work: Callable[..., T], *args: Any, grace: float = 0.0) -> T:
    """The result of ``work(*args)``, or :class:`Interrupted` when ``flag`` is set first and the
    work does not finish within ``grace`` seconds more.

    A blocking call cannot be cut from outside, so it runs in a daemon thread (in a copy of the
    caller's ``contextvars`` context); given up, it ends by itself and its result is dropped (SQS
    redelivers a message whose receive was given up after its visibility timeout)."""
    import contextvars

    if flag.is_set():
        raise Interrupted
    finished = threading.Event()  # the call returned or raised
    woken = threading.Event()  # the call finished or the flag was set
    outcome: list[tuple[Any, BaseException | None]] = []

    def call() -> None:
        try:
            outcome.append((work(*args), None))
        except BaseException as exc:
            outcome.append((None, exc))
        finished.set()
        woken.set()

    context = contextvars.copy_context()
    flag._link(woken)
    try:
        threading.Thread(target=context.run, args=(call,), name="midil-call", daemon=True).start()
        woken.wait()
    finally:
        flag._unlink(woken)
    if not finished.is_set() and grace > 0:
        finished.wait(grace)
    if not outcome:
        raise Interrupted
    result, error = outcome[0]
    if error is not None:
        raise error
    return cast(T, result)


def runner(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` itself: this shell calls plain functions. A coroutine function is refused with
    ``ConfigError`` (nothing here would await it; use ``midil_async``)."""
    from midil_common.events.router import is_async_handler

    if is_async_handler(func):
        raise ConfigError(
            f"{getattr(func, '__qualname__', func)!r} is a coroutine function: the sync shell "
            "calls plain functions (use midil_async for coroutines)"
        )
    return func


def catch_signals(callback: Callable[[], object]) -> Callable[[], None]:
    """Call ``callback`` on SIGTERM and SIGINT, in a new thread (a signal handler interrupts the
    main thread anywhere, even inside a lock ``callback`` may take); returns the function that
    restores the previous handlers. Only from the main thread (``ConfigError`` otherwise)."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        raise ConfigError("signal handlers can be installed only from the main thread")

    def handle(number: int, frame: object) -> None:
        threading.Thread(target=callback, name="midil-signal", daemon=True).start()

    caught = (signal.SIGTERM, signal.SIGINT)
    previous = {number: signal.signal(number, handle) for number in caught}

    def restore() -> None:
        for number, handler in previous.items():
            signal.signal(number, handler)

    return restore
