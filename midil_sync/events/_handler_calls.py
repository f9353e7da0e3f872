"""How the Lambda batch handler of the sync shell calls a router's handler: a plain function is
called; a coroutine function runs to completion in an event loop of its own
(``asyncio.run``, one per call, which carries the event context into the coroutine). That is what
lets one ``EventRouter`` serve both shells; it cannot be done from a thread already running a loop
(the call then fails, and the message is reported failed). Hand-written: the async shell's twin
differs in kind."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from midil_common.events.router import is_async_handler

__all__ = ["handler_call"]


def _run(handler: Callable[..., Any], event: Any) -> Any:
    import asyncio

    return asyncio.run(handler(event))


def handler_call(handler: Callable[..., Any]) -> Callable[..., Any]:
    """``handler`` as something to call with the event."""
    if is_async_handler(handler):
        return functools.partial(_run, handler)
    return handler
