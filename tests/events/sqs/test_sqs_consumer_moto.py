"""``SQSConsumer`` of both shells against moto's SQS server: one test body per behaviour, run on the
sync and the async shell (the ``shell`` fixture)."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections import defaultdict
from typing import Any

import pytest

from midil_common.errors import ConfigError, ConsumerError
from midil_common.events import (
    Event,
    EventRouter,
    RedeliveryPolicy,
    TraceParent,
    current_context,
)

from .conftest import Queues, Shell, events, eventually

TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
NO_BACKOFF = RedeliveryPolicy(cap=0)


def test_round_trip_carries_the_event_context_and_deletes_after_handling(
    shell: Shell, queues: Queues
) -> None:
    url = queues.create()
    sent = events(20, correlation_id="corr-42", traceparent=TP)
    queues.send(url, sent)
    seen: dict[str, tuple[Event, Any]] = {}

    def record(event: Event) -> None:
        seen[event.id] = (event, current_context())

    consumer = shell.consumer(url, queues.endpoint_url, concurrency=4)
    consumer.on("order.*")(shell.handler(record))
    stats = shell.run_until_empty(consumer)

    assert set(seen) == {e.id for e in sent}
    for event in sent:
        got, context = seen[event.id]
        assert got.data == event.data and got.correlation_id == "corr-42"
        assert context.correlation_id == "corr-42"
        assert context.causation_id == event.id
        parent = TraceParent.parse(TP)
        assert context.traceparent.trace_id == parent.trace_id
        assert context.traceparent.parent_id != parent.parent_id  # a child span
    assert stats.received == stats.handled == stats.deleted == 20
    assert stats.failed == stats.poison == stats.delete_failed == 0
    assert queues.counts(url) == (0, 0)
    assert consumer.stats == stats


def test_a_handler_that_always_fails_moves_the_message_to_the_dlq_by_the_redrive_policy(
    shell: Shell, queues: Queues
) -> None:
    dlq = queues.create()
    url = queues.create(dlq=dlq, max_receive=3)
    queues.send(url, events(1))
    attempts: list[int] = []

    def fail(event: Event) -> None:
        attempts.append(1)
        raise RuntimeError("boom")

    consumer = shell.consumer(url, queues.endpoint_url, redelivery=NO_BACKOFF)
    consumer.on("**")(shell.handler(fail))
    running = shell.start(consumer)
    eventually(lambda: queues.counts(dlq)[0] == 1, within=15)
    stats = running.stop(1)
    assert len(attempts) == 3
    assert stats.failed == stats.retried == 3 and stats.deleted == 0
    assert queues.counts(url) == (0, 0)
    (moved,) = queues.drain(dlq)
    assert json.loads(moved["Body"])["type"] == "order.created"


def test_a_non_retryable_failure_goes_straight_to_the_configured_dlq(
    shell: Shell, queues: Queues
) -> None:
    dlq = queues.create()
    url = queues.create()
    sent = events(3, traceparent=TP)
    queues.send(url, sent)

    def refuse(event: Event) -> None:
        if event.data["n"] == 1:
            raise ValueError("not valid, never will be")

    consumer = shell.consumer(
        url, queues.endpoint_url, non_retryable=(ValueError,), dead_letter_queue_url=dlq
    )
    consumer.on("**")(shell.handler(refuse))
    stats = shell.run_until_empty(consumer)
    assert stats.handled == 2 and stats.failed == 1 and stats.dead_lettered == 1
    assert stats.deleted == 3
    assert queues.counts(url) == (0, 0)
    (moved,) = queues.drain(dlq)
    assert json.loads(moved["Body"])["id"] == sent[1].id
    assert moved["MessageAttributes"]["traceparent"]["StringValue"] == TP


def test_poison_is_counted_left_for_the_dlq_and_blocks_nothing(
    shell: Shell, queues: Queues, caplog: pytest.LogCaptureFixture
) -> None:
    dlq = queues.create()
    url = queues.create(dlq=dlq, max_receive=2)
    queues.send_raw(url, '{"broken": ')  # undecodable
    queues.send(url, events(1, type_="nobody.listens"))  # no handler
    queues.send(url, events(5))
    handled: list[int] = []
    consumer = shell.consumer(url, queues.endpoint_url, redelivery=NO_BACKOFF)
    consumer.on("order.*")(shell.handler(lambda e: handled.append(e.data["n"])))
    with caplog.at_level(logging.WARNING, logger="midil.events"):
        running = shell.start(consumer)
        eventually(lambda: queues.counts(dlq)[0] == 2, within=15)
        stats = running.stop(1)
    assert sorted(handled) == [0, 1, 2, 3, 4]
    assert stats.poison == 4  # two poison messages, received twice each
    assert stats.deleted == 5
    assert queues.counts(url) == (0, 0)
    assert any("poison" in r.getMessage() for r in caplog.records)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert '"broken"' not in text


def test_heartbeat_keeps_a_long_handler_from_being_redelivered(
    shell: Shell, queues: Queues
) -> None:
    url = queues.create(visibility=1)
    queues.send(url, events(1))
    calls: list[float] = []

    def slow(event: Event) -> None:
        calls.append(time.monotonic())
        time.sleep(3.2)  # more than three visibility timeouts

    consumer = shell.consumer(url, queues.endpoint_url, concurrency=2)
    consumer.on("**")(shell.handler(slow))
    stats = shell.run_until_empty(consumer)
    assert len(calls) == 1
    assert stats.handled == stats.deleted == 1
    assert stats.extended >= 3
    assert queues.counts(url) == (0, 0)


def test_fifo_groups_are_handled_in_order_and_a_failure_releases_the_rest_of_its_group(
    shell: Shell, queues: Queues
) -> None:
    url = queues.create(fifo=True, visibility=5)
    for group in "abc":
        queues.send(url, events(8, subject=group), message_group_id=group)
    attempts: dict[str, list[int]] = defaultdict(list)
    done: dict[str, list[int]] = defaultdict(list)
    failed_once: set[str] = set()
    active: dict[str, int] = defaultdict(int)
    overlap: list[str] = []
    lock = threading.Lock()

    def handle(event: Event) -> None:
        group, n = event.subject, event.data["n"]
        with lock:
            attempts[group].append(n)
            active[group] += 1
            if active[group] > 1:
                overlap.append(group)
        try:
            time.sleep(0.01)
            if group == "b" and n == 3 and group not in failed_once:
                failed_once.add(group)
                raise RuntimeError("once")
            with lock:
                done[group].append(n)
        finally:
            with lock:
                active[group] -= 1

    consumer = shell.consumer(url, queues.endpoint_url, concurrency=6, redelivery=NO_BACKOFF)
    consumer.on("**")(shell.handler(handle))
    running = shell.start(consumer)
    eventually(lambda: all(len(done[g]) == 8 for g in "abc"), within=20)
    stats = running.stop(1)
    assert not overlap
    assert {g: done[g] for g in "abc"} == {g: list(range(8)) for g in "abc"}
    b = attempts["b"]
    assert b[: b.index(3) + 2] == [0, 1, 2, 3, 3]  # 4 waited for 3's redelivery
    assert stats.failed == 1 and stats.handled == 24
    assert queues.counts(url) == (0, 0)


def test_backpressure_never_more_in_flight_than_the_concurrency(
    shell: Shell, queues: Queues
) -> None:
    url = queues.create()
    queues.send(url, events(40))
    lock = threading.Lock()
    running = [0]
    peak = [0]
    in_flight: list[int] = []
    consumer = shell.consumer(url, queues.endpoint_url, concurrency=3)

    def handle(event: Event) -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            in_flight.append(consumer.stats.in_flight)
        time.sleep(0.01)
        with lock:
            running[0] -= 1

    consumer.on("**")(shell.handler(handle))
    stats = shell.run_until_empty(consumer)
    assert stats.handled == 40
    assert peak[0] == 3  # used, never exceeded
    assert max(in_flight) <= 3


def test_graceful_stop_releases_unstarted_and_unfinished_messages_at_once(
    shell: Shell, queues: Queues
) -> None:
    url = queues.create(fifo=True, visibility=60)
    queues.send(url, events(4), message_group_id="g")  # one lane: 1 runs, 3 wait
    started = threading.Event()
    release = threading.Event()

    def stuck(event: Event) -> None:
        started.set()
        release.wait(10)

    consumer = shell.consumer(url, queues.endpoint_url, concurrency=4)
    consumer.on("**")(shell.handler(stuck))
    running = shell.start(consumer)
    assert started.wait(10)
    time.sleep(0.2)
    threading.Timer(2.0, release.set).start()  # the sync shell's thread cannot be interrupted
    stats = running.stop(0.3)
    assert stats.released == 4 and stats.handled == 0
    assert running.stop_took < 1.5
    # Visible again at once, in order, for anyone.
    got = queues.drain(url)
    assert [json.loads(m["Body"])["data"]["n"] for m in got] == [0, 1, 2, 3]


def test_stop_does_not_wait_for_the_long_poll_and_loses_nothing(
    shell: Shell, queues: Queues
) -> None:
    url = queues.create(visibility=1)
    seen: list[int] = []
    consumer = shell.consumer(
        url,
        queues.endpoint_url,
        wait_time_seconds=20,
        credentials={"aws_access_key_id": "testing", "aws_secret_access_key": "testing"},
    )
    consumer.on("**")(shell.handler(lambda event: seen.append(event.data["n"])))
    running = shell.start(consumer)
    queues.send(url, events(2))
    eventually(lambda: len(seen) == 2)
    time.sleep(0.5)  # in the next long poll, on an empty queue
    stats = running.stop(10)
    assert running.stop_took < 3, running.stop_took  # not the 20 s poll
    assert stats.handled == 2 and stats.deleted == 2
    # A message sent after the stop is there for the next consumer (at worst after the
    # visibility timeout, had the given-up poll caught it).
    queues.send(url, [Event(type="order.created", source="/tests", data={"n": 7})])
    consumer = shell.consumer(url, queues.endpoint_url)
    consumer.on("**")(shell.handler(lambda event: seen.append(event.data["n"])))
    deadline = time.monotonic() + 10
    while 7 not in seen and time.monotonic() < deadline:
        shell.run_until_empty(consumer)
    assert set(seen) == {0, 1, 7}


def test_a_nonexistent_queue_stops_run_with_consumer_error_at_once(
    shell: Shell, queues: Queues
) -> None:
    url = queues.create().rsplit("/", 1)[0] + "/no-such-queue"
    consumer = shell.consumer(url, queues.endpoint_url)
    started = time.monotonic()
    with pytest.raises(ConsumerError, match=r"NonExistentQueue|QueueDoesNotExist"):
        shell.call(consumer, "run")
    assert time.monotonic() - started < 3
    if not shell.is_async:
        consumer.close()


def test_two_consecutive_event_loops(queues: Queues) -> None:
    import midil_async

    url = queues.create()
    consumer = midil_async.SQSConsumer(url, endpoint_url=queues.endpoint_url, wait_time_seconds=1)
    seen: list[int] = []

    @consumer.on("**")
    async def handle(event: Event) -> None:
        seen.append(event.data["n"])

    for round_ in range(2):
        queues.send(url, events(3))
        stats = asyncio.run(consumer.run_until_empty())
        assert stats.handled == 3 * (round_ + 1)
    asyncio.run(consumer.aclose())
    assert sorted(seen) == [0, 0, 1, 1, 2, 2]


def test_options_are_validated_and_read_from_settings(
    shell: Shell, monkeypatch: pytest.MonkeyPatch
) -> None:
    for bad in ({"concurrency": 0}, {"max_messages": 11}, {"wait_time_seconds": 21}):
        with pytest.raises(ConfigError):
            shell.mod.SQSConsumer("http://q/1/x", **bad)
    with pytest.raises(ConfigError):
        shell.mod.SQSConsumer("http://q/1/x", router=object())
    monkeypatch.setenv("MIDIL_EVENTS__QUEUE_URL", "http://localhost:5000/123/orders")
    monkeypatch.setenv("MIDIL_EVENTS__CONCURRENCY", "3")
    router = EventRouter()
    consumer = shell.mod.SQSConsumer.from_settings(router=router)
    assert consumer.queue_url == "http://localhost:5000/123/orders"
    assert consumer.router is router
    assert not consumer.running
    assert shell.call(consumer, "stop").received == 0
