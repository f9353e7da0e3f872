"""``SQSConsumer`` of both shells against a scripted SQS stand-in, for what moto cannot do on
demand: partial batch-delete failures, a receipt handle replaced by a redelivery, transient and
permanent errors."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from midil_common.errors import ConsumerError
from midil_common.events import Event

from .conftest import Shell, StandIn, message


def _entries(body: dict[str, Any]) -> list[dict[str, Any]]:
    return list(body.get("Entries", []))


def _handles(calls: list[dict[str, Any]]) -> list[str]:
    return [entry["ReceiptHandle"] for body in calls for entry in _entries(body)]


def test_a_delete_entry_that_failed_retryably_is_sent_again(
    shell: Shell, stand_in: StandIn
) -> None:
    batch = [message(n) for n in range(3)]
    stand_in.script["ReceiveMessage"] = [{"Messages": batch}, {}]
    flaky = batch[1]["ReceiptHandle"]
    refusals = [2]  # the flaky entry fails twice, then is accepted

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        entries = _entries(body)
        refused = [e for e in entries if e["ReceiptHandle"] == flaky and refusals[0] > 0]
        refusals[0] -= bool(refused)
        return {
            "Successful": [{"Id": e["Id"]} for e in entries if e not in refused],
            "Failed": [
                {"Id": e["Id"], "Code": "InternalError", "SenderFault": False, "Message": "x"}
                for e in refused
            ],
        }

    stand_in.script["DeleteMessageBatch"] = [answer]
    consumer = shell.consumer(stand_in.queue_url, stand_in.endpoint_url, concurrency=5)
    consumer.on("**")(shell.handler(lambda e: time.sleep(0.05)))
    stats = shell.run_until_empty(consumer)
    assert stats.handled == 3 and stats.deleted == 3 and stats.delete_failed == 0
    # One call per message and one per retry at most; fewer when the handlers end together (how
    # many do depends on the machine's load, so no fewer is asserted).
    assert len(stand_in.calls_of("DeleteMessageBatch")) <= 3 + 2
    sent = _handles(stand_in.calls_of("DeleteMessageBatch"))
    assert sorted(sent) == sorted([m["ReceiptHandle"] for m in batch] + [flaky, flaky])


def _all_ok(body: dict[str, Any]) -> dict[str, Any]:
    return {"Successful": [{"Id": e["Id"]} for e in _entries(body)], "Failed": []}


def test_deletes_use_the_latest_receipt_handle_of_a_redelivered_message(
    shell: Shell, stand_in: StandIn
) -> None:
    first = message(1)
    again = {**first, "ReceiptHandle": first["ReceiptHandle"] + "-newer"}
    again["Attributes"] = {"ApproximateReceiveCount": "2"}
    stand_in.script["ReceiveMessage"] = [{"Messages": [first]}, {"Messages": [again]}, {}]
    old = first["ReceiptHandle"]

    def refuse_old(body: dict[str, Any]) -> dict[str, Any]:
        entries = _entries(body)
        return {
            "Successful": [{"Id": e["Id"]} for e in entries if e["ReceiptHandle"] != old],
            "Failed": [
                {"Id": e["Id"], "Code": "ReceiptHandleIsInvalid", "SenderFault": True}
                for e in entries
                if e["ReceiptHandle"] == old
            ],
        }

    stand_in.script["DeleteMessageBatch"] = [refuse_old]
    pauses = [0.3, 0.6]  # the redelivery arrives while the first copy runs, and outlives it

    def handle(event: Event) -> None:
        time.sleep(pauses.pop(0))

    consumer = shell.consumer(stand_in.queue_url, stand_in.endpoint_url, concurrency=4)
    consumer.on("**")(shell.handler(handle))
    stats = shell.run_until_empty(consumer)
    assert stats.handled == 2 and stats.delete_failed == 0 and stats.deleted == 2
    sent = _handles(stand_in.calls_of("DeleteMessageBatch"))
    assert old not in sent and sent == [again["ReceiptHandle"]] * 2


def test_a_delete_refused_for_good_is_counted_and_logged_without_the_handle(
    shell: Shell, stand_in: StandIn, caplog: pytest.LogCaptureFixture
) -> None:
    only = message(0)
    stand_in.script["ReceiveMessage"] = [{"Messages": [only]}, {}]
    stand_in.script["DeleteMessageBatch"] = [
        lambda body: {
            "Successful": [],
            "Failed": [
                {"Id": e["Id"], "Code": "ReceiptHandleIsInvalid", "SenderFault": True}
                for e in _entries(body)
            ],
        }
    ]
    consumer = shell.consumer(stand_in.queue_url, stand_in.endpoint_url)
    consumer.on("**")(shell.handler(lambda e: None))
    with caplog.at_level(logging.DEBUG, logger="midil"):
        stats = shell.run_until_empty(consumer)
    assert stats.handled == 1 and stats.deleted == 0 and stats.delete_failed == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("ReceiptHandleIsInvalid" in w for w in warnings)
    assert all(only["ReceiptHandle"] not in r.getMessage() for r in caplog.records)
    assert len(stand_in.calls_of("DeleteMessageBatch")) == 1  # permanent: not repeated


def test_transient_receive_errors_are_retried_and_logged_at_a_bounded_rate(
    shell: Shell, stand_in: StandIn, caplog: pytest.LogCaptureFixture
) -> None:
    stand_in.script["ReceiveMessage"] = [
        (500, "InternalError", "try later"),
        (400, "ThrottlingException", "slow down"),
        (503, "ServiceUnavailable", "busy"),
        (500, "InternalError", "try later"),
        {"Messages": [message(0)]},
        {},
    ]
    consumer = shell.consumer(stand_in.queue_url, stand_in.endpoint_url)
    consumer.on("**")(shell.handler(lambda e: None))
    with caplog.at_level(logging.INFO, logger="midil.events"):
        stats = shell.run_until_empty(consumer)
    assert stats.errors == 4 and stats.handled == 1 and stats.deleted == 1
    lines = [r.getMessage() for r in caplog.records if r.name == "midil.events"]
    assert len([x for x in lines if "ReceiveMessage failed" in x]) == 1  # the first of the streak
    assert any("works again after 4 failures" in x for x in lines)


@pytest.mark.parametrize(
    ("operation", "status", "code"),
    [
        ("GetQueueAttributes", 400, "AccessDeniedException"),
        ("ReceiveMessage", 403, "InvalidClientTokenId"),
        ("ReceiveMessage", 400, "AWS.SimpleQueueService.NonExistentQueue"),
    ],
)
def test_a_permanent_error_stops_the_consumer_with_a_clear_error(
    shell: Shell, stand_in: StandIn, operation: str, status: int, code: str
) -> None:
    stand_in.script[operation] = [(status, code, "no")]
    consumer = shell.consumer(stand_in.queue_url, stand_in.endpoint_url)
    consumer.on("**")(shell.handler(lambda e: None))
    started = time.monotonic()
    with pytest.raises(ConsumerError, match=code.rpartition(".")[2]) as caught:
        shell.call(consumer, "run")
    assert time.monotonic() - started < 2
    assert stand_in.queue_url in str(caught.value) and operation in str(caught.value)
    if not shell.is_async:
        consumer.close()


def test_logs_name_ids_never_bodies_or_receipt_handles(
    shell: Shell, stand_in: StandIn, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "SECRET-PAYLOAD-7f3a"
    poison = {
        "MessageId": "m-poison",
        "ReceiptHandle": "handle-poison-0123456789abcdef",
        "Body": '{"broken": "' + secret,
        "Attributes": {"ApproximateReceiveCount": "1"},
    }
    failing = message(1, Event(type="order.created", source="/t", data={"card": secret}))
    stand_in.script["ReceiveMessage"] = [{"Messages": [poison, failing]}, {}]

    def fail(event: Event) -> None:
        raise RuntimeError("handler failed")

    consumer = shell.consumer(stand_in.queue_url, stand_in.endpoint_url)
    consumer.on("**")(shell.handler(fail))
    with caplog.at_level(logging.DEBUG, logger="midil"):
        stats = shell.run_until_empty(consumer)
    assert stats.poison == 1 and stats.failed == 1 and stats.retried == 1
    text = "\n".join(caplog.text.splitlines())
    assert "m-poison" in text
    assert secret not in text
    assert poison["ReceiptHandle"] not in text and failing["ReceiptHandle"] not in text
