"""Batches SQS and EventBridge accept: never over a limit, in order, nothing lost, refused early."""

from __future__ import annotations

import itertools
from datetime import datetime, timezone

import pytest
from botocore.session import get_session
from botocore.validate import ParamValidator
from hypothesis import given
from hypothesis import strategies as st

from midil_common.errors import ConfigError, InvalidEventError
from midil_common.events import Event
from midil_common.events.batching import (
    EVENTBRIDGE_MAX_BATCH_SIZE,
    EVENTBRIDGE_MAX_ENTRY_SIZE,
    delete_batches,
    eventbridge_batches,
    eventbridge_entry_size,
    split_by_size,
    sqs_batches,
    sqs_message_size,
    visibility_batches,
)
from midil_common.events.sqs_codec import ReceivedMessage, SQSCodec

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def event(i: int, size: int = 0, char: str = "x") -> Event:
    return Event(id=f"e-{i}", source="/s", type="t.x", time=T0, data=char * size)


def test_sqs_size_counts_body_and_attribute_names_types_and_values_in_utf8_bytes() -> None:
    message = {
        "MessageBody": "é" * 10,  # 20 bytes
        "MessageAttributes": {
            "ce-type": {"DataType": "String", "StringValue": "ü"},  # 7 + 6 + 2
            "bin": {"DataType": "Binary", "BinaryValue": b"\x00\x01\x02"},  # 3 + 6 + 3
        },
        "MessageSystemAttributes": {
            "AWSTraceHeader": {"DataType": "String", "StringValue": "x" * 99}
        },
    }
    assert sqs_message_size(message) == 20 + 15 + 12


def test_eventbridge_size_is_computed_as_aws_documents_it() -> None:
    entry = {
        "Time": T0,
        "Source": "src",
        "DetailType": "dt",
        "Detail": '{"a":"é"}',
        "Resources": ["arn:1", "arn:22"],
        "EventBusName": "not counted",
        "TraceHeader": "not counted",
    }
    assert eventbridge_entry_size(entry) == 14 + 3 + 2 + 10 + 5 + 6
    del entry["Time"]
    assert eventbridge_entry_size(entry) == 3 + 2 + 10 + 5 + 6


@given(st.lists(st.integers(0, 100), max_size=60), st.integers(1, 12), st.integers(100, 400))
def test_split_by_size_keeps_limits_order_and_everything(
    sizes: list[int], max_entries: int, max_bytes: int
) -> None:
    runs = split_by_size(sizes, max_entries=max_entries, max_bytes=max_bytes)
    assert [i for run in runs for i in run] == list(range(len(sizes)))
    for run in runs:
        assert 1 <= len(run) <= max_entries
        assert sum(sizes[i] for i in run) <= max_bytes
    # Greedy: the next entry would not have fitted into the run before it.
    for before, after in itertools.pairwise(runs):
        first = after[0]
        assert (
            len(before) == max_entries or sum(sizes[i] for i in before) + sizes[first] > max_bytes
        )


@given(
    st.lists(st.tuples(st.integers(0, 3000), st.sampled_from("xé😀")), max_size=40),
    st.sampled_from([1024, 4096, 262_144]),
)
def test_sqs_batches_never_exceed_limits_and_lose_nothing(
    specs: list[tuple[int, str]], max_message_size: int
) -> None:
    events = [event(i, size, char) for i, (size, char) in enumerate(specs)]
    try:
        batches = sqs_batches(events, max_message_size=max_message_size)
    except InvalidEventError as exc:
        # Refused only when some event really does not fit, naming one that does not.
        assert "bytes as an SQS message" in str(exc)
        return
    assert [e for batch in batches for e in batch.items] == events
    for batch in batches:
        assert 1 <= len(batch.entries) <= 10
        assert [entry["Id"] for entry in batch.entries] == [
            str(i) for i in range(len(batch.entries))
        ]
        sizes = [sqs_message_size(entry) for entry in batch.entries]
        assert max(sizes) <= max_message_size
        assert sum(sizes) == batch.size <= max_message_size


def test_an_oversize_event_is_refused_before_any_batch_naming_id_and_sizes() -> None:
    events = [event(1, 10), event(2, 300_000), event(3, 10)]
    expected = sqs_message_size(SQSCodec().encode(events[1]))
    with pytest.raises(InvalidEventError) as info:
        sqs_batches(events)
    message = str(info.value)
    assert "'e-2'" in message and "262144" in message and f"is {expected} bytes" in message
    # A queue configured for 1 MiB takes it.
    batches = sqs_batches(events, max_message_size=1_048_576)
    assert [len(b.items) for b in batches] == [3]


def test_the_batch_limit_may_be_raised_to_a_mebibyte() -> None:
    events = [event(i, 200_000) for i in range(6)]
    assert [len(b.items) for b in sqs_batches(events, max_message_size=262_144)] == [1] * 6
    wide = sqs_batches(events, max_message_size=262_144, max_batch_size=1_048_576)
    assert [len(b.items) for b in wide] == [5, 1]


def test_limits_out_of_range_are_config_errors() -> None:
    for kwargs, name in [
        ({"max_message_size": 1023}, "max_message_size"),
        ({"max_message_size": 1_048_577}, "max_message_size"),
        ({"max_message_size": 4096, "max_batch_size": 2048}, "max_batch_size"),
    ]:
        with pytest.raises(ConfigError) as info:
            sqs_batches([event(0)], **kwargs)  # type: ignore[arg-type]
        assert info.value.variable == name


@given(st.lists(st.integers(0, 120_000), max_size=25))
def test_eventbridge_batches_never_exceed_limits_and_lose_nothing(sizes: list[int]) -> None:
    events = [event(i, size) for i, size in enumerate(sizes)]
    try:
        batches = eventbridge_batches(events, bus_name="orders")
    except InvalidEventError as exc:
        assert any(s > EVENTBRIDGE_MAX_ENTRY_SIZE - 300 for s in sizes)
        assert "EventBridge accepts at most 262144 bytes" in str(exc)
        return
    assert [e for batch in batches for e in batch.items] == events
    for batch in batches:
        assert 1 <= len(batch.entries) <= 10
        assert sum(eventbridge_entry_size(e) for e in batch.entries) == batch.size
        assert batch.size <= EVENTBRIDGE_MAX_BATCH_SIZE
        assert all(entry["EventBusName"] == "orders" for entry in batch.entries)


def test_batches_match_the_service_models() -> None:
    session = get_session()
    validator = ParamValidator()
    sqs = session.get_service_model("sqs")
    events_model = session.get_service_model("events")
    messages = [ReceivedMessage(f"m{i}", f"rh{i}", None, "poison") for i in range(12)]
    requests = [
        (sqs, "SendMessageBatch", {"QueueUrl": "u", "Entries": list(sqs_batches([event(1)])[0].entries)}),
        (events_model, "PutEvents", {"Entries": list(eventbridge_batches([event(1)], trace_header="Root=1-a")[0].entries)}),
        (sqs, "DeleteMessageBatch", {"QueueUrl": "u", "Entries": list(delete_batches(messages)[1].entries)}),
        (sqs, "ChangeMessageVisibilityBatch", {"QueueUrl": "u", "Entries": list(visibility_batches([(m, 30) for m in messages])[0].entries)}),
    ]  # fmt: skip
    for model, operation, params in requests:
        report = validator.validate(params, model.operation_model(operation).input_shape)
        assert not report.has_errors(), report.generate_report()


def test_delete_and_visibility_batches_hold_ten_each_in_order() -> None:
    messages = [ReceivedMessage(f"m{i}", f"rh{i}", None, "poison") for i in range(23)]
    deletes = delete_batches(messages)
    assert [len(b.items) for b in deletes] == [10, 10, 3]
    assert deletes[2].entries[2] == {"Id": "2", "ReceiptHandle": "rh22"}
    changes = visibility_batches([(m, i) for i, m in enumerate(messages)])
    assert changes[1].entries[0] == {"Id": "0", "ReceiptHandle": "rh10", "VisibilityTimeout": 10}
    assert delete_batches([]) == [] and sqs_batches([]) == [] and eventbridge_batches([]) == []
    with pytest.raises(ConfigError):
        visibility_batches([(messages[0], 43_201)])
