"""What truly differs between threads and an event loop, for the sync shell.

The twin of ``midil_async._primitives``, with the same names and shapes: the shell modules written
once in ``midil_async`` are rewritten into this package by ``scripts/unasync.py``, and these thread
versions take the place of the event-loop ones.

- :class:`Lock` and :class:`StateLock`: ``threading.Lock`` both (in threads, even code that does
  not block can be interleaved).
- :class:`SingleFlight`: one run of a piece of work at a time; a lock with a timeout.
- :func:`sleep`, :func:`gather` (its arguments already ran, one after the other), :func:`within`
  (the transport enforces request deadlines in threads; nothing more can be cut from outside).
- :class:`LoopBound`: threads have no loops: one resource, made on first use.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

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
