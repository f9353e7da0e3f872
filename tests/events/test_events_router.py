"""EventRouter: patterns, order, de-duplication, the cache, async detection."""

from __future__ import annotations

import contextlib
import functools
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from midil_common.errors import ConfigError
from midil_common.events import Event, EventRouter, is_async_handler
from midil_common.events.router import validate_pattern


def h1(event: Event) -> None: ...
def h2(event: Event) -> None: ...
def h3(event: Event) -> None: ...


@pytest.mark.parametrize(
    ("pattern", "matches", "misses"),
    [
        (
            "user.created",
            ["user.created"],
            ["user", "user.created.x", "user.deleted", "x.user.created"],
        ),
        ("user.*", ["user.created", "user.x"], ["user", "user.a.b", "users.created"]),
        ("*.created", ["user.created", "order.created"], ["created", "a.b.created"]),
        ("*", ["user", "x"], ["a.b"]),
        ("**", ["user", "a.b.c", "x"], []),
        ("user.**", ["user", "user.created", "user.a.b.c"], ["users", "order.user"]),
        ("**.created", ["created", "user.created", "a.b.created"], ["created.x"]),
        ("a.**.z", ["a.z", "a.b.z", "a.b.c.z"], ["a", "z", "a.b"]),
        ("a.*.**", ["a.b", "a.b.c"], ["a"]),
        ("**.**", ["a", "a.b"], []),
        ("a?.[b]", ["a?.[b]"], ["ab.b"]),  # no other glob syntax: literal characters
    ],
)
def test_patterns(pattern: str, matches: list[str], misses: list[str]) -> None:
    router = EventRouter()
    router.add(pattern, h1)
    for event_type in matches:
        assert router.handlers_for(event_type) == (h1,), event_type
    for event_type in misses:
        assert router.handlers_for(event_type) == (), event_type


@pytest.mark.parametrize(
    "pattern",
    [
        "",
        ".",
        "a.",
        ".a",
        "a..b",
        "a*b",
        "a.*b",
        "***",
        "a b",
        " a",
        "a\tb",
        "a\x00",
        "a\n",
        5,
        None,
    ],
)
def test_invalid_patterns_raise_config_error_naming_them(pattern: Any) -> None:
    router = EventRouter()
    with pytest.raises(ConfigError) as info:
        router.add(pattern, h1)
    assert repr(pattern)[:20] in str(info.value)
    with pytest.raises(ConfigError):
        router.on(pattern)
    assert len(router) == 0


def test_handlers_must_be_callable() -> None:
    with pytest.raises(ConfigError):
        EventRouter().add("a", "not callable")  # type: ignore[arg-type]


def test_registration_order_and_once_per_handler() -> None:
    router = EventRouter()
    router.add("user.*", h2)
    router.add("user.created", h1)
    router.add("**", h2)
    router.add("user.created", h3)
    router.add("user.created", h1)  # the same pair again: no-op
    assert router.handlers_for("user.created") == (h2, h1, h3)
    assert router.handlers_for("order.created") == (h2,)
    assert len(router) == 4
    assert router.patterns == ("user.*", "user.created", "**")
    assert router.registrations == (
        ("user.*", h2),
        ("user.created", h1),
        ("**", h2),
        ("user.created", h3),
    )


def test_on_returns_the_handler_unchanged() -> None:
    router = EventRouter()

    @router.on("a.b")
    @router.on("a.*")
    def handler(event: Event) -> None: ...

    assert handler.__name__ == "handler"
    assert router.handlers_for("a.b") == (handler,)
    assert len(router) == 2


def test_remove_invalidates_the_cache() -> None:
    router = EventRouter()
    router.add("a.*", h1)
    router.add("a.b", h1)
    router.add("a.b", h2)
    assert router.handlers_for("a.b") == (h1, h2)
    assert router.remove(h1, "a.*")
    assert router.handlers_for("a.b") == (h1, h2)
    assert router.remove(h1)
    assert router.handlers_for("a.b") == (h2,)
    assert not router.remove(h1)
    router.add("a.b", h3)
    assert router.handlers_for("a.b") == (h2, h3)


def test_bound_methods_compare_equal() -> None:
    class Service:
        def handle(self, event: Event) -> None: ...

    service = Service()
    router = EventRouter()
    router.add("a", service.handle)
    router.add("*", service.handle)
    assert router.handlers_for("a") == (service.handle,)
    assert router.remove(service.handle)
    assert len(router) == 0


def test_the_cache_is_bounded() -> None:
    router = EventRouter()
    router.add("**", h1)
    for i in range(5000):
        assert router.handlers_for(f"t.{i}") == (h1,)
    assert len(router._cache) <= 1024
    assert router.handlers_for("x" * 10_000) == (h1,)
    assert "x" * 10_000 not in router._cache


def test_an_empty_router_is_still_truthy() -> None:
    router = EventRouter()
    assert router and len(router) == 0
    assert "patterns=[]" in repr(router)


def test_is_async_handler() -> None:
    async def coro(event: Event) -> None: ...

    class AsyncCallable:
        async def __call__(self, event: Event) -> None: ...

    class SyncCallable:
        def __call__(self, event: Event) -> None: ...

    class Methods:
        async def a(self, event: Event) -> None: ...
        def s(self, event: Event) -> None: ...

    assert is_async_handler(coro)
    assert is_async_handler(functools.partial(coro))
    assert is_async_handler(functools.partial(functools.partial(coro)))
    assert is_async_handler(AsyncCallable())
    assert is_async_handler(Methods().a)
    assert not is_async_handler(h1)
    assert not is_async_handler(functools.partial(h1))
    assert not is_async_handler(SyncCallable())
    assert not is_async_handler(Methods().s)
    assert not is_async_handler(AsyncCallable)  # calling the class makes an instance
    assert not is_async_handler(lambda event: None)


# ------------------------------------------------------------------------- reference matcher


def reference(pattern: str, event_type: str) -> bool:
    parts = []
    for segment in pattern.split("."):
        if segment == "**":
            parts.append(r"(?:\.[^.]*)*")
        elif segment == "*":
            parts.append(r"\.[^.]*")
        else:
            parts.append(r"\." + re.escape(segment))
    return re.fullmatch("".join(parts), "." + event_type) is not None


patterns = st.lists(st.sampled_from(["a", "b", "*", "**"]), min_size=1, max_size=6).map(".".join)
types = st.lists(st.sampled_from(["a", "b", "c", ""]), min_size=1, max_size=7).map(".".join)


@given(patterns, types)
def test_the_matcher_agrees_with_a_regex_reference(pattern: str, event_type: str) -> None:
    router = EventRouter()
    router.add(pattern, h1)
    assert (router.handlers_for(event_type) == (h1,)) == reference(pattern, event_type)


@given(st.lists(st.tuples(patterns, st.sampled_from([h1, h2, h3])), max_size=8), types)
def test_lookup_is_ordered_and_unique(registrations: list[Any], event_type: str) -> None:
    router = EventRouter()
    for pattern, handler in registrations:
        router.add(pattern, handler)
    expected: list[Any] = []
    for pattern, handler in registrations:
        if reference(pattern, event_type) and handler not in expected:
            expected.append(handler)
    assert router.handlers_for(event_type) == tuple(expected)
    assert router.handlers_for(event_type) == tuple(expected)  # cached


@given(st.text(max_size=30))
def test_validate_pattern_raises_only_config_error(pattern: str) -> None:
    with contextlib.suppress(ConfigError):
        validate_pattern(pattern)
