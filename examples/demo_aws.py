"""Publish events to SQS and consume them, correlation id carried through; EventBridge and a schedule."""

from __future__ import annotations

import asyncio
import datetime
import logging
import os

import boto3

import midil_async
import midil_sync
from midil_common.events import Event, event_context
from midil_common.testing.aws import MotoServer


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # the emulator's request log
    with MotoServer() as aws:
        # A local emulator takes any credentials; the kit's clients read them as boto3 does.
        os.environ.setdefault("AWS_ACCESS_KEY_ID", aws.credentials["aws_access_key_id"])
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", aws.credentials["aws_secret_access_key"])
        os.environ.setdefault("AWS_DEFAULT_REGION", aws.region)
        sqs = boto3.client("sqs", **aws.client_kwargs())
        queue_url = sqs.create_queue(QueueName="orders")["QueueUrl"]
        print(f"local AWS emulator at {aws.endpoint_url}, queue {queue_url.rsplit('/', 1)[1]}")

        with (
            midil_sync.SQSPublisher(queue_url, endpoint_url=aws.endpoint_url) as publisher,
            event_context(correlation_id="checkout-77"),
        ):
            result = publisher.publish_batch(
                [Event(type="order.created", source="demo/shop", data={"id": i}) for i in (1, 2)]
            )
            print(f"sync  published {len(result.succeeded)} events, {len(result.failed)} failed")

        async def publish_async() -> None:
            async with (
                midil_async.SQSPublisher(queue_url, endpoint_url=aws.endpoint_url) as publisher,
                event_context(correlation_id="checkout-78"),
            ):
                await publisher.publish(
                    Event(type="order.paid", source="demo/shop", data={"id": 1})
                )
                print("async published 1 event")

        asyncio.run(publish_async())

        consumer = midil_sync.SQSConsumer(
            queue_url, endpoint_url=aws.endpoint_url, wait_time_seconds=1
        )
        seen: list[str] = []

        @consumer.on("order.*")
        def handle(event: Event) -> None:
            seen.append(f"{event.type}#{event.data['id']} correlation {event.correlation_id}")

        stats = consumer.run_until_empty()
        for line in sorted(seen):
            print(f"consumer handled {line}")
        print(f"consumer: {stats.handled} handled, {stats.deleted} deleted, {stats.failed} failed")
        left = sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
        print(f"messages left on the queue: {left}")

        with midil_sync.EventBridgePublisher(
            source="demo/shop", endpoint_url=aws.endpoint_url
        ) as bus:
            bus.publish(Event(type="order.shipped", source="demo/shop", data={"id": 1}))
        print("EventBridge: order.shipped put on the default bus")

        with midil_sync.EventBridgeScheduler(
            endpoint_url=aws.endpoint_url,
            role_arn="arn:aws:iam::123456789012:role/scheduler",
            target_arn=sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"],
        ) as scheduler:
            when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
            reminder = Event(type="cart.reminder", source="demo/shop", data={"cart": 7})
            schedule = scheduler.schedule_at("cart-7-reminder", when, reminder)
            print(f"Scheduler: {schedule.name} created, {schedule.expression}")


if __name__ == "__main__":
    main()
