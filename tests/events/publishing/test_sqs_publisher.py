"""SQSPublisher of both shells: round trips through moto (read back with plain boto3 and decoded by
the core codec), FIFO ids, batch splitting, oversize refusal, and entry failures through the
scripted stand-in."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from midil_common.errors import ConfigError, InvalidEventError, PublishError
from midil_common.events import Event, SQSCodec, event_context
from midil_common.events.publishing import xray_trace_header
from midil_common.events.sqs_codec import deduplication_id_for
from midil_common.settings import load_settings
from midil_common.testing.aws import MotoServer

from .conftest import FAST_RETRY, REGION, Shell, StandIn, drain, error, new_queue, sqs_reply

CODEC = SQSCodec()


def _events(count: int, size: int = 10) -> list[Event]:
    return [
        Event(source="/orders", type="order.created", data={"n": i, "pad": "x" * size})
        for i in range(count)
    ]


def _publisher(shell: Shell, aws: MotoServer, queue_url: str, **kwargs: Any) -> Any:
    kwargs.setdefault("retry", FAST_RETRY)
    return shell.make(
        "SQSPublisher",
        queue_url,
        region=REGION,
        endpoint_url=aws.endpoint_url,
        credentials=aws.credentials,
        **kwargs,
    )


def _standin_publisher(shell: Shell, standin: StandIn, **kwargs: Any) -> Any:
    kwargs.setdefault("retry", FAST_RETRY)
    return shell.make(
        "SQSPublisher",
        kwargs.pop("queue_url", "https://sqs.us-east-1.amazonaws.com/123456789012/q"),
        region=REGION,
        endpoint_url=standin.endpoint_url,
        credentials={"aws_access_key_id": "x", "aws_secret_access_key": "y"},
        **kwargs,
    )


# ------------------------------------------------------------------------------------ moto


def test_round_trip_carries_the_event_and_its_context(
    shell: Shell, aws: MotoServer, sqs: Any
) -> None:
    queue = new_queue(sqs)
    publisher = _publisher(shell, aws, queue)
    event = Event(source="/orders", type="order.created", data={"id": 7})
    with event_context(correlation_id="corr-42") as ctx:
        sent = shell.run(publisher.publish(event))
    assert sent.correlation_id == "corr-42"
    assert sent.traceparent == ctx.traceparent.format()
    (message,) = drain(sqs, queue, 1)
    received = CODEC.decode(message, queue=queue)
    assert received.kind == "cloudevent"
    assert received.event == sent
    assert received.event.id == event.id and received.event.data == {"id": 7}
    attributes = message["MessageAttributes"]
    assert attributes["traceparent"]["StringValue"] == sent.traceparent
    assert attributes["ce-type"]["StringValue"] == "order.created"


def test_batch_of_25_arrives_whole_and_reads_the_queue_limit_once(
    shell: Shell, aws: MotoServer, sqs: Any
) -> None:
    queue = new_queue(sqs, MaximumMessageSize="2048")
    publisher = _publisher(shell, aws, queue)
    events = _events(25)
    result = shell.run(publisher.publish_batch(events))
    assert result.ok and result.succeeded == tuple(events)  # no context: unchanged
    got = drain(sqs, queue, 25)
    assert sorted(CODEC.decode(m).event.data["n"] for m in got) == list(range(25))
    assert publisher._max_message_size == 2048
    # 2048 bytes is the limit now: a bigger event is refused before anything is sent.
    with pytest.raises(InvalidEventError, match="at most 2048 bytes"):
        shell.run(publisher.publish(_events(1, size=3000)[0]))


def test_fifo_queue_takes_group_and_deduplication_ids(
    shell: Shell, aws: MotoServer, sqs: Any
) -> None:
    queue = new_queue(sqs, fifo=True)
    publisher = _publisher(shell, aws, queue, message_group_id=lambda e: f"g{e.data['n'] % 2}")
    events = _events(6)
    assert shell.run(publisher.publish_batch(events)).ok
    # The same events again: deduplicated by SQS (source and id make the deduplication ids).
    assert shell.run(publisher.publish_batch(events)).ok
    got = drain(sqs, queue, 6, rounds=4)
    assert len(got) == 6
    by_group: dict[str, list[int]] = {}
    for message in got:
        attrs = message["Attributes"]
        event = CODEC.decode(message).event
        assert attrs["MessageDeduplicationId"] == deduplication_id_for(event)
        by_group.setdefault(attrs["MessageGroupId"], []).append(event.data["n"])
    assert by_group == {"g0": [0, 2, 4], "g1": [1, 3, 5]}


def test_fifo_explicit_deduplication_id_and_group_required(
    shell: Shell, aws: MotoServer, sqs: Any
) -> None:
    queue = new_queue(sqs, fifo=True)
    with pytest.raises(ConfigError, match="message_group_id"):
        shell.mod.SQSPublisher(queue)
    publisher = _publisher(
        shell, aws, queue, message_group_id="orders", deduplication_id=lambda e: "same"
    )
    assert shell.run(publisher.publish_batch(_events(3))).ok
    got = drain(sqs, queue, 3, rounds=2)
    assert len(got) == 1  # one deduplication id for all three
    assert got[0]["Attributes"]["MessageGroupId"] == "orders"


def test_a_missing_queue_is_reported_not_dropped(shell: Shell, aws: MotoServer, sqs: Any) -> None:
    queue = new_queue(sqs)
    missing = queue.rsplit("/", 1)[0] + "/does-not-exist"
    publisher = _publisher(shell, aws, missing, max_message_size=262_144)
    events = _events(3)
    result = shell.run(publisher.publish_batch(events))
    assert result.succeeded == ()
    assert [f.item for f in result.failed] == events
    assert not any(f.retryable for f in result.failed)
    with pytest.raises(PublishError) as info:
        shell.run(publisher.publish_batch(events, raise_on_failure=True))
    assert info.value.failed == events


def test_from_settings(shell: Shell, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIDIL_EVENTS__QUEUE_URL", "http://127.0.0.1:1/123456789012/q")
    monkeypatch.setenv("MIDIL_EVENTS__REGION", "eu-west-1")
    publisher = shell.mod.SQSPublisher.from_settings()
    assert publisher.queue_url == "http://127.0.0.1:1/123456789012/q"
    assert publisher._aws.region == "eu-west-1"
    shell.run(publisher.aclose() if shell.is_async else publisher.close())
    monkeypatch.delenv("MIDIL_EVENTS__QUEUE_URL")
    with pytest.raises(ConfigError, match="MIDIL_EVENTS__QUEUE_URL"):
        shell.mod.SQSPublisher.from_settings(load_settings())


# -------------------------------------------------------------------------------- stand-in


def test_batches_split_at_ten_and_at_the_size_limit(shell: Shell, standin: StandIn) -> None:
    publisher = _standin_publisher(shell, standin, max_message_size=4096)
    assert shell.run(publisher.publish_batch(_events(23))).ok
    assert sorted(len(e) for e in standin.entries("SendMessageBatch")) == [3, 10, 10]
    standin.calls.clear()
    # About 1.5 KB each: two fit in a 4 KiB batch, not three.
    assert shell.run(publisher.publish_batch(_events(5, size=1500))).ok
    sizes = [len(e) for e in standin.entries("SendMessageBatch")]
    assert sorted(sizes) == [1, 2, 2]
    assert standin.counts["GetQueueAttributes"] == 0  # the limit was given


def test_oversize_is_refused_before_any_call(shell: Shell, standin: StandIn) -> None:
    publisher = _standin_publisher(shell, standin, max_message_size=1024)
    with pytest.raises(InvalidEventError, match=r"is \d+ bytes"):
        shell.run(publisher.publish_batch([*_events(3), *_events(1, size=2000)]))
    assert standin.calls == []


def test_the_queue_limit_is_read_once(shell: Shell, standin: StandIn) -> None:
    publisher = _standin_publisher(shell, standin)
    for _ in range(3):
        shell.run(publisher.publish(_events(1)[0]))
    assert standin.counts["GetQueueAttributes"] == 1
    assert standin.counts["SendMessageBatch"] == 3


def test_retryable_entry_failures_are_sent_again(shell: Shell, standin: StandIn) -> None:
    standin.script["SendMessageBatch"] = [
        lambda body: (200, sqs_reply(body, {1: ("InternalError", False), 3: ("X", False)})),
        lambda body: (200, sqs_reply(body)),
    ]
    publisher = _standin_publisher(shell, standin, max_message_size=262_144)
    events = _events(5)
    result = shell.run(publisher.publish_batch(events, raise_on_failure=True))
    assert result.ok
    assert sorted(e.data["n"] for e in result.succeeded) == [0, 1, 2, 3, 4]
    first, second = standin.entries("SendMessageBatch")
    assert len(first) == 5
    assert [CODEC.decode({"MessageId": "m", "ReceiptHandle": "r", "Body": e["MessageBody"]}).event.data["n"] for e in second] == [1, 3]  # fmt: skip


def test_permanent_failures_are_reported_and_raised(shell: Shell, standin: StandIn) -> None:
    standin.script["SendMessageBatch"] = [
        lambda body: (200, sqs_reply(body, {0: ("InvalidParameterValue", True)}))
    ]
    publisher = _standin_publisher(shell, standin, max_message_size=262_144)
    events = _events(3)
    result = shell.run(publisher.publish_batch(events))
    assert result.succeeded == tuple(events[1:])
    (failed,) = result.failed
    assert failed.item == events[0] and failed.code == "InvalidParameterValue"
    assert not failed.retryable and failed.sender_fault is True
    assert standin.counts["SendMessageBatch"] == 1  # not retried
    with pytest.raises(PublishError) as info:
        shell.run(publisher.publish_batch(events, raise_on_failure=True))
    assert info.value.failed == [events[0]]
    with pytest.raises(PublishError) as single:
        shell.run(publisher.publish(events[0]))
    assert single.value.failed == [events[0]]


def test_retryable_failures_that_persist_are_reported(shell: Shell, standin: StandIn) -> None:
    standin.script["SendMessageBatch"] = [
        lambda body: (200, sqs_reply(body, {0: ("ThrottlingException", True)}))
    ]
    publisher = _standin_publisher(shell, standin, max_message_size=262_144)
    result = shell.run(publisher.publish_batch(_events(2)))
    assert len(result.succeeded) == 1 and result.failed[0].code == "ThrottlingException"
    assert result.failed[0].retryable
    assert standin.counts["SendMessageBatch"] == FAST_RETRY.max_attempts


def test_a_throttled_call_is_retried_as_a_whole(shell: Shell, standin: StandIn) -> None:
    standin.script["SendMessageBatch"] = [
        error("ThrottlingException"),
        error("InternalError", 500),
        lambda body: (200, sqs_reply(body)),
    ]
    publisher = _standin_publisher(shell, standin, max_message_size=262_144)
    result = shell.run(publisher.publish_batch(_events(4)))
    assert result.ok and len(result.succeeded) == 4
    assert standin.counts["SendMessageBatch"] == 3


def test_one_client_serves_every_call(shell: Shell, standin: StandIn) -> None:
    publisher = _standin_publisher(shell, standin, max_message_size=262_144)

    async def clients() -> list[Any]:
        made = []
        for _ in range(3):
            await publisher.publish(_events(1)[0])
            made.append(await publisher._aws.get())
        return made

    if shell.is_async:
        made = shell.run(clients())
    else:
        made = []
        for _ in range(3):
            publisher.publish(_events(1)[0])
            made.append(publisher._aws.get())
    assert made[0] is made[1] is made[2]


def test_a_client_handed_in_is_used_and_left_open(shell: Shell, standin: StandIn) -> None:
    clients = importlib.import_module(f"{shell.mod.__name__}.events._clients")
    shared = clients.service_client(
        "sqs",
        None,
        region=REGION,
        endpoint_url=standin.endpoint_url,
        credentials={"aws_access_key_id": "x", "aws_secret_access_key": "y"},
    )[0]
    publisher = shell.make(
        "SQSPublisher",
        "https://sqs.us-east-1.amazonaws.com/1/q",
        client=shared,
        max_message_size=2048,
    )
    shell.run(publisher.publish(_events(1)[0]))
    assert publisher._aws is shared and not publisher._owns_client
    shell.run(shared.aclose() if shell.is_async else shared.close())


def test_trace_header_of_a_traceparent() -> None:
    header = xray_trace_header("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    assert header == "Root=1-0af76519-16cd43dd8448eb211c80319c;Parent=b7ad6b7169203331;Sampled=1"
    assert xray_trace_header("nonsense") is None and xray_trace_header(None) is None
