"""In-process event dispatch, as ratios against anchors measured in this run.

(a) sync, inline: 100,000 ``publish`` calls of pre-built events with a no-op handler vs
    ``blinker.Signal.send`` to the same handler (goal: at most 2). ``publish`` does more than
    ``send``: each event's handlers run in the context of its handling (the publisher's correlation
    id, a child span of its trace, the event's id as causation id), which the core decides per event
    (``derive_context``: a new span id, a new context). That work alone, around a direct call of the
    handler, is the floor, measured against ``send`` too; and ``send`` to a receiver doing the same
    work gives blinker our semantics. ``notify`` (which also builds and validates the ``Event``) is
    reported in microseconds.
(b) async: 100,000 events published and handled to completion (every handler awaited) vs
    ``pyee.asyncio.AsyncIOEventEmitter.emit`` with an async no-op handler, all emitted then awaited
    with ``wait_for_complete`` (goal: at most 1.0), with workers (the default) and inline.

Events are published inside a publisher's context (as under a web request), pre-built carrying it;
the figures outside any context (every event starts its own trace) follow.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable, Sequence
from typing import Any

import blinker
from harness import Figure, print_figures
from pyee.asyncio import AsyncIOEventEmitter

import midil_async
import midil_sync
from midil_common.events import Event, current_context, derive_context, event_context, stamp
from midil_common.events.dispatch import reset_current, set_current

N = 100_000
ROUNDS = 3


def noop(event: Any, **kwargs: Any) -> None:
    """The handler: blinker calls it with the sender (the event), the dispatcher with the event."""


async def anoop(event: Any, **kwargs: Any) -> None:
    """The async handler."""


def _events(carrying: bool) -> list[Event]:
    events = [Event(type="user.created", source="/bench", data={"i": i}) for i in range(N)]
    return [stamp(e) for e in events] if carrying else events


def _per_event(run: Callable[[], object]) -> float:
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        run()
        return (time.perf_counter() - start) / N
    finally:
        gc.enable()


def _best(runs: Sequence[Callable[[], object]]) -> list[float]:
    """Best seconds per event of each run, measured in alternating rounds (shared machine)."""
    best = [float("inf")] * len(runs)
    for _ in range(ROUNDS):
        for index, run in enumerate(runs):
            best[index] = min(best[index], _per_event(run))
    return best


# ------------------------------------------------------------------------------- (a) sync inline


def _sync(carrying: bool) -> tuple[list[Figure], float]:
    signal = blinker.Signal()
    signal.connect(noop)
    dispatcher = midil_sync.EventDispatcher(inline=True)
    dispatcher.subscribe(noop, "user.*")
    dispatcher.start()

    def floor_receiver(event: Any, **kwargs: Any) -> None:
        # The least an exact dispatcher adds to ``send``: the context of the event's handling (the
        # core's decision: a new span, a new context), set around the handler. The publisher's
        # context and its parsed trace are taken once, outside the loop.
        token = set_current(derive_context(parent, event=event, traceparent=trace))
        try:
            noop(event)
        finally:
            reset_current(token)

    def floor(event: Any) -> None:
        # The context work alone, around a direct call: no routing, no dispatch at all.
        token = set_current(derive_context(parent, event=event, traceparent=trace))
        try:
            noop(event)
        finally:
            reset_current(token)

    same_signal = blinker.Signal()
    same_signal.connect(floor_receiver)

    with event_context() if carrying else _nothing():
        parent = current_context()
        trace = parent.traceparent
        events = _events(carrying)
        publish, send, same_send = dispatcher.publish, signal.send, same_signal.send
        ours, anchor, floor_time, same = _best(
            [
                lambda: [publish(e) for e in events],
                lambda: [send(e) for e in events],
                lambda: [floor(e) for e in events],
                lambda: [same_send(e) for e in events],
            ]
        )
        notify = dispatcher.notify
        notify_time = min(
            _per_event(lambda: [notify("user.created", {"i": i}) for i in range(N)])
            for _ in range(2)
        )
    dispatcher.stop()
    where = "in a context" if carrying else "no context"
    return [
        Figure(
            f"publish, inline ({where})",
            ours,
            "blinker.Signal.send",
            anchor,
            "<= 2" if carrying else "",
        ),
        Figure(
            f"floor ({where}): handling context, direct call",
            floor_time,
            "blinker.Signal.send",
            anchor,
        ),
        Figure(f"publish, inline ({where})", ours, "send + the same context work", same),
    ], notify_time


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


# ------------------------------------------------------------------------------------ (b) async


async def _ours(events: list[Event], inline: bool) -> None:
    dispatcher = midil_async.EventDispatcher(inline=inline)
    dispatcher.subscribe(anoop, "user.*")
    async with dispatcher:
        publish = dispatcher.publish
        for event in events:
            await publish(event)
    # Leaving the block drained the dispatcher: every handler has been awaited.


async def _pyee(events: list[Event]) -> None:
    emitter = AsyncIOEventEmitter()
    emitter.on("user.created", anoop)
    emit = emitter.emit
    for event in events:
        emit("user.created", event)
    await emitter.wait_for_complete()


def _async(carrying: bool) -> list[Figure]:
    figures: list[Figure] = []

    async def measure() -> list[float]:
        async with event_context() if carrying else _anothing():
            events = _events(carrying)
            best = [float("inf")] * 3
            for _ in range(ROUNDS):
                for index, work in enumerate(
                    [
                        lambda: _ours(events, inline=False),
                        lambda: _ours(events, inline=True),
                        lambda: _pyee(events),
                    ]
                ):
                    gc.collect()
                    gc.disable()
                    start = time.perf_counter()
                    await work()
                    best[index] = min(best[index], (time.perf_counter() - start) / N)
                    gc.enable()
            return best

    workers, inline, pyee = asyncio.run(measure())
    where = "in a context" if carrying else "no context"
    figures.append(
        Figure(
            f"publish + handle, 8 workers ({where})",
            workers,
            "pyee emit + wait_for_complete",
            pyee,
            "<= 1.0" if carrying else "",
        )
    )
    figures.append(
        Figure(f"publish + handle, inline ({where})", inline, "pyee emit + wait_for_complete", pyee)
    )
    return figures


class _anothing:
    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None


def main() -> None:
    sync_ctx, notify_ctx = _sync(carrying=True)
    sync_bare, notify_bare = _sync(carrying=False)
    print_figures(
        "events (a): sync dispatcher, 100,000 pre-built events, no-op handler (ratio = ours / anchor)",
        sync_ctx + sync_bare,
    )
    print(
        f"  notify (builds the Event, then publishes): {notify_ctx * 1e6:.1f} us per call in a"
        f" context, {notify_bare * 1e6:.1f} us outside any"
    )
    print_figures(
        "events (b): async dispatcher, 100,000 events handled to completion (ratio = ours / anchor)",
        _async(carrying=True) + _async(carrying=False),
    )


if __name__ == "__main__":
    main()
