"""Binding resources to the event loop that uses them.

A script may call ``asyncio.run`` twice, and a test suite runs a loop per test, with one client
object shared by all of them. Connections, locks and futures belong to one loop: used from another
they fail with "Event loop is closed" or "attached to a different loop". So each async object of the
kit keeps its loop-bound parts in a :class:`LoopBound`, which makes them anew for each loop and
closes the old loop's resource *inside* that loop, while it shuts down: a small async generator is
parked on the loop, and ``asyncio.run`` (like any loop runner that calls ``shutdown_asyncgens``)
closes it, which runs the resource's ``aclose``. Were a loop closed without that, the resource is
simply dropped: it cannot be awaited from another loop.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    import asyncio

__all__ = ["LoopBound"]

T = TypeVar("T")


class LoopBound(Generic[T]):
    """One ``T`` per running event loop, made by ``factory`` on first use in that loop.

    ``closer`` (a coroutine function) closes a ``T``; it runs in the owning loop when that loop
    shuts down, or on :meth:`aclose`.
    """

    __slots__ = ("_closer", "_factory", "_guard", "_loop", "_value")

    def __init__(
        self, factory: Callable[[], T], closer: Callable[[T], Awaitable[None]] | None = None
    ) -> None:
        self._factory = factory
        self._closer = closer
        self._loop: asyncio.AbstractEventLoop | None = None
        self._value: T | None = None
        self._guard: AsyncGenerator[None, None] | None = None

    def get(self) -> T:
        """The ``T`` of the running loop (made now if this loop has none yet)."""
        loop = _running_loop()
        if loop is not self._loop or self._value is None:
            self._value = self._factory()
            self._loop = loop
            self._guard = None
            if self._closer is not None:
                self._guard = _park(self._closer, self._value)
                _start(self._guard)
        return self._value

    async def aclose(self) -> None:
        """Close the running loop's ``T`` now; the next :meth:`get` makes a new one."""
        guard, value, loop = self._guard, self._value, self._loop
        self._guard = self._value = self._loop = None
        if value is None:
            return
        if loop is not _running_loop():
            return  # another loop's resource: closed by that loop's shutdown, or dropped
        if guard is not None:
            await guard.aclose()  # runs the closer inside the generator's finally
        elif self._closer is not None:
            await self._closer(value)


def _running_loop() -> asyncio.AbstractEventLoop:
    """The running loop; asyncio is imported here, where a loop runs, not when the kit is."""
    from asyncio import get_running_loop

    return get_running_loop()


async def _park(closer: Callable[[T], Awaitable[None]], value: T) -> AsyncGenerator[None, None]:
    """Suspended until its loop shuts down (``shutdown_asyncgens``), then closes ``value``."""
    try:
        yield
    finally:
        await closer(value)


def _start(guard: AsyncGenerator[None, None]) -> None:
    """Run ``guard`` to its ``yield`` without awaiting: the loop's first-iteration hook then
    registers it for closing at shutdown."""
    step = guard.asend(None)
    try:
        step.send(None)
    except StopIteration:
        pass
    else:  # pragma: no cover - the generator yields at once, it never awaits before that
        raise RuntimeError("the loop guard awaited before parking")
