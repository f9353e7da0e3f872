"""``EventDispatcher`` of both shells given events with huge, distinct types: they are routed,
never remembered (the router's own limit on the types it caches)."""

from __future__ import annotations

from midil_common.events import Event

from .conftest import Flavour


async def test_long_event_types_are_not_kept_in_the_plan_cache(flavour: Flavour) -> None:
    seen: list[int] = []
    d = flavour.Dispatcher(inline=True)
    d.subscribe(flavour.handler(lambda e: seen.append(len(e.type))), "**")
    async with d:
        for n in range(20):
            await d.publish(Event(type=f"{n:04d}" + "x" * 10_000, source="/tests"))
        await d.publish(Event(type="short.type", source="/tests"))
    assert len(seen) == 21  # all routed
    target = d.target if flavour.name == "sync" else d
    assert len(target._plans) == 1  # only the short type is remembered
