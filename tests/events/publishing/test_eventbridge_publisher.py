"""EventBridgePublisher of both shells: a round trip through moto (a rule targeting an SQS queue,
the event read back with plain boto3 and decoded by the core codec), batch limits, oversize
refusal, TraceHeader, and PutEvents partial failures through the scripted stand-in."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest

from midil_common.errors import ConfigError, InvalidEventError, PublishError
from midil_common.events import Event, SQSCodec, event_context
from midil_common.testing.aws import MotoServer

from .conftest import FAST_RETRY, REGION, Shell, StandIn, drain, error, events_reply, new_queue

CODEC = SQSCodec()
CREDENTIALS = {"aws_access_key_id": "x", "aws_secret_access_key": "y"}


def _events(count: int, size: int = 10) -> list[Event]:
    return [
        Event(source="/orders", type="order.created", data={"n": i, "pad": "x" * size})
        for i in range(count)
    ]


def _standin_publisher(shell: Shell, standin: StandIn, **kwargs: Any) -> Any:
    kwargs.setdefault("retry", FAST_RETRY)
    return shell.make(
        "EventBridgePublisher",
        kwargs.pop("bus_name", "orders-bus"),
        region=REGION,
        endpoint_url=standin.endpoint_url,
        credentials=CREDENTIALS,
        **kwargs,
    )


@pytest.fixture(scope="module")
def routed(aws: MotoServer, sqs: Any) -> dict[str, str]:
    """A bus whose rule sends ``order.*`` events of source ``app.orders`` to a queue."""
    events = boto3.client("events", **aws.client_kwargs(REGION))
    bus = f"bus-{uuid.uuid4().hex[:8]}"
    events.create_event_bus(Name=bus)
    queue = new_queue(sqs)
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name="orders-to-queue",
        EventBusName=bus,
        EventPattern=json.dumps({"source": ["app.orders"]}),
    )
    events.put_targets(Rule="orders-to-queue", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    return {"bus": bus, "queue": queue}


def test_round_trip_through_a_rule_to_a_queue(
    shell: Shell, aws: MotoServer, sqs: Any, routed: dict[str, str]
) -> None:
    publisher = shell.make(
        "EventBridgePublisher",
        routed["bus"],
        source="app.orders",
        region=REGION,
        endpoint_url=aws.endpoint_url,
        credentials=aws.credentials,
    )
    events = _events(12)
    with event_context(correlation_id=f"corr-{shell}") as ctx:
        result = shell.run(publisher.publish_batch(events))
        single = shell.run(publisher.publish(Event(source="/o", type="order.paid", data=1)))
    assert result.ok and len(result.succeeded) == 12
    got = drain(sqs, routed["queue"], 13)
    decoded = [CODEC.decode(m, queue=routed["queue"]) for m in got]
    assert {d.kind for d in decoded} == {"eventbridge"}
    by_id = {d.event.id: d.event for d in decoded}
    assert set(by_id) == {e.id for e in events} | {single.id}
    for sent in (*result.succeeded, single):
        assert by_id[sent.id] == sent
        assert sent.correlation_id == f"corr-{shell}"
        assert sent.traceparent == ctx.traceparent.format()


def test_other_sources_are_not_routed(
    shell: Shell, aws: MotoServer, sqs: Any, routed: dict[str, str]
) -> None:
    publisher = shell.make(
        "EventBridgePublisher",
        routed["bus"],
        region=REGION,
        endpoint_url=aws.endpoint_url,
        credentials=aws.credentials,
    )
    assert shell.run(publisher.publish_batch(_events(2))).ok  # Source: the event's, /orders
    assert drain(sqs, routed["queue"], 1, rounds=1) == []


def test_batches_of_ten_with_trace_headers(shell: Shell, standin: StandIn) -> None:
    publisher = _standin_publisher(shell, standin, source="app.orders")
    with event_context(traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"):
        assert shell.run(publisher.publish_batch(_events(21))).ok
    batches = standin.entries("PutEvents")
    assert sorted(len(b) for b in batches) == [1, 10, 10]
    for entry in (e for b in batches for e in b):
        assert entry["Source"] == "app.orders" and entry["EventBusName"] == "orders-bus"
        assert entry["DetailType"] == "order.created"
        header = entry["TraceHeader"]
        assert header.startswith("Root=1-0af76519-16cd43dd8448eb211c80319c;Parent=")
        assert header.endswith(";Sampled=1")
        detail = json.loads(entry["Detail"])
        assert header.split("Parent=")[1].split(";")[0] == detail["traceparent"].split("-")[2]


def test_batches_split_at_256_kib(shell: Shell, standin: StandIn) -> None:
    publisher = _standin_publisher(shell, standin)
    assert shell.run(publisher.publish_batch(_events(4, size=100_000))).ok
    assert sorted(len(b) for b in standin.entries("PutEvents")) == [2, 2]


def test_oversize_is_refused_before_any_call(shell: Shell, standin: StandIn) -> None:
    publisher = _standin_publisher(shell, standin)
    with pytest.raises(InvalidEventError, match="at most 262144 bytes"):
        shell.run(publisher.publish_batch([*_events(2), *_events(1, size=270_000)]))
    assert standin.calls == []


def test_partial_failures_retried_then_accepted(shell: Shell, standin: StandIn) -> None:
    standin.script["PutEvents"] = [
        lambda body: (200, events_reply(body, {0: "ThrottlingException", 2: "InternalFailure"})),
        lambda body: (200, events_reply(body)),
    ]
    publisher = _standin_publisher(shell, standin)
    events = _events(4)
    result = shell.run(publisher.publish_batch(events, raise_on_failure=True))
    assert result.ok and sorted(e.data["n"] for e in result.succeeded) == [0, 1, 2, 3]
    first, second = standin.entries("PutEvents")
    assert len(first) == 4
    assert [json.loads(e["Detail"])["data"]["n"] for e in second] == [0, 2]


def test_permanent_failures_reported_and_raised(shell: Shell, standin: StandIn) -> None:
    standin.script["PutEvents"] = [
        lambda body: (200, events_reply(body, {1: "ValidationException"}))
    ]
    publisher = _standin_publisher(shell, standin)
    events = _events(3)
    result = shell.run(publisher.publish_batch(events))
    assert result.succeeded == (events[0], events[2])
    (failed,) = result.failed
    assert failed.item == events[1] and failed.code == "ValidationException"
    assert not failed.retryable
    assert standin.counts["PutEvents"] == 1
    with pytest.raises(PublishError) as info:
        shell.run(publisher.publish_batch(events, raise_on_failure=True))
    assert info.value.failed == [events[1]]


def test_throttled_calls_then_exhausted_attempts(shell: Shell, standin: StandIn) -> None:
    standin.script["PutEvents"] = [error("ThrottlingException")]
    publisher = _standin_publisher(shell, standin)
    event = _events(1)[0]
    with pytest.raises(PublishError) as info:
        shell.run(publisher.publish(event))
    assert info.value.failed == [event]
    assert standin.counts["PutEvents"] == FAST_RETRY.max_attempts


def test_invalid_configuration_fails_at_construction(shell: Shell) -> None:
    with pytest.raises(ConfigError, match="bus_name"):
        shell.mod.EventBridgePublisher("not a bus!")
    with pytest.raises(ConfigError, match=r"aws\."):
        shell.mod.EventBridgePublisher(source="aws.s3")


def test_from_settings(shell: Shell, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIDIL_EVENTS__BUS_NAME", "orders-bus")
    monkeypatch.setenv("MIDIL_EVENTS__SOURCE", "app.orders")
    monkeypatch.setenv("MIDIL_EVENTS__REGION", "eu-west-1")
    publisher = shell.mod.EventBridgePublisher.from_settings()
    assert (publisher.bus_name, publisher.source) == ("orders-bus", "app.orders")
    assert publisher._aws.region == "eu-west-1"
