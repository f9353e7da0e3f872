"""The event context: scopes, nesting, events, propagation, the HTTP hook, OpenTelemetry."""

from __future__ import annotations

import asyncio
import contextvars
import json
import random
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from midil_common.events import (
    Event,
    EventContext,
    TraceParent,
    current_context,
    event_context,
    extract_attributes,
    extract_headers,
    inject_attributes,
    inject_headers,
    stamp,
)
from midil_common.http.hooks import header_hooks

TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def test_outside_any_scope_the_context_is_empty() -> None:
    context = current_context()
    assert context == EventContext()
    assert context.correlation_id is None and context.causation_id is None
    assert context.traceparent is None
    assert context.trace_id is None and context.span_id is None and context.empty


def test_a_top_level_scope_gets_new_ids_and_restores_on_exit() -> None:
    with event_context() as context:
        assert current_context() is context
        assert context.correlation_id and len(context.correlation_id) == 36
        assert context.traceparent is not None and context.traceparent.sampled
        assert context.causation_id is None
    assert current_context().empty


def test_given_values_are_used_and_the_trace_is_continued() -> None:
    with event_context("corr-1", TP, "cause-1") as context:
        assert context.correlation_id == "corr-1" and context.causation_id == "cause-1"
        assert context.trace_id == TRACE
        assert context.span_id != "00f067aa0ba902b7"  # our own span, child of the caller's
    with event_context(traceparent=TraceParent.parse(TP)) as context:
        assert context.trace_id == TRACE


def test_nesting_inherits_the_correlation_and_opens_a_child_span() -> None:
    with event_context("corr-1") as outer, event_context() as inner:
        assert inner.correlation_id == "corr-1"
        assert inner.trace_id == outer.trace_id and inner.span_id != outer.span_id
        with event_context("corr-2") as own:
            assert own.correlation_id == "corr-2" and own.trace_id == outer.trace_id
        assert current_context() is inner
    assert current_context().empty


@pytest.mark.parametrize("bad", ["", "has space", "x" * 129, "tab\there", "é", "new\nline", "\x7f"])
def test_invalid_correlation_ids_are_replaced(bad: str) -> None:
    with event_context(bad) as context:
        assert context.correlation_id != bad and context.correlation_id is not None
    with event_context("good") as outer, event_context(bad) as inner:
        assert inner.correlation_id == outer.correlation_id == "good"


@pytest.mark.parametrize("bad", ["", "garbage", TP.upper(), "ff" + TP[2:], TP + "x"])
def test_invalid_traceparents_are_replaced(bad: str) -> None:
    with event_context(traceparent=bad) as context:
        assert context.traceparent is not None and context.trace_id != TRACE
        assert bad not in inject_headers().values()


def test_the_context_of_an_event() -> None:
    event = Event(type="t", source="s", correlation_id="corr-9", traceparent=TP)
    with event_context(event=event) as context:
        assert context.correlation_id == "corr-9"
        assert context.causation_id == event.id
        assert context.trace_id == TRACE and context.span_id != "00f067aa0ba902b7"
    with event_context("explicit", event=event) as context:
        assert context.correlation_id == "explicit"
    bare = Event(type="t", source="s", correlation_id="bad id", traceparent="junk")
    with event_context(event=bare) as context:
        assert context.correlation_id != "bad id" and context.trace_id is not None
        assert context.causation_id == bare.id


def test_the_rng_makes_ids_reproducible() -> None:
    with event_context(rng=random.Random(3)) as a:
        pass
    with event_context(rng=random.Random(3)) as b:
        pass
    assert a == b


async def test_async_with_and_tasks() -> None:
    async with event_context("corr-a") as context:
        assert current_context() is context

        async def child() -> str | None:
            async with event_context() as inner:
                await asyncio.sleep(0)
                return inner.correlation_id

        assert list(await asyncio.gather(child(), child())) == ["corr-a", "corr-a"]
        assert current_context() is context
    assert current_context().empty


async def test_concurrent_tasks_do_not_see_each_other() -> None:
    seen: dict[str, str | None] = {}

    async def worker(name: str) -> None:
        async with event_context(name):
            await asyncio.sleep(0.01)
            seen[name] = current_context().correlation_id

    await asyncio.gather(*(worker(f"c{i}") for i in range(10)))
    assert seen == {f"c{i}": f"c{i}" for i in range(10)}


def test_threads_started_with_a_copied_context_see_it() -> None:
    with event_context("corr-t") as context, ThreadPoolExecutor(2) as pool:
        copied = pool.submit(contextvars.copy_context().run, current_context).result()
        plain = pool.submit(current_context).result()
    assert copied is context
    assert plain.empty  # a bare thread starts with an empty context


def test_scopes_in_threads_are_independent() -> None:
    results: list[str | None] = []
    barrier = threading.Barrier(4)

    def work(i: int) -> None:
        with event_context(f"t{i}"):
            barrier.wait()
            results.append(current_context().correlation_id)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=str) == ["t0", "t1", "t2", "t3"]


def test_a_scope_object_can_be_reused() -> None:
    scope = event_context("corr-r")
    with scope as first:
        with scope as second:
            assert second.correlation_id == "corr-r"
        assert current_context() is first
    assert current_context().empty


# ------------------------------------------------------------------------------------- stamp


def test_stamp_fills_only_absent_fields() -> None:
    event = Event(type="t", source="s")
    assert stamp(event) is event  # empty context: nothing to add
    cause = Event(type="c", source="s")
    with event_context("corr-s", TP, event=cause) as context:
        stamped = stamp(event)
        assert stamped.correlation_id == "corr-s" and stamped.causation_id == cause.id
        assert stamped.traceparent == str(context.traceparent)
        assert stamped.id == event.id and stamped.time == event.time
        own = Event(type="t", source="s", correlation_id="mine", causation_id="x", traceparent=TP)
        assert stamp(own) is own
        assert Event.from_json(stamped.to_json()) == stamped
    assert stamp(event, context).correlation_id == "corr-s"


# ------------------------------------------------------------------------------- propagation


def test_inject_headers() -> None:
    assert inject_headers() == {}
    with event_context("corr-h", TP) as context:
        assert inject_headers() == {
            "traceparent": str(context.traceparent),
            "X-Correlation-ID": "corr-h",
        }
    assert inject_headers(context)["X-Correlation-ID"] == "corr-h"


def test_extract_headers_validates_and_ignores_case() -> None:
    assert extract_headers({"TraceParent": TP, "x-correlation-id": "c1"}) == (
        "c1",
        TraceParent.parse(TP),
    )
    assert extract_headers({"Traceparent": f" {TP}\t", "X-CORRELATION-ID": ["c1"]}) == (
        "c1",
        TraceParent.parse(TP),
    )
    assert extract_headers({}) == (None, None)
    assert extract_headers({"traceparent": "junk", "X-Correlation-ID": "has space"}) == (
        None,
        None,
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"traceparent": f"{TP},{TP}", "X-Correlation-ID": "a,b"},
        {"traceparent": [TP, TP], "X-Correlation-ID": ["a", "b"]},
        {"traceparent": TP, "Traceparent": TP, "X-Correlation-ID": "a", "x-correlation-id": "a"},
        {"traceparent": [], "X-Correlation-ID": 5},
    ],
)
def test_repeated_headers_are_dropped(headers: dict[str, Any]) -> None:
    assert extract_headers(headers) == (None, None)


def test_message_attributes_round_trip() -> None:
    assert inject_attributes() == {}
    with event_context("corr-m", TP) as context:
        attributes = inject_attributes()
    assert attributes == {
        "traceparent": {"DataType": "String", "StringValue": str(context.traceparent)},
        "correlationid": {"DataType": "String", "StringValue": "corr-m"},
    }
    assert extract_attributes(attributes) == ("corr-m", context.traceparent)
    lambda_shape = {
        "traceparent": {"stringValue": TP, "dataType": "String"},
        "correlationid": {"stringValue": "c2", "dataType": "String"},
    }
    assert extract_attributes(lambda_shape) == ("c2", TraceParent.parse(TP))
    assert extract_attributes({"traceparent": {"BinaryValue": b"x"}, "correlationid": "c"}) == (
        None,
        None,
    )
    assert extract_attributes(None) == (None, None)  # type: ignore[arg-type]


header_values = st.one_of(
    st.text(max_size=80),
    st.just(TP),
    st.lists(st.text(max_size=60), max_size=3),
    st.integers(),
    st.none(),
)


@given(
    st.dictionaries(
        st.sampled_from(
            ["traceparent", "TRACEPARENT", "x-correlation-id", "X-Correlation-Id", "other"]
        )
        | st.text(max_size=20),
        header_values,
        max_size=6,
    )
)
def test_extract_headers_never_raises_and_returns_valid_values(headers: dict[str, Any]) -> None:
    correlation, traceparent = extract_headers(headers)
    if correlation is not None:
        assert 1 <= len(correlation) <= 128 and correlation.isprintable() and " " not in correlation
        assert correlation.isascii() and "," not in correlation
    if traceparent is not None:
        assert TraceParent.parse(traceparent.format()) == traceparent


@given(
    st.dictionaries(
        st.text(max_size=20),
        st.dictionaries(st.text(max_size=12), header_values, max_size=3) | header_values,
        max_size=4,
    )
)
def test_extract_attributes_never_raises(attributes: dict[str, Any]) -> None:
    extract_attributes(attributes)


# ---------------------------------------------------------------------------------- the hook


def run(code: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_importing_the_package_registers_nothing_and_loads_no_optional_library() -> None:
    result = run(
        "import sys, json\n"
        "import midil_common.events\n"
        "from midil_common.http.hooks import header_hooks\n"
        "hooks = len(header_hooks())\n"
        "modules = [m for m in sys.modules if m.split('.')[0] in ('opentelemetry', 'cloudevents')]\n"
        "print(json.dumps([hooks, modules]))"
    )
    assert result == [0, []]


def test_the_first_scope_registers_the_hook_once() -> None:
    result = run(
        "import json\n"
        "from midil_common.events import event_context\n"
        "from midil_common.http.hooks import header_hooks\n"
        "with event_context('c1', '" + TP + "') as ctx:\n"
        "    inside = [h() for h in header_hooks()]\n"
        "with event_context(): pass\n"
        "print(json.dumps([len(header_hooks()), inside, header_hooks()[0](), str(ctx.traceparent)]))"
    )
    count, inside, outside, traceparent = result
    assert count == 1 and outside is None
    assert inside == [{"traceparent": traceparent, "X-Correlation-ID": "c1"}]


def test_the_hook_reports_the_current_context_in_process() -> None:
    with event_context("corr-hook") as context:
        hooked = [hook() for hook in header_hooks()]
        assert {"traceparent": str(context.traceparent), "X-Correlation-ID": "corr-hook"} in hooked


# ---------------------------------------------------------------------------- OpenTelemetry


def test_a_top_level_scope_joins_the_active_opentelemetry_span() -> None:
    from opentelemetry import trace
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

    span_context = SpanContext(
        trace_id=int(TRACE, 16),
        span_id=0x00F067AA0BA902B7,
        is_remote=False,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    with trace.use_span(NonRecordingSpan(span_context)):
        with event_context() as context:
            assert context.trace_id == TRACE and context.span_id != "00f067aa0ba902b7"
            assert context.traceparent is not None and context.traceparent.sampled
            with event_context() as inner:
                assert inner.trace_id == TRACE
        # An explicit traceparent wins over the active span.
        with event_context(traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-00") as own:
            assert own.trace_id == "a" * 32
    with event_context() as alone:
        assert alone.trace_id != TRACE
    with trace.use_span(NonRecordingSpan(SpanContext(0, 0, False))), event_context() as invalid:
        assert invalid.trace_id != "0" * 32


def test_without_opentelemetry_a_new_trace_starts() -> None:
    result = run(
        "import json, sys\n"
        "sys.modules['opentelemetry'] = None\n"  # makes the import fail
        "from midil_common.events import event_context\n"
        "with event_context() as a: pass\n"
        "with event_context() as b: pass\n"
        "print(json.dumps([a.trace_id, b.trace_id]))"
    )
    assert result[0] != result[1] and len(result[0]) == 32
