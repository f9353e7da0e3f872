"""Events as SQS messages: round trips, the documented fallback for foreign messages, poison."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timezone
from typing import Any

import pytest
from botocore.session import get_session
from botocore.validate import ParamValidator
from hypothesis import given
from hypothesis import strategies as st

from midil_common.errors import ConfigError
from midil_common.events import Event
from midil_common.events.sqs_codec import (
    ReceivedMessage,
    SQSCodec,
    deduplication_id_for,
    is_fifo_queue,
)

CODEC = SQSCodec()
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
# The characters SQS accepts in a body or a string attribute.
SQS_TEXT = re.compile(r"[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")

# ------------------------------------------------------------------------------ strategies

text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=30)
uri = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp"), blacklist_characters="\x85"),
    min_size=1,
    max_size=30,
).filter(lambda s: not any(c.isspace() for c in s))
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(blacklist_categories=("Cs",)), max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.text(st.characters(blacklist_categories=("Cs",)), max_size=8), inner, max_size=4
        )
    ),
    max_leaves=12,
)
reserved = {
    "id", "source", "type", "subject", "datacontenttype", "dataschema", "correlationid",
    "causationid", "traceparent", "specversion", "time", "data", "data_base64",
}  # fmt: skip
extensions = st.dictionaries(
    st.from_regex(r"[a-z0-9]{1,20}", fullmatch=True).filter(lambda n: n not in reserved),
    st.booleans() | st.integers(-(2**31), 2**31 - 1) | text,
    max_size=3,
)
events = st.builds(
    Event,
    id=text,
    source=uri,
    type=text,
    time=st.datetimes(
        min_value=datetime(1970, 1, 1),
        max_value=datetime(9000, 1, 1),
        timezones=st.just(timezone.utc),
    ),
    subject=st.none() | text,
    data=json_values | st.binary(max_size=40),
    correlation_id=st.none() | text,
    causation_id=st.none() | text,
    traceparent=st.none() | st.just(TRACEPARENT),
    extensions=extensions,
)


def received(entry: dict[str, Any], **attributes: str) -> dict[str, Any]:
    """What ``receive_message`` returns for a message sent as ``entry``."""
    return {
        "MessageId": "c4f0f1f2-0000-4000-8000-000000000001",
        "ReceiptHandle": "AQEB+handle==",
        "MD5OfBody": "ignored",
        "Body": entry["MessageBody"],
        "Attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1700000000000",
            **attributes,
        },
        "MessageAttributes": entry.get("MessageAttributes", {}),
    }


# ------------------------------------------------------------------------------ round trips


@given(events)
def test_any_event_survives_encode_then_decode(event: Event) -> None:
    entry = CODEC.encode(event)
    assert SQS_TEXT.fullmatch(entry["MessageBody"])
    for attribute in entry["MessageAttributes"].values():
        assert SQS_TEXT.fullmatch(attribute["StringValue"])
    message = CODEC.decode(received(entry))
    assert message.kind == "cloudevent", message.poison
    assert message.event == event
    assert message.event.to_json() == event.to_json()


@given(events)
def test_the_lambda_record_of_any_event_decodes_to_it(event: Event) -> None:
    entry = CODEC.encode(event)
    record = {
        "messageId": "m-1",
        "receiptHandle": "rh",
        "body": entry["MessageBody"],
        "attributes": {"ApproximateReceiveCount": "2"},
        "messageAttributes": {
            name: {"stringValue": a["StringValue"], "dataType": "String", "stringListValues": []}
            for name, a in entry["MessageAttributes"].items()
        },
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
    }
    message = CODEC.decode_record(record)
    assert message.event == event and message.receive_count == 2


def test_the_message_carries_two_attributes_and_the_correlation_id_in_the_body() -> None:
    event = Event(type="user.created", source="/users", data={"id": 7}, correlation_id="corr-1",
                  traceparent=TRACEPARENT)  # fmt: skip
    entry = CODEC.encode(event, trace_header="Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")
    assert entry["MessageAttributes"] == {
        "ce-type": {"DataType": "String", "StringValue": "user.created"},
        "traceparent": {"DataType": "String", "StringValue": TRACEPARENT},
    }
    assert json.loads(entry["MessageBody"])["correlationid"] == "corr-1"
    assert entry["MessageSystemAttributes"]["AWSTraceHeader"]["StringValue"].startswith("Root=1-")
    assert "MessageGroupId" not in entry and "MessageDeduplicationId" not in entry
    assert "traceparent" not in CODEC.encode(event.evolve(traceparent=None))["MessageAttributes"]


def test_a_trace_header_on_the_received_message_is_kept() -> None:
    entry = CODEC.encode(Event(type="t", source="s"))
    message = CODEC.decode(received(entry, AWSTraceHeader="Root=1-abc;Sampled=1"))
    assert message.trace_header == "Root=1-abc;Sampled=1"


def test_fifo_entries_carry_a_group_and_a_stable_deduplication_id() -> None:
    event = Event(type="t", source="s", id="order-42")
    entry = CODEC.encode(event, message_group_id="customer-1")
    assert entry["MessageGroupId"] == "customer-1"
    assert entry["MessageDeduplicationId"] == deduplication_id_for(event)
    by_function = CODEC.encode(event, message_group_id=lambda e: e.id[:5], deduplication_id="d-1")
    assert by_function["MessageGroupId"] == "order"
    assert by_function["MessageDeduplicationId"] == "d-1"
    odd = Event(type="t", source="s", id="ünïcode id")
    assert deduplication_id_for(odd) == deduplication_id_for(odd)
    assert re.fullmatch(r"[0-9a-f]{64}", deduplication_id_for(odd))
    assert is_fifo_queue("https://sqs.us-east-1.amazonaws.com/123456789012/orders.fifo")
    assert not is_fifo_queue("https://sqs.us-east-1.amazonaws.com/123456789012/orders")


def test_fifo_arguments_are_validated() -> None:
    event = Event(type="t", source="s")
    with pytest.raises(ConfigError) as info:
        CODEC.encode(event, message_group_id="has space")
    assert info.value.variable == "message_group_id"
    with pytest.raises(ConfigError) as info:
        CODEC.encode(event, deduplication_id="d")
    assert info.value.variable == "deduplication_id"
    with pytest.raises(ConfigError):
        CODEC.encode(event, trace_header="Root=1\nx")


def test_encoded_entries_match_the_sqs_service_model() -> None:
    model = get_session().get_service_model("sqs")
    event = Event(type="t", source="s", data=b"\x00\xff", traceparent=TRACEPARENT)
    entry = {"Id": "0", **CODEC.encode(event, trace_header="Root=1-a", message_group_id="g")}
    shape = model.operation_model("SendMessageBatch").input_shape
    report = ParamValidator().validate({"QueueUrl": "https://q", "Entries": [entry]}, shape)
    assert not report.has_errors(), report.generate_report()


# ------------------------------------------------------------------------------ fallback


def test_raw_json_becomes_an_event_typed_by_attribute_with_stable_id_and_sent_time() -> None:
    message = {
        "MessageId": "m-7",
        "ReceiptHandle": "rh",
        "Body": '{"orderId": 12, "total": 9.5}',
        "Attributes": {"ApproximateReceiveCount": "3", "SentTimestamp": "1700000000000"},
        "MessageAttributes": {
            "eventType": {"DataType": "String", "StringValue": "order.placed"},
            "ce-type": {"DataType": "String", "StringValue": "ignored.when.configured"},
            "correlationid": {"DataType": "String", "StringValue": "corr-9"},
        },
    }
    decoded = SQSCodec(type_attribute="eventType").decode(message, queue="https://sqs/q")
    assert decoded.kind == "json" and decoded.receive_count == 3
    event = decoded.event
    assert event is not None
    assert (event.id, event.type, event.source) == ("m-7", "order.placed", "https://sqs/q")
    assert event.data == {"orderId": 12, "total": 9.5}
    assert event.time == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
    assert event.correlation_id == "corr-9"
    assert CODEC.decode(message).event.type == "ignored.when.configured"  # type: ignore[union-attr]
    del message["MessageAttributes"]
    plain = SQSCodec(default_type="legacy", default_source="/legacy").decode(message).event
    assert plain is not None and (plain.type, plain.source) == ("legacy", "/legacy")


def test_plain_text_becomes_a_text_plain_event() -> None:
    decoded = CODEC.decode({"MessageId": "m", "ReceiptHandle": "r", "Body": "hello, world"})
    assert decoded.kind == "text" and decoded.event is not None
    assert decoded.event.datacontenttype == "text/plain"
    assert decoded.event.data == "hello, world"
    assert decoded.event.type == "sqs.message" and decoded.event.source == "sqs"


def test_an_eventbridge_to_sqs_envelope_becomes_its_event() -> None:
    # The shape a rule with an SQS target delivers (EventBridge documentation, EC2 example).
    body = {
        "version": "0",
        "id": "7bf73129-1428-4cd3-a780-95db273d1602",
        "detail-type": "EC2 Instance State-change Notification",
        "source": "aws.ec2",
        "account": "123456789012",
        "time": "2015-11-11T21:29:54Z",
        "region": "us-east-1",
        "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
        "detail": {"instance-id": "i-abcd1111", "state": "pending"},
    }
    decoded = CODEC.decode({"MessageId": "m", "ReceiptHandle": "r", "Body": json.dumps(body)})
    event = decoded.event
    assert decoded.kind == "eventbridge" and event is not None
    assert event.id == body["id"] and event.source == "aws.ec2"
    assert event.type == "EC2 Instance State-change Notification"
    assert event.time == datetime(2015, 11, 11, 21, 29, 54, tzinfo=timezone.utc)
    assert event.data == {"instance-id": "i-abcd1111", "state": "pending"}


def test_our_event_published_to_eventbridge_and_routed_to_sqs_is_restored_exactly() -> None:
    from midil_common.events.eventbridge import eventbridge_entry

    original = Event(type="user.created", source="/users", data={"id": 1}, correlation_id="c-1",
                     extensions={"tenant": "acme"})  # fmt: skip
    entry = eventbridge_entry(original)
    body = {
        "version": "0",
        "id": "eb-generated-id",
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": "123456789012",
        "time": "2024-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": json.loads(entry["Detail"]),
    }
    decoded = CODEC.decode({"MessageId": "m", "ReceiptHandle": "r", "Body": json.dumps(body)})
    assert decoded.event == original


def test_an_sns_notification_is_unwrapped_one_level() -> None:
    ours = Event(type="invoice.paid", source="/billing", data={"n": 1})
    notification = {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": "arn:aws:sns:us-west-2:123456789012:MyTopic",
        "Subject": "My First Message",
        "Message": ours.to_json(),
        "Timestamp": "2012-05-02T00:54:06.655Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLEw6JRN...",
        "SigningCertURL": "https://sns.us-west-2.amazonaws.com/SimpleNotificationService.pem",
        "UnsubscribeURL": "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe",
    }
    decoded = CODEC.decode(
        {"MessageId": "m", "ReceiptHandle": "r", "Body": json.dumps(notification)}
    )
    assert decoded.kind == "sns" and decoded.event == ours

    notification["Message"] = "Hello world!"
    notification["MessageAttributes"] = {"ce-type": {"Type": "String", "Value": "greeting"}}
    event = CODEC.decode(
        {"MessageId": "m", "ReceiptHandle": "r", "Body": json.dumps(notification)}
    ).event
    assert event is not None
    assert (event.type, event.source, event.id) == (
        "greeting",
        "arn:aws:sns:us-west-2:123456789012:MyTopic",
        "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
    )
    assert event.data == "Hello world!" and event.datacontenttype == "text/plain"
    assert event.time == datetime(2012, 5, 2, 0, 54, 6, 655000, tzinfo=timezone.utc)

    # One level only: an SNS envelope inside the message is plain JSON data.
    notification["Message"] = json.dumps({**notification, "Message": "inner"})
    inner = CODEC.decode({"MessageId": "m", "ReceiptHandle": "r", "Body": json.dumps(notification)})
    assert inner.kind == "sns" and inner.event is not None
    assert inner.event.data["Message"] == "inner"


def test_a_receive_message_response_of_a_fifo_queue_decodes() -> None:
    # The shape boto3's receive_message returns with MessageSystemAttributeNames=["All"].
    event = Event(type="order.shipped", source="/orders", id="o-1")
    message = {
        "MessageId": "5fea7756-0ea4-451a-a703-a558b933e274",
        "ReceiptHandle": "MbZj6wDWli+JvwwJaBV+3dcjk2YW2vA3+STFFljTM8tJJg6HRG6PYSasuWXPJB+Cw",
        "MD5OfBody": "fafb00f5732ab283681e124bf8747ed1",
        "Body": CODEC.encode(event, message_group_id="g-1")["MessageBody"],
        "Attributes": {
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1700000005000",
            "ApproximateReceiveCount": "4",
            "SentTimestamp": "1700000000000",
            "SequenceNumber": "18849496460467696128",
            "MessageDeduplicationId": "o-1",
            "MessageGroupId": "g-1",
        },
        "MD5OfMessageAttributes": "x",
        "MessageAttributes": {"ce-type": {"StringValue": "order.shipped", "DataType": "String"}},
    }
    decoded = CODEC.decode(message, queue="https://sqs.us-east-1.amazonaws.com/1/q.fifo")
    assert decoded == ReceivedMessage(
        message_id="5fea7756-0ea4-451a-a703-a558b933e274",
        receipt_handle=message["ReceiptHandle"],
        event=event,
        kind="cloudevent",
        receive_count=4,
        group_id="g-1",
        first_received_at=1700000005.0,
        sent_at=1700000000.0,
        queue="https://sqs.us-east-1.amazonaws.com/1/q.fifo",
    )
    assert decoded.ok


# ------------------------------------------------------------------------------ poison


def body_message(body: Any) -> dict[str, Any]:
    return {"MessageId": "m", "ReceiptHandle": "r", "Body": body}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('{"specversion": "1.0", "id": "x", "source": "s"}', "no 'type'"),
        ('{"specversion": "0.3", "id": "x", "source": "s", "type": "t"}', "specversion"),
        ('{"specversion": "1.0", "id": "x", "source": "s", "type": "t\\u0000"}', "'type'"),
        ('{"specversion": "1.0", "id": 5, "source": "s", "type": "t"}', "'id'"),
        ('{"a": "\\', "not valid JSON"),
        ('{"a": "\x01 raw control"}', "not valid JSON"),
        ('{"n": ' + "9" * 5000 + "}", "not valid JSON"),
        ("9" * 5000, "not valid JSON"),
        ("[" * 10_000 + "]" * 10_000, "not valid JSON"),
        ('{"a":' * 10_000 + "1" + "}" * 10_000, "not valid JSON"),
        ("x" * 2_000_000, "longer than"),
        ("é" * 600_000, "longer than"),
        (
            '{"version": "0", "id": "i", "detail-type": "", "source": "s", "detail": {}}',
            "detail-type",
        ),
    ],
)
def test_hostile_or_broken_bodies_are_poison_quickly(body: str, reason: str) -> None:
    started = time.perf_counter()
    decoded = CODEC.decode(body_message(body))
    assert time.perf_counter() - started < 0.5
    assert decoded.event is None and decoded.kind == "poison" and not decoded.ok
    assert decoded.poison is not None and reason in decoded.poison
    assert len(decoded.poison) < 300  # the reason never quotes the body


@pytest.mark.parametrize(
    "message",
    [
        None,
        "a string",
        {},
        {"ReceiptHandle": "r", "Body": "x"},
        {"MessageId": "m", "ReceiptHandle": "r", "Body": None},
        {"MessageId": "m", "ReceiptHandle": "r", "Body": b"bytes"},
        {"MessageId": 5, "ReceiptHandle": "r", "Body": "x"},
    ],
)
def test_malformed_messages_are_poison(message: Any) -> None:
    assert CODEC.decode(message).kind == "poison"
    assert CODEC.decode_record(message).kind == "poison"


def test_a_lambda_record_needs_no_receipt_handle_but_a_consumer_message_does() -> None:
    assert CODEC.decode_record({"messageId": "m", "body": "x"}).kind == "text"
    decoded = CODEC.decode({"MessageId": "m", "Body": "x"})
    assert decoded.poison == "the message has no receipt handle"


def test_text_with_backslashes_and_controls_is_plain_text_not_a_crash() -> None:
    for body in ("\\", "\\\\\\u0000", "line\x01\x02\x7f", "\ufffe", "  "):
        decoded = CODEC.decode(body_message(body))
        assert decoded.kind == "text" and decoded.event is not None
        assert decoded.event.data == body


def test_bad_receive_counts_and_timestamps_are_ignored() -> None:
    message = body_message("x")
    message["Attributes"] = {
        "ApproximateReceiveCount": "-1",
        "SentTimestamp": "9" * 40,
        "ApproximateFirstReceiveTimestamp": "abc",
    }
    decoded = CODEC.decode(message)
    assert decoded.receive_count == 1 and decoded.sent_at is None
    assert decoded.first_received_at is None and decoded.event is not None


anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.binary(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(
    body=st.text() | st.from_regex(r"\s*[\[{].*", fullmatch=True) | anything,
    attributes=anything | st.dictionaries(st.sampled_from(["ce-type", "traceparent", "correlationid", "t"]), anything),
    system=anything | st.dictionaries(st.sampled_from(["ApproximateReceiveCount", "SentTimestamp", "MessageGroupId"]), anything),
)  # fmt: skip
def test_the_decoder_never_raises(body: Any, attributes: Any, system: Any) -> None:
    codec = SQSCodec(type_attribute="t")
    message = {"MessageId": "m", "ReceiptHandle": "r", "Body": body,
               "Attributes": system, "MessageAttributes": attributes}  # fmt: skip
    decoded = codec.decode(message)
    assert (decoded.event is None) == (decoded.poison is not None)
    record = {"messageId": "m", "receiptHandle": "r", "body": body,
              "attributes": system, "messageAttributes": attributes}  # fmt: skip
    assert codec.decode_record(record).kind == decoded.kind


@given(st.dictionaries(st.text(max_size=12), anything, max_size=6))
def test_the_decoder_never_raises_on_arbitrary_json_objects(obj: dict[str, Any]) -> None:
    for extra in ({}, {"specversion": "1.0"}, {"version": "0", "detail-type": "x", "source": "s",
                                                "detail": obj}, {"Type": "Notification",
                                                "TopicArn": "arn:t", "Message": json.dumps(obj, default=str)}):  # fmt: skip
        body = json.dumps({**obj, **extra}, default=repr)
        decoded = CODEC.decode(body_message(body))
        assert (decoded.event is None) == (decoded.poison is not None)


def test_codec_options_are_validated() -> None:
    for kwargs, name in [
        ({"type_attribute": ""}, "type_attribute"),
        ({"default_type": "a\nb"}, "default_type"),
        ({"default_source": "has space"}, "default_source"),
        ({"max_message_size": 0}, "max_message_size"),
    ]:
        with pytest.raises(ConfigError) as info:
            SQSCodec(**kwargs)
        assert info.value.variable == name
