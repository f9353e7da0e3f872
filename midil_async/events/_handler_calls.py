"""How the Lambda batch handler of the async shell calls a router's handler: a coroutine function
is awaited; a plain function runs in a worker thread (``to_thread``, which carries the event
context), so it never blocks the loop. Hand-written: the sync shell's twin differs in kind."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from midil_async._primitives import runner

__all__ = ["handler_call"]


def handler_call(handler: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """``handler`` as something to await with the event."""
    return runner(handler)
