"""A consumer process for the no-loss and scale-out tests (run with ``sys.executable``).

    python consumer_process.py --shell sync|async --queue URL --record FILE [--fail-rate 0.2]

Consumes ``--queue`` on the moto endpoint in ``SQS_ENDPOINT_URL`` until SIGTERM/SIGINT
(``run(install_signal_handlers=True)``). The handler fails ``--fail-rate`` of its attempts at
random; every successful attempt appends the event id to ``--record`` (one ``write`` on an
``O_APPEND`` descriptor per line, so a SIGKILL never leaves half a line), just before returning.
The consumer's counters are printed as JSON on the way out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from dataclasses import asdict
from typing import Any


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shell", choices=["sync", "async"], required=True)
    parser.add_argument("--queue", required=True)
    parser.add_argument("--record", required=True)
    parser.add_argument("--fail-rate", type=float, default=0.0)
    parser.add_argument("--pause", type=float, default=0.0)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()

    from midil_common.events import Event, RedeliveryPolicy

    record = os.open(args.record, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    rng = random.Random()

    def handle(event: Event) -> None:
        if args.pause:
            time.sleep(args.pause)
        if rng.random() < args.fail_rate:
            raise RuntimeError("a random failure")
        os.write(record, f"{os.getpid()} {event.id}\n".encode())

    options: dict[str, Any] = {
        "endpoint_url": os.environ["SQS_ENDPOINT_URL"],
        "concurrency": args.concurrency,
        "wait_time_seconds": 1,
        "redelivery": RedeliveryPolicy(cap=1),
        "stop_timeout": 5.0,
    }
    if args.shell == "sync":
        import midil_sync

        consumer = midil_sync.SQSConsumer(args.queue, **options)
        consumer.on("**")(handle)
        try:
            stats = consumer.run(install_signal_handlers=True)
        finally:
            consumer.close()
    else:
        import midil_async

        consumer_a = midil_async.SQSConsumer(args.queue, **options)

        @consumer_a.on("**")
        async def handle_async(event: Event) -> None:
            handle(event)

        async def run() -> Any:
            try:
                return await consumer_a.run(install_signal_handlers=True)
            finally:
                await consumer_a.aclose()

        stats = asyncio.run(run())
    print(json.dumps(asdict(stats)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
