"""Publish events to an SQS queue with ``SQSPublisher``: one, then a batch.

The queue comes from the environment (``SQSPublisher.from_settings()``: ``MIDIL_EVENTS__QUEUE_URL``,
``__REGION``, ``__ENDPOINT_URL`` for a local emulator); the event type and its JSON data are
arguments. The events carry the correlation id given (or a new one). With moto's server::

    moto_server -p 5000 &     # or LocalStack on :4566; on AWS leave ENDPOINT_URL out
    export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
    aws --endpoint-url http://127.0.0.1:5000 sqs create-queue --queue-name orders
    export MIDIL_EVENTS__ENDPOINT_URL=http://127.0.0.1:5000
    export MIDIL_EVENTS__QUEUE_URL=http://127.0.0.1:5000/123456789012/orders
    python examples/sqs_publish.py order.created '{"id": 42}' --batch 25 --correlation-id checkout-7

Exit status: 0 every event accepted, 1 some were not, 2 configuration error.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid

from midil_common.errors import ConfigError, EventError
from midil_common.events import Event, event_context
from midil_sync import SQSPublisher


def main() -> int:
    """Publish one event of the given type, then ``--batch`` more, and report what SQS took."""
    parser = argparse.ArgumentParser(description="Publish events to SQS.")
    parser.add_argument("type", help="the event type, e.g. order.created")
    parser.add_argument("data", nargs="?", default="{}", type=json.loads, help="JSON data")
    parser.add_argument("--batch", type=int, default=0, help="then publish this many in batches")
    parser.add_argument("--correlation-id", default=f"cli-{uuid.uuid4().hex[:8]}")
    args = parser.parse_args()

    try:
        publisher = SQSPublisher.from_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    with publisher, event_context(correlation_id=args.correlation_id):
        try:
            sent = publisher.publish(Event(type=args.type, source="orders-api", data=args.data))
            print(f"published {sent.type} {sent.id} (correlation id {sent.correlation_id})")
            events = [
                Event(type=args.type, source="orders-api", data={**args.data, "n": n})
                for n in range(args.batch)
            ]
            result = publisher.publish_batch(events)  # batches of 10, refused entries retried
        except EventError as exc:  # PublishError (exc.failed), InvalidEventError (too big)
            print(f"not published: {exc}", file=sys.stderr)
            return 1
    if events:
        print(f"batch: {len(result.succeeded)} published, {len(result.failed)} failed")
    if not result.ok:
        print(result.describe(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
