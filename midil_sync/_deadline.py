"""A wall-clock deadline for blocking sockets: one watchdog thread shuts a socket down when its
request's deadline passes.

Socket timeouts bound each ``recv``, not a whole exchange: a server that sends one byte every
0.3 s never trips a 3 s read timeout and can hold a call for as long as it likes. urllib3 has no
total deadline, so the transport arms a :class:`Guard` per request; the connection classes of
``midil_sync._transport`` register their socket with the guard of the request in progress, and
the watchdog shuts that socket down at the deadline, which wakes the blocked read with an error
the transport then reports as ``TimeoutError(phase="deadline")``.
"""

from __future__ import annotations

import contextlib
import contextvars
import heapq
import itertools
import socket
import threading
import time

__all__ = ["CURRENT", "Guard"]

CURRENT: contextvars.ContextVar[Guard | None] = contextvars.ContextVar(
    "midil_deadline_guard", default=None
)
"""The guard of the request this thread is sending; read by the connection classes."""


class Guard:
    """The deadline of one request and the socket it watches; :meth:`cancel` when done."""

    __slots__ = ("_sock", "cancelled", "deadline", "fired")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.fired = False
        self.cancelled = False
        self._sock: socket.socket | None = None

    def watch(self, sock: socket.socket | None) -> None:
        """Watch ``sock`` (the request's connection) until :meth:`cancel`."""
        if sock is None or sock is self._sock or self.cancelled:
            return
        self._sock = sock
        _WATCHDOG.arm(self)
        if self.deadline <= time.monotonic():
            _WATCHDOG.fire(self)

    def cancel(self) -> None:
        """Stop watching: the exchange finished in time, or its connection went back to the pool.

        Taken under the watchdog's lock, so once this returns the socket is never shut by this
        guard (a pooled connection may already serve another request).
        """
        if not self.cancelled:
            _WATCHDOG.cancel(self)

    def shut(self) -> None:
        """Shut the watched socket down (called by the watchdog at the deadline)."""
        if self.cancelled or self.fired:
            return
        self.fired = True
        sock = self._sock
        if sock is not None:
            # The base class method: an SSLSocket's own shutdown also drops its SSL object,
            # which the reading thread may be using.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread and a heap of guards ordered by deadline."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, Guard]] = []
        self._counter = itertools.count()
        self._cancelled = 0
        self._thread: threading.Thread | None = None

    def arm(self, guard: Guard) -> None:
        with self._cond:
            entry = (guard.deadline, next(self._counter), guard)
            earliest = self._heap[0][0] if self._heap else None
            heapq.heappush(self._heap, entry)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="midil-deadline-watchdog", daemon=True
                )
                self._thread.start()
            elif earliest is None or guard.deadline < earliest:
                self._cond.notify()

    def cancel(self, guard: Guard) -> None:
        with self._cond:
            if guard.cancelled:
                return
            guard.cancelled = True
            if guard._sock is None:
                return
            guard._sock = None  # the connection is the pool's again: hold no reference to it
            self._cancelled += 1
            # Lazy deletion, compacted once most entries are dead, so memory stays bounded by the
            # requests in flight rather than by the requests of the last deadline period.
            if self._cancelled > 64 and self._cancelled * 2 > len(self._heap):
                self._heap = [e for e in self._heap if not e[2].cancelled]
                heapq.heapify(self._heap)
                self._cancelled = 0

    def fire(self, guard: Guard) -> None:
        with self._cond:
            guard.shut()

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                while self._heap and (self._heap[0][2].cancelled or self._heap[0][0] <= now):
                    _, _, guard = heapq.heappop(self._heap)
                    if guard.cancelled:
                        self._cancelled = max(0, self._cancelled - 1)
                    else:
                        guard.shut()
                wait = self._heap[0][0] - now if self._heap else None
                self._cond.wait(wait)


_WATCHDOG = _Watchdog()
