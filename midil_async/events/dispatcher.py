"""In-process publish/subscribe: ``EventDispatcher``.

Handlers are registered under patterns on an :class:`~midil_common.events.EventRouter` (its own, or
one shared with a consumer through ``router=``) and receive the :class:`~midil_common.events.Event`.
``publish`` routes the event, decides the context its handlers run in (see
:mod:`midil_common.events.dispatch`) and either runs them at once (``inline=True``) or puts the
event on a bounded queue that ``max_workers`` workers take from.
Coroutine handlers are awaited; plain ones run in a worker thread, so they never block the loop.

Lifecycle: ``start()`` (or ``async with``) before publishing; ``publish`` on a dispatcher that is
not running raises ``PublishError`` with the event in ``failed``. ``stop(timeout=None)`` takes
nothing more (except follow-up events its handlers publish meanwhile), waits until every accepted
event is handled and returns a
:class:`~midil_common.events.dispatch.DrainResult`. When ``timeout`` passes first, the events not
handled are returned in ``pending`` and
workers still busy are cancelled.
A stopped dispatcher can be started again.
Each loop has a run of its own: a dispatcher serves one ``asyncio.run`` after another.
"""

from __future__ import annotations

import contextvars
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from midil_async._primitives import (
    LoopBound,
    QueueClosed,
    QueueFull,
    StateLock,
    Worker,
    WorkQueue,
    abandon,
    join,
    runner,
    spawn,
)
from midil_common.errors import ConfigError, PublishError
from midil_common.events.context import EventContext, stamp
from midil_common.events.dispatch import (
    DispatcherSettings,
    DrainResult,
    ErrorCallback,
    HandlingContexts,
    OnFull,
    report_handler_failure,
    reset_current,
    set_current,
)
from midil_common.events.envelope import Event
from midil_common.events.router import EventRouter, Handler, PlanCache, validate_pattern

__all__ = ["DrainResult", "EventDispatcher"]

H = TypeVar("H", bound=Callable[..., Any])

_Step = tuple[Handler, Callable[[Event], Awaitable[Any]]]
_Item = tuple[Event, EventContext, tuple[_Step, ...]]

# The run whose worker is handling an event here: a handler may still publish follow-up events
# while its dispatcher drains (stop() waits for them), though nobody else may.
_HANDLING: contextvars.ContextVar[_Run | None] = contextvars.ContextVar(
    "midil_dispatcher_handling", default=None
)


class _Run:
    """One run of a dispatcher, from ``start`` to ``stop``."""

    __slots__ = ("drained", "handled", "holders", "queue", "running", "workers")

    def __init__(self) -> None:
        self.running = False
        # Set once stop() has seen every worker end: from then on nothing more is taken.
        self.drained = False
        # ``next(handled)`` counts an event handled; read once, at the end of the run.
        self.handled = itertools.count()
        self.queue: WorkQueue[_Item] | None = None
        self.holders: list[list[_Item | None]] = []
        self.workers: tuple[Worker, ...] = ()


class _Slot:
    """The current run of a dispatcher (one per loop)."""

    __slots__ = ("run",)

    def __init__(self) -> None:
        self.run: _Run | None = None


class EventDispatcher:
    """Publish events to the handlers registered for their type, in process.

    Args:
        source: the CloudEvents ``source`` of the events :meth:`notify` builds.
        router: an ``EventRouter`` to register on and route with (shared with other consumers);
            a new one by default.
        max_workers: how many handlers run at once (the number of workers).
        max_queue: how many accepted events may wait for a worker.
        inline: run the handlers inside :meth:`publish`, before it returns.
        on_full: when the queue is full, ``"block"`` waits for room and ``"raise"`` raises
            ``PublishError`` (``failed=[event]``); an event is never dropped.
        on_error: ``on_error(event, handler, exc)``, called when a handler raises, instead of the
            default log line (logger ``midil.events``, with the event id and type, never its
            data); an exception it raises is logged.

    Order: the handlers of one event run one after the other, in registration order; in inline
    mode events are handled in publish order, while workers take events in publish order but
    several workers handle events concurrently. One failing handler never stops the others.

    Example::

        dispatcher = EventDispatcher(source="/orders")

        @dispatcher.on("order.*")
        async def on_order(event: Event) -> None: ...

        async with dispatcher:
            await dispatcher.notify("order.created", {"id": 7})
    """

    def __init__(
        self,
        *,
        source: str = "midil",
        router: EventRouter | None = None,
        max_workers: int = 8,
        max_queue: int = 1000,
        inline: bool = False,
        on_full: OnFull = "block",
        on_error: ErrorCallback | None = None,
    ) -> None:
        self._settings = DispatcherSettings(
            source=source,
            max_workers=max_workers,
            max_queue=max_queue,
            inline=inline,
            on_full=on_full,
            on_error=on_error,
        )
        if router is not None and not isinstance(router, EventRouter):
            raise ConfigError("router must be an EventRouter", variable="router")
        self._router = router if router is not None else EventRouter()
        self._source = source
        self._inline = inline
        self._block = on_full == "block"
        self._on_error = on_error
        self._slots: LoopBound[_Slot] = LoopBound(_Slot)
        self._lock = StateLock()
        self._plans: PlanCache[tuple[_Step, ...]] = PlanCache()
        self._contexts = HandlingContexts()

    # ---------------------------------------------------------------------------- handlers

    @property
    def router(self) -> EventRouter:
        """The router the handlers are registered on."""
        return self._router

    def on(self, pattern: str) -> Callable[[H], H]:
        """Decorator registering the function under ``pattern``; returns it unchanged."""
        validate_pattern(pattern)

        def register(handler: H) -> H:
            self.subscribe(handler, pattern)
            return handler

        return register

    def subscribe(self, handler: Handler, pattern: str) -> None:
        """Register ``handler`` for the event types ``pattern`` matches (``user.*``, ``**``)."""
        runner(handler)  # refuses what this shell cannot call
        self._router.add(pattern, handler)

    def unsubscribe(self, handler: Handler, pattern: str | None = None) -> bool:
        """Unregister ``handler`` (from ``pattern`` only, if given); True if it was registered."""
        return self._router.remove(handler, pattern)

    def _steps(self, event_type: str) -> tuple[_Step, ...]:
        """The handlers of ``event_type``, each with the way this shell calls it (cached until the
        router changes)."""
        handlers = self._router.handlers_for(event_type)
        steps = self._plans.get(event_type, handlers)
        if steps is None:
            steps = tuple((handler, runner(handler)) for handler in handlers)
            self._plans.put(event_type, handlers, steps)
        return steps

    # --------------------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Start the workers (a no-op when running already)."""
        slot = self._slots.get()
        with self._lock:
            if slot.run is not None and slot.run.running:
                return
            run = _Run()
            if not self._inline:
                workers = self._settings.max_workers
                run.queue = WorkQueue(self._settings.max_queue)
                run.holders = [[None] for _ in range(workers)]
                run.workers = tuple(
                    spawn(self._work, run, holder, name=f"midil-dispatcher-{i}")
                    for i, holder in enumerate(run.holders)
                )
            run.running = True
            slot.run = run

    async def stop(self, timeout: float | None = None) -> DrainResult:
        """Take no more events and wait until the accepted ones are handled.

        With ``timeout`` (seconds), the wait ends then and the events not handled are returned in
        ``pending``; workers still busy are cancelled. A dispatcher that is not running returns
        ``DrainResult(0)``.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        slot = self._slots.get()
        with self._lock:
            run = slot.run
            if run is None or not run.running:
                return DrainResult(0)
            run.running = False
        queue = run.queue
        if queue is None:
            return DrainResult(next(run.handled))
        queue.close()
        if await join(run.workers, deadline):
            with self._lock:
                run.drained = True
                # Follow-ups published as the last worker ended: reported, never dropped.
                late = queue.clear()
            return DrainResult(next(run.handled), tuple(item[0] for item in late))
        with self._lock:
            run.drained = True
        queued = queue.clear()
        held = [holder[0] for holder in run.holders if holder[0] is not None]
        await abandon(run.workers)
        pending = tuple(item[0] for item in (*held, *queued))
        return DrainResult(next(run.handled), pending)

    async def __aenter__(self) -> EventDispatcher:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -------------------------------------------------------------------------- publishing

    async def publish(self, event: Event) -> Event:
        """Hand ``event`` to the handlers of its type; returns it as published.

        The event is stamped with the current context (its correlation id, causation id and
        ``traceparent`` where it has none) and its handlers run in the context of its handling.
        Raises ``PublishError`` (``failed=[event]``) when the dispatcher is not running or, with
        ``on_full="raise"``, when the queue is full. While :meth:`stop` drains the queue, only
        its handlers may publish (follow-up events, which the drain waits for).
        """
        run = self._slots.get().run
        if run is None or not run.running:
            if run is not None and run.queue is not None and _HANDLING.get() is run:
                return self._follow_up(run, run.queue, event)
            raise PublishError(
                f"event {event.id} was not published: the dispatcher is not running "
                "(call start() or use it as a context manager)",
                failed=[event],
            )
        steps = self._steps(event.type)
        if not steps:
            # Nothing to run: the event counts as handled, stamped as if it had been.
            next(run.handled)
            return stamp(event)
        event, context = self._contexts.for_event(event)
        queue = run.queue
        if queue is None:
            # Inline: the body of _deliver, without the call (this is the hot path).
            token = set_current(context)
            try:
                for handler, call in steps:
                    try:
                        await call(event)
                    except Exception as exc:
                        report_handler_failure(event, handler, exc, self._on_error)
            finally:
                reset_current(token)
            next(run.handled)
            return event
        try:
            if self._block:
                await queue.put((event, context, steps))
            else:
                queue.put_nowait((event, context, steps))
        except QueueFull:
            raise PublishError(
                f"event {event.id} was not published: the queue is full "
                f"({self._settings.max_queue} events)",
                failed=[event],
            ) from None
        except QueueClosed:
            raise PublishError(
                f"event {event.id} was not published: the dispatcher stopped", failed=[event]
            ) from None
        return event

    def _follow_up(self, run: _Run, queue: WorkQueue[_Item], event: Event) -> Event:
        """Queue an event a handler publishes while the dispatcher drains (never waiting: the
        workers that would make room may be the ones publishing)."""
        steps = self._steps(event.type)
        if not steps:
            next(run.handled)
            return stamp(event)
        event, context = self._contexts.for_event(event)
        with self._lock:
            if run.drained:
                raise PublishError(
                    f"event {event.id} was not published: the dispatcher stopped", failed=[event]
                )
            try:
                queue.put_nowait((event, context, steps), after_close=True)
            except QueueFull:
                raise PublishError(
                    f"event {event.id} was not published: the queue is full "
                    f"({self._settings.max_queue} events) while the dispatcher stops",
                    failed=[event],
                ) from None
        return event

    async def notify(self, type: str, data: Any = None, **attrs: Any) -> Event:
        """Build an event of ``type`` with ``data`` (and any other ``Event`` attributes, e.g.
        ``subject=``) from this dispatcher's ``source``, publish it and return it as published.

        The event is built carrying the current context (as :meth:`publish` would stamp it).
        """
        return await self.publish(self._contexts.build(self._source, type, data, attrs))

    async def _deliver(self, event: Event, context: EventContext, steps: tuple[_Step, ...]) -> None:
        """Run each handler of ``event`` inside ``context``; failures are reported, not raised."""
        token = set_current(context)
        try:
            for handler, call in steps:
                try:
                    await call(event)
                except Exception as exc:
                    report_handler_failure(event, handler, exc, self._on_error)
        finally:
            reset_current(token)

    async def _work(self, run: _Run, holder: list[_Item | None]) -> None:
        """A worker: handle events from the run's queue until it is closed and empty."""
        _HANDLING.set(run)
        queue, handled = run.queue, run.handled
        assert queue is not None
        deliver = self._deliver
        while True:
            try:
                event, context, steps = await queue.get(holder)
            except QueueClosed:
                return
            await deliver(event, context, steps)
            holder[0] = None
            next(handled)
