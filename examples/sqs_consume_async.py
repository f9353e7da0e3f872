"""Consume an SQS queue from asyncio: ``midil_async.SQSConsumer``, until Ctrl-C or SIGTERM.

The async twin of ``sqs_consume.py`` (same settings, same idempotent SQLite write keyed by the
event id, run in a thread as any blocking call from a coroutine should be); the handler is a
coroutine. The queue comes from ``MIDIL_EVENTS__...`` (``SQSConsumer.from_settings()``)::

    export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
    export MIDIL_EVENTS__ENDPOINT_URL=http://127.0.0.1:5000   # moto_server, LocalStack; not on AWS
    export MIDIL_EVENTS__QUEUE_URL=http://127.0.0.1:5000/123456789012/orders
    python examples/sqs_consume_async.py orders.sqlite3

Exit status: 0 after a stop, 1 when SQS refused for good, 2 configuration error.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import sys
from contextlib import closing

import midil_async
from midil_common.errors import ConfigError, ConsumerError
from midil_common.events import Event

SCHEMA = "CREATE TABLE IF NOT EXISTS orders (event_id TEXT PRIMARY KEY, type TEXT, data TEXT)"


def store(database: str, event: Event) -> bool:
    """Write the order once, keyed by the event id; False when it was there already."""
    with closing(sqlite3.connect(database, timeout=30)) as db, db:
        db.execute(SCHEMA)
        row = (event.id, event.type, str(event.data))
        return db.execute("INSERT OR IGNORE INTO orders VALUES (?, ?, ?)", row).rowcount == 1


async def consume(database: str) -> int:
    """Consume until stopped, then print the counters."""
    try:
        consumer = midil_async.SQSConsumer.from_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2

    @consumer.on("order.*")
    async def store_order(event: Event) -> None:
        stored = await asyncio.to_thread(store, database, event)
        what = "stored" if stored else "already stored, skipped"
        print(f"{what}: {event.type} {event.data} [{event.correlation_id}]", flush=True)

    print(f"consuming {consumer.queue_url} (Ctrl-C to stop)", flush=True)
    try:
        stats = await consumer.run(install_signal_handlers=True)
    except ConsumerError as exc:
        print(f"consumer stopped: {exc}", file=sys.stderr)
        return 1
    finally:
        await consumer.aclose()
    print(f"stopped: {stats.handled} handled, {stats.failed} failed, {stats.released} released")
    return 0


def main() -> int:
    """Run the consumer on an event loop."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("midil").setLevel(logging.INFO)  # the kit's retries, stops, ...
    return asyncio.run(consume(sys.argv[1] if len(sys.argv) > 1 else "orders.sqlite3"))


if __name__ == "__main__":
    sys.exit(main())
