"""Partial failures of batch calls, and the publisher's retry of the entries that may succeed."""

from __future__ import annotations

import random
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from midil_common.errors import ConfigError, PublishError
from midil_common.events import BatchResult, EntryRetryPolicy, Event, FailedEntry
from midil_common.events.batch_result import (
    Finished,
    RetryEntries,
    eventbridge_batch_result,
    is_retryable_error,
)
from midil_common.events.batching import eventbridge_batches, sqs_batches
from midil_common.events.sqs_codec import ReceivedMessage

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
EVENTS = [
    Event(id=f"e-{i}", source="/s", type="t", time=T0, data={"secret": "s3cr3t"}) for i in range(5)
]


class FixedRandom:
    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


def test_an_sqs_send_response_splits_into_succeeded_retryable_and_permanent() -> None:
    (batch,) = sqs_batches(EVENTS)
    response = {
        "Successful": [
            {"Id": "0", "MessageId": "a", "MD5OfMessageBody": "x"},
            {"Id": "3", "MessageId": "d", "MD5OfMessageBody": "x"},
        ],
        "Failed": [
            {"Id": "1", "SenderFault": False, "Code": "InternalError", "Message": "try again"},
            {"Id": "2", "SenderFault": True, "Code": "InvalidParameterValue", "Message": "bad"},
            {"Id": "3", "SenderFault": True, "Code": "KMS.ThrottlingException", "Message": "slow"},
        ],
    }
    result = batch.result(response)
    assert result.succeeded == (EVENTS[0],)
    by_id = {f.item.id: f for f in result.failed}  # type: ignore[attr-defined]
    assert by_id["e-1"].retryable and by_id["e-1"].sender_fault is False
    assert not by_id["e-2"].retryable and by_id["e-2"].code == "InvalidParameterValue"
    # Reported both ways: the failure wins, and a sender-side throttle is retryable.
    assert by_id["e-3"].retryable
    # Not mentioned at all: failed, retryable, never taken for sent.
    assert by_id["e-4"].code == "MissingResult" and by_id["e-4"].retryable
    assert [f.event for f in result.retryable] == [EVENTS[1], EVENTS[3], EVENTS[4]]
    assert [f.event for f in result.permanent] == [EVENTS[2]]
    assert not result.ok


def test_a_put_events_response_is_read_in_order() -> None:
    (batch,) = eventbridge_batches(EVENTS[:4])
    response = {
        "FailedEntryCount": 2,
        "Entries": [
            {"EventId": "11710aed-b79e-4468-a20b-bb3c0c3b4860"},
            {"ErrorCode": "ThrottlingException", "ErrorMessage": "Rate exceeded"},
            {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed"},
        ],
    }
    result = batch.result(response)
    assert result.succeeded == (EVENTS[0],)
    assert [(f.code, f.retryable, f.sender_fault) for f in result.failed] == [
        ("ThrottlingException", True, None),
        ("MalformedDetail", False, None),
        ("MissingResult", True, None),
    ]
    assert (
        eventbridge_batch_result(EVENTS[:1], {"Entries": "garbage"}).failed[0].code
        == "MissingResult"
    )


def test_delete_failures_carry_the_message() -> None:
    messages = [ReceivedMessage(f"m{i}", f"rh{i}", EVENTS[i], "cloudevent") for i in range(2)]
    from midil_common.events.batching import delete_batches

    (batch,) = delete_batches(messages)
    result = batch.result(
        {
            "Successful": [{"Id": "0"}],
            "Failed": [
                {"Id": "1", "SenderFault": True, "Code": "ReceiptHandleIsInvalid", "Message": "m"}
            ],
        }
    )
    assert result.succeeded == (messages[0],)
    assert result.failed[0].item is messages[1] and result.failed[0].event is EVENTS[1]
    assert not result.failed[0].retryable


def test_a_whole_call_failure_fails_every_entry() -> None:
    (batch,) = sqs_batches(EVENTS[:2])
    throttled = batch.call_failed("ThrottlingException", "Rate exceeded", status=400)
    assert [f.retryable for f in throttled.failed] == [True, True]
    denied = batch.call_failed("AccessDenied", status=403)
    assert [f.retryable for f in denied.failed] == [False, False]
    network = batch.call_failed(None, "connection reset")
    assert network.failed[0].code == "CallFailed" and network.failed[0].retryable


@pytest.mark.parametrize(
    ("code", "status", "sender_fault", "expected"),
    [
        ("InternalFailure", None, None, True),
        ("ThrottlingException", 400, None, True),
        ("ServiceUnavailable", 503, None, True),
        ("AnythingElse", 500, None, True),
        ("AnythingElse", 429, None, True),
        ("AnythingElse", None, False, True),
        ("AnythingElse", None, True, False),
        ("AWS.SimpleQueueService.NonExistentQueue", 400, None, False),
        (None, None, None, True),
    ],
)
def test_retryable_codes(
    code: str | None, status: int | None, sender_fault: bool | None, expected: bool
) -> None:
    assert is_retryable_error(code, status=status, sender_fault=sender_fault) is expected


def test_raise_for_failures_names_counts_and_codes_never_data() -> None:
    result: BatchResult[Event] = BatchResult(
        (EVENTS[0],),
        (
            FailedEntry(EVENTS[1], "ThrottlingException", "s3cr3t echoed", True),
            FailedEntry(EVENTS[2], "ThrottlingException", "", True),
            FailedEntry(EVENTS[3], "MalformedDetail", "", False),
        ),
    )
    with pytest.raises(PublishError) as info:
        result.raise_for_failures()
    assert (
        str(info.value)
        == "3 of 4 entries were not accepted (MalformedDetail x1, ThrottlingException x2)"
    )
    assert info.value.failed == [EVENTS[1], EVENTS[2], EVENTS[3]]
    assert "s3cr3t" not in str(info.value)
    BatchResult((EVENTS[0],)).raise_for_failures()  # nothing failed: no error
    assert (result + BatchResult((EVENTS[4],))).succeeded == (EVENTS[0], EVENTS[4])


def sqs_response(batch_ids: list[str], failing: dict[str, tuple[str, bool]]) -> dict[str, Any]:
    return {
        "Successful": [{"Id": i} for i in batch_ids if i not in failing],
        "Failed": [{"Id": i, "Code": c, "SenderFault": s} for i, (c, s) in failing.items()],
    }


def test_the_retry_loop_resends_only_retryable_entries_until_done() -> None:
    policy = EntryRetryPolicy(max_attempts=3, backoff_initial=0.5, jitter=False)
    attempts = policy.start(now=100.0)
    (batch,) = sqs_batches(EVENTS)
    first = batch.result(sqs_response(["0", "1", "2", "3", "4"],
                                      {"1": ("InternalError", False), "3": ("InvalidParameterValue", True)}))  # fmt: skip
    step = attempts.record(first, now=100.1, rng=FixedRandom(0.5))
    assert step == RetryEntries((EVENTS[1],), 0.5, 2)
    (retry,) = sqs_batches(step.items)
    step = attempts.record(retry.result(sqs_response(["0"], {})), now=100.7, rng=FixedRandom(0.5))
    assert isinstance(step, Finished) and step.reason == "permanent failures"
    assert step.result.succeeded == (EVENTS[0], EVENTS[2], EVENTS[4], EVENTS[1])
    assert [f.item for f in step.result.failed] == [EVENTS[3]]


def test_the_retry_loop_stops_at_max_attempts_and_at_the_deadline() -> None:
    (batch,) = sqs_batches(EVENTS[:1])
    throttled = batch.call_failed("ThrottlingException")
    policy = EntryRetryPolicy(max_attempts=2, jitter=False)
    attempts = policy.start(now=0.0)
    assert isinstance(attempts.record(throttled, now=0.0, rng=random.Random(1)), RetryEntries)
    final = attempts.record(throttled, now=1.0, rng=random.Random(1))
    assert isinstance(final, Finished) and final.reason == "attempts exhausted"
    assert final.result.failed == throttled.failed

    late = EntryRetryPolicy(deadline=1.0, backoff_initial=0.5, jitter=False).start(now=0.0)
    final = late.record(throttled, now=0.6, rng=random.Random(1))
    assert isinstance(final, Finished) and final.reason == "deadline reached"
    done = (
        EntryRetryPolicy()
        .start(now=0.0)
        .record(BatchResult((EVENTS[0],)), now=0.0, rng=random.Random(1))
    )
    assert isinstance(done, Finished) and done.reason == "done" and done.result.ok


@given(st.integers(1, 200), st.floats(0, 1, exclude_max=True))
def test_backoff_is_full_jitter_under_the_cap(attempt: int, r: float) -> None:
    policy = EntryRetryPolicy(backoff_initial=0.1, backoff_multiplier=2.0, backoff_max=5.0)
    ceiling = min(5.0, 0.1 * 2.0 ** min(attempt - 1, 64))
    assert 0 <= policy.backoff(attempt, FixedRandom(r)) <= ceiling


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"backoff_initial": -1}, "backoff_initial"),
        ({"backoff_multiplier": 0.5}, "backoff_multiplier"),
        ({"backoff_max": float("nan")}, "backoff_max"),
        ({"deadline": 0}, "deadline"),
        ({"jitter": 1}, "jitter"),
    ],
)
def test_retry_policy_validation_names_the_argument(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(ConfigError) as info:
        EntryRetryPolicy(**kwargs)
    assert info.value.variable == name
