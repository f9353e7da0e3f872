"""Consume an SQS queue from a plain script: ``SQSConsumer``, until Ctrl-C or SIGTERM.

Each ``order.*`` event is stored in a SQLite database keyed by the event id, so the handler is
idempotent: SQS delivers at least once, and a redelivered event changes nothing. A message is
deleted only after the handler returned. Ctrl-C (or SIGTERM, as a process manager sends) stops
receiving, lets the handlers in progress finish and puts the other messages back on the queue at
once. The queue comes from ``MIDIL_EVENTS__...`` (``SQSConsumer.from_settings()``)::

    export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
    export MIDIL_EVENTS__ENDPOINT_URL=http://127.0.0.1:5000   # moto_server, LocalStack; not on AWS
    export MIDIL_EVENTS__QUEUE_URL=http://127.0.0.1:5000/123456789012/orders
    export MIDIL_EVENTS__CONCURRENCY=4 MIDIL_EVENTS__WAIT_TIME_SECONDS=20
    python examples/sqs_consume.py orders.sqlite3    # then send: python examples/sqs_publish.py ...

Exit status: 0 after a stop, 1 when SQS refused for good (no such queue, bad credentials),
2 configuration error.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from contextlib import closing

from midil_common.errors import ConfigError, ConsumerError
from midil_common.events import Event
from midil_sync import SQSConsumer

SCHEMA = "CREATE TABLE IF NOT EXISTS orders (event_id TEXT PRIMARY KEY, type TEXT, data TEXT)"


def main() -> int:
    """Consume until stopped, then print the counters."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("midil").setLevel(logging.INFO)  # the kit's retries, stops, ...
    database = sys.argv[1] if len(sys.argv) > 1 else "orders.sqlite3"
    with closing(sqlite3.connect(database)) as db, db:
        db.execute(SCHEMA)
    try:
        consumer = SQSConsumer.from_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2

    @consumer.on("order.*")
    def store_order(event: Event) -> None:
        # Runs on a worker thread: one connection per call. The write is keyed by the event id.
        with closing(sqlite3.connect(database, timeout=30)) as db, db:
            row = (event.id, event.type, str(event.data))
            stored = db.execute("INSERT OR IGNORE INTO orders VALUES (?, ?, ?)", row).rowcount
        what = "stored" if stored else "already stored, skipped"
        print(f"{what}: {event.type} {event.data} [{event.correlation_id}]", flush=True)

    print(f"consuming {consumer.queue_url} (Ctrl-C to stop)", flush=True)
    try:
        stats = consumer.run(install_signal_handlers=True)
    except ConsumerError as exc:
        print(f"consumer stopped: {exc}", file=sys.stderr)
        return 1
    finally:
        consumer.close()
    print(f"stopped: {stats.handled} handled, {stats.failed} failed, {stats.released} released")
    return 0


if __name__ == "__main__":
    sys.exit(main())
