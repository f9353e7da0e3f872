"""Header hooks: callables asked for extra headers on every outbound request.

This is where cross-cutting context joins a request without the client knowing about it: the events
package registers a hook that returns ``traceparent`` and the correlation id of the current
``EventContext``; a service can register its own. A hook takes no argument, reads whatever context it
needs (contextvars work in threads and tasks) and returns a mapping of headers, or None. Hooks are
called once per request, in the caller's context, before the first attempt; headers the caller passed
explicitly win over hook headers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

__all__ = ["HeaderHook", "header_hooks", "register_header_hook", "unregister_header_hook"]

HeaderHook = Callable[[], "Mapping[str, str] | None"]
"""A callable returning headers to add to an outbound request (or None for none)."""

_hooks: tuple[HeaderHook, ...] = ()
_lock = threading.Lock()


def register_header_hook(hook: HeaderHook) -> None:
    """Ask ``hook`` for headers on every request of every ``HttpClient`` (registering twice is a no-op)."""
    global _hooks
    with _lock:
        if hook not in _hooks:
            _hooks = (*_hooks, hook)


def unregister_header_hook(hook: HeaderHook) -> None:
    """Stop calling ``hook``; unknown hooks are ignored."""
    global _hooks
    with _lock:
        _hooks = tuple(h for h in _hooks if h is not hook)


def header_hooks() -> tuple[HeaderHook, ...]:
    """The hooks registered process-wide, in registration order."""
    return _hooks
