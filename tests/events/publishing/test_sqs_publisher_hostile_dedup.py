"""FIFO deduplication keyed by the CloudEvents identity (source and id), on moto's FIFO queue: two
distinct events that share an id are both delivered; the same event sent twice is one message."""

from __future__ import annotations

import hashlib
from typing import Any

from midil_common.events import Event, SQSCodec
from midil_common.events.sqs_codec import deduplication_id_for
from midil_common.testing.aws import MotoServer

from .conftest import FAST_RETRY, REGION, Shell, new_queue


def test_fifo_events_sharing_an_id_from_two_sources_are_both_delivered(
    shell: Shell, aws: MotoServer, sqs: Any
) -> None:
    queue = new_queue(sqs, fifo=True)
    publisher = shell.make(
        "SQSPublisher",
        queue,
        region=REGION,
        endpoint_url=aws.endpoint_url,
        credentials=aws.credentials,
        retry=FAST_RETRY,
        message_group_id="orders",
    )
    a = Event(id="1", source="https://shop-a.example/orders", type="order.created")
    b = Event(id="1", source="https://shop-b.example/orders", type="order.created")
    shell.run(publisher.publish(a))
    shell.run(publisher.publish(b))
    shell.run(publisher.publish(a))  # a retry of the same event: deduplicated by SQS
    # All three were sent by now: one receive (no long poll) sees every message the queue kept.
    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    got = got.get("Messages", [])
    sources = sorted(SQSCodec().decode(m).event.source for m in got)  # type: ignore[union-attr]
    assert sources == [a.source, b.source]


def test_the_default_deduplication_id_hashes_source_and_id() -> None:
    event = Event(id="order-42", source="/shop", type="t")
    expected = hashlib.sha256(b"/shop\norder-42").hexdigest()
    assert deduplication_id_for(event) == expected
    assert deduplication_id_for(event.evolve(data={"x": 1})) == expected  # stable across retries
    assert deduplication_id_for(event.evolve(source="/other")) != expected
