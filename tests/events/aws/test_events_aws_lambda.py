"""EventBridge entries and deliveries, and Lambda's SQS events and partial batch responses, on
payloads of the shapes AWS documents (written out here)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest

from midil_common.errors import ConfigError, InvalidEventError
from midil_common.events import Event, parse_eventbridge_event
from midil_common.events.eventbridge import eventbridge_entry
from midil_common.events.lambda_sqs import batch_item_failures, parse_sqs_event
from midil_common.events.sqs_codec import SQSCodec

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
ORIGINAL = Event(
    id="e-1",
    type="order.placed",
    source="/orders",
    time=T0,
    subject="o-9",
    data={"total": 12.5},
    correlation_id="corr-1",
    traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    extensions={"tenant": "acme", "priority": 3},
)

# An EventBridge event as delivered to a Lambda function (EventBridge documentation).
EC2_STATE_CHANGE: dict[str, Any] = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "111122223333",
    "time": "2017-12-22T18:43:48Z",
    "region": "us-west-1",
    "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
    "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated"},
}


# ------------------------------------------------------------------------------ EventBridge


def test_the_entry_carries_source_type_time_and_the_structured_event() -> None:
    entry = eventbridge_entry(
        ORIGINAL, bus_name="orders", trace_header="Root=1-abc", resources=["arn:x"]
    )
    assert entry == {
        "Time": T0,
        "Source": "/orders",
        "DetailType": "order.placed",
        "Detail": ORIGINAL.to_json(),
        "EventBusName": "orders",
        "Resources": ["arn:x"],
        "TraceHeader": "Root=1-abc",
    }
    assert (
        eventbridge_entry(ORIGINAL, source="com.example.orders")["Source"] == "com.example.orders"
    )
    assert "TraceHeader" not in eventbridge_entry(ORIGINAL)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"bus_name": "has space"}, "bus_name"),
        ({"source": "aws.orders"}, "source"),
        ({"source": ""}, "source"),
        ({"trace_header": "x" * 501}, "trace_header"),
        ({"resources": "arn:not-a-list"}, "resources"),
    ],
)
def test_entry_arguments_are_validated(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(ConfigError) as info:
        eventbridge_entry(ORIGINAL, **kwargs)
    assert info.value.variable == name


def test_our_event_delivered_by_eventbridge_is_restored_exactly() -> None:
    entry = eventbridge_entry(ORIGINAL)
    delivered = {
        "version": "0",
        "id": "f6c6e5a2-0000-4000-8000-000000000000",  # EventBridge's own id
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": "111122223333",
        "time": "2024-05-01T12:00:01Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": json.loads(entry["Detail"]),
    }
    assert parse_eventbridge_event(delivered) == ORIGINAL


def test_a_foreign_eventbridge_event_maps_like_the_sqs_fallback() -> None:
    event = parse_eventbridge_event(EC2_STATE_CHANGE)
    assert event.id == "6a7e8feb-b491-4cf7-a9f1-bf3703467718"
    assert (event.source, event.type) == ("aws.ec2", "EC2 Instance State-change Notification")
    assert event.time == datetime(2017, 12, 22, 18, 43, 48, tzinfo=timezone.utc)
    assert event.data == EC2_STATE_CHANGE["detail"]
    assert event.datacontenttype == "application/json"


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "text",
        [],
        {},
        {**EC2_STATE_CHANGE, "id": 5},
        {**EC2_STATE_CHANGE, "time": "yesterday"},
        {k: v for k, v in EC2_STATE_CHANGE.items() if k != "detail"},
        {**EC2_STATE_CHANGE, "detail": {"specversion": "1.0", "id": "x"}},
        {**EC2_STATE_CHANGE, "detail-type": "bad\ntype"},
    ],
)
def test_garbage_raises_invalid_event_error(payload: Any) -> None:
    with pytest.raises(InvalidEventError):
        parse_eventbridge_event(payload)


# ------------------------------------------------------------------------------ Lambda SQS


def record(
    message_id: str, body: str, *, group: str | None = None, queue: str = "my-queue"
) -> dict[str, Any]:
    """A record as Lambda's SQS event source delivers it (AWS Lambda documentation)."""
    attributes = {
        "ApproximateReceiveCount": "1",
        "SentTimestamp": "1545082649183",
        "SenderId": "AIDAIENQZJOLO23YVJ4VO",
        "ApproximateFirstReceiveTimestamp": "1545082649185",
    }
    if group is not None:
        attributes.update({"SequenceNumber": "18849496460467696128", "MessageGroupId": group,
                           "MessageDeduplicationId": message_id})  # fmt: skip
    return {
        "messageId": message_id,
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
        "body": body,
        "attributes": attributes,
        "messageAttributes": {
            "ce-type": {
                "stringValue": "legacy.type",
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String",
            },
        },
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:us-east-2:123456789012:{queue}",
        "awsRegion": "us-east-2",
    }


def test_a_standard_sqs_event_decodes_every_record() -> None:
    ours = SQSCodec().encode(ORIGINAL)["MessageBody"]
    payload = {"Records": [record("059f36b4-87a3-44ab-83d2-661975830a7d", ours),
                           record("2e1424d4-f796-459a-8184-9c92662be6da", "Test message."),
                           record("3", '{"broken": ')]}  # fmt: skip
    first, second, third = parse_sqs_event(payload)
    assert first.event == ORIGINAL and first.queue == "arn:aws:sqs:us-east-2:123456789012:my-queue"
    assert first.first_received_at == 1545082649.185
    assert second.event is not None and second.event.type == "legacy.type"
    assert second.event.source == "arn:aws:sqs:us-east-2:123456789012:my-queue"
    assert (
        second.event.data == "Test message."
        and second.event.id == "2e1424d4-f796-459a-8184-9c92662be6da"
    )
    assert third.kind == "poison"
    failures = batch_item_failures((first, second, third), {first.message_id, second.message_id})
    assert failures == {"batchItemFailures": [{"itemIdentifier": "3"}]}
    assert batch_item_failures((first,), {first.message_id}) == {"batchItemFailures": []}


def test_fifo_after_the_first_failure_the_rest_of_that_group_is_reported_failed() -> None:
    payload = {"Records": [record("1", "a", group="g1", queue="q.fifo"),
                           record("2", "b", group="g2", queue="q.fifo"),
                           record("3", "c", group="g1", queue="q.fifo"),
                           record("4", "d", group="g1", queue="q.fifo"),
                           record("5", "e", group="g2", queue="q.fifo")]}  # fmt: skip
    messages = parse_sqs_event(payload)
    # "3" failed in the middle of g1: "4" is reported too even though it ran; g2 is untouched.
    response = batch_item_failures(messages, succeeded={"1", "2", "4", "5"})
    assert response == {"batchItemFailures": [{"itemIdentifier": "3"}, {"itemIdentifier": "4"}]}
    response = batch_item_failures(messages, succeeded={"2", "3", "4", "5"})
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == ["1", "3", "4"]


def test_a_failed_record_without_an_id_fails_the_whole_batch() -> None:
    bad = record("x", "body")
    del bad["messageId"]
    messages = parse_sqs_event({"Records": [bad, record("ok", "b")]})
    assert batch_item_failures(messages, {"ok"}) == {"batchItemFailures": [{"itemIdentifier": ""}]}


@pytest.mark.parametrize(
    "payload",
    [None, {}, {"Records": "x"}, {"Records": [{"eventSource": "aws:sns", "Sns": {}}]}],
)
def test_a_payload_that_is_no_sqs_event_is_refused(payload: Any) -> None:
    with pytest.raises(InvalidEventError):
        parse_sqs_event(payload)
