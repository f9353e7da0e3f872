"""Pattern routing of events to handlers, shared by the dispatcher, the SQS consumer and the Lambda
batch handler. The router stores handlers and answers which ones an event type goes to; it never
calls them.

Patterns are dot-separated segments:

- ``user.created`` matches that type exactly;
- ``*`` matches exactly one segment (``user.*``, ``*.created``);
- ``**`` matches zero or more segments (``**`` alone matches every type, ``user.**`` matches
  ``user`` and anything under it).

There is no other glob syntax: any other character is literal. Empty segments, a ``*`` inside a
segment (``a*b``), whitespace and control characters are refused with ``ConfigError``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from midil_common.errors import ConfigError

if TYPE_CHECKING:
    from midil_common.events.envelope import Event

__all__ = [
    "EventRouter",
    "Handler",
    "PlanCache",
    "is_async_handler",
    "match_pattern",
    "validate_pattern",
]

Handler = Callable[["Event"], Any]
"""A handler: a function (or coroutine function) taking an ``Event``."""

H = TypeVar("H", bound=Callable[..., Any])
P = TypeVar("P")

_CACHE_MAX = 1024
# A type longer than this is still routed, just not remembered: a hostile message cannot fill the
# cache with megabytes of type names.
_CACHE_MAX_TYPE_LENGTH = 256


def validate_pattern(pattern: Any) -> tuple[str, ...] | None:
    """Check ``pattern``; return its segments if it has wildcards, None if it is an exact type.

    Raises ``ConfigError`` naming the pattern when it is not valid.
    """
    if type(pattern) is not str or not pattern:
        raise ConfigError(f"invalid event pattern {pattern!r:.60}: must be a non-empty string")
    if any(c.isspace() or not c.isprintable() for c in pattern):
        raise ConfigError(
            f"invalid event pattern {pattern!r:.60}: whitespace and control characters are not allowed"
        )
    segments = tuple(pattern.split("."))
    wild = False
    for segment in segments:
        if not segment:
            raise ConfigError(f"invalid event pattern {pattern!r:.60}: empty segment")
        if "*" in segment:
            if segment not in ("*", "**"):
                raise ConfigError(
                    f"invalid event pattern {pattern!r:.60}: '*' and '**' must be whole segments"
                )
            wild = True
    return segments if wild else None


def match_pattern(segments: tuple[str, ...], type_segments: list[str]) -> bool:
    """Whether a wildcard pattern's ``segments`` match an event type's segments.

    Wildcard matching with backtracking to the last ``**`` only: time O(len(pattern) * len(type)).
    """
    p = s = 0
    star = -1  # index of the last ``**`` seen in the pattern
    resume = 0  # the type segment that ``**`` is currently extended up to
    n_pat, n_type = len(segments), len(type_segments)
    while s < n_type:
        if p < n_pat and segments[p] == "**":
            star, resume = p, s
            p += 1
        elif p < n_pat and (segments[p] == "*" or segments[p] == type_segments[s]):
            p += 1
            s += 1
        elif star >= 0:
            # Let the last ``**`` swallow one more segment and retry from there.
            resume += 1
            p, s = star + 1, resume
        else:
            return False
    while p < n_pat and segments[p] == "**":
        p += 1
    return p == n_pat


class EventRouter:
    """Handlers registered under patterns; :meth:`handlers_for` lists those for an event type.

    A handler registered under several patterns that match a type appears once, at the position of
    its first registration; order is registration order, so routing is deterministic. Lookups are
    cached per type (at most 1024 types; the cache is dropped on any change).

    Example::

        router = EventRouter()

        @router.on("user.*")
        def on_user(event: Event) -> None: ...

        router.handlers_for("user.created")  # (on_user,)
    """

    def __init__(self) -> None:
        # Entries and cache are replaced, never mutated in place, so a lookup running during a
        # change (in another thread) works on a consistent snapshot; see handlers_for.
        self._entries: tuple[tuple[str, tuple[str, ...] | None, Handler], ...] = ()
        self._cache: dict[str, tuple[Handler, ...]] = {}

    def on(self, pattern: str) -> Callable[[H], H]:
        """Decorator registering the function under ``pattern``; returns it unchanged."""
        validate_pattern(pattern)

        def register(handler: H) -> H:
            self.add(pattern, handler)
            return handler

        return register

    def add(self, pattern: str, handler: Handler) -> None:
        """Register ``handler`` under ``pattern`` (the same pair twice is registered once)."""
        compiled = validate_pattern(pattern)
        if not callable(handler):
            raise ConfigError(f"event handler for {pattern!r} must be callable")
        if any(p == pattern and h == handler for p, _, h in self._entries):
            return
        self._entries = (*self._entries, (pattern, compiled, handler))
        # After the entries: a lookup that sees the new cache also sees the new entries.
        self._cache = {}

    def remove(self, handler: Handler, pattern: str | None = None) -> bool:
        """Unregister ``handler`` (from ``pattern`` only, if given); True if it was registered."""
        kept = tuple(
            entry
            for entry in self._entries
            if not (entry[2] == handler and (pattern is None or entry[0] == pattern))
        )
        if len(kept) == len(self._entries):
            return False
        self._entries = kept
        self._cache = {}
        return True

    def handlers_for(self, event_type: str) -> tuple[Handler, ...]:
        """The handlers for ``event_type``, in registration order, each once."""
        cache = self._cache  # read before the entries: see add
        found = cache.get(event_type)
        if found is not None:
            return found
        type_segments: list[str] | None = None
        handlers: list[Handler] = []
        for pattern, segments, handler in self._entries:
            if segments is None:
                matched = pattern == event_type
            else:
                if type_segments is None:
                    type_segments = event_type.split(".")
                matched = match_pattern(segments, type_segments)
            # ``==``, not ``is``: a bound method is a new object on every attribute access.
            if matched and not any(h == handler for h in handlers):
                handlers.append(handler)
        result = tuple(handlers)
        if len(event_type) <= _CACHE_MAX_TYPE_LENGTH:
            if len(cache) >= _CACHE_MAX:
                cache.clear()
            cache[event_type] = result
        return result

    @property
    def patterns(self) -> tuple[str, ...]:
        """The distinct patterns, in order of first registration."""
        return tuple(dict.fromkeys(pattern for pattern, _, _ in self._entries))

    @property
    def registrations(self) -> tuple[tuple[str, Handler], ...]:
        """Every ``(pattern, handler)`` pair, in registration order."""
        return tuple((pattern, handler) for pattern, _, handler in self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __bool__(self) -> bool:
        # A router is a configuration object, not a collection: an empty one is still a router, and
        # ``router or EventRouter()`` must not silently replace it.
        return True

    def __repr__(self) -> str:
        return f"EventRouter(patterns={list(self.patterns)!r}, registrations={len(self)})"


def is_async_handler(handler: Callable[..., Any]) -> bool:
    """Whether calling ``handler`` returns an awaitable: a coroutine function, a
    ``functools.partial`` of one, or an object whose ``__call__`` is one."""
    import inspect  # loaded when first needed, not on import (see midil_common's import budget)

    while isinstance(handler, functools.partial):
        handler = handler.func
    if inspect.iscoroutinefunction(handler):
        return True
    if inspect.isfunction(handler) or inspect.ismethod(handler) or isinstance(handler, type):
        return False
    call = getattr(handler, "__call__", None)  # noqa: B004 - the method itself is inspected
    return call is not None and inspect.iscoroutinefunction(call)


class PlanCache(Generic[P]):
    """What a shell derives per event type from the router's handlers (how it calls each one),
    kept while the router answers that type with the very same handlers.

    It keeps what the router's own cache keeps and no more: at most 1024 types, none longer than
    256 characters. A type comes from the message, so a hostile one could otherwise pin megabytes
    of type names; a long type is planned again on each event, as the router routes it again.
    """

    __slots__ = ("_plans",)

    def __init__(self) -> None:
        self._plans: dict[str, tuple[tuple[Handler, ...], P]] = {}

    def __len__(self) -> int:
        return len(self._plans)

    def get(self, event_type: str, handlers: tuple[Handler, ...]) -> P | None:
        """The plan made for ``handlers`` of ``event_type``, or None (not made, or the router has
        changed since)."""
        plan = self._plans.get(event_type)
        return plan[1] if plan is not None and plan[0] is handlers else None

    def put(self, event_type: str, handlers: tuple[Handler, ...], plan: P) -> P:
        """Remember ``plan`` for ``handlers`` of ``event_type`` (if the type is short enough);
        returns ``plan``."""
        if len(event_type) <= _CACHE_MAX_TYPE_LENGTH:
            if len(self._plans) >= _CACHE_MAX:
                self._plans.clear()
            self._plans[event_type] = (handlers, plan)
        return plan
