"""SQS consumer throughput, as ratios against anchors measured in this run on one moto server.

moto's server runs as a separate process (``python -m moto.server``), so its work never shares
this interpreter; queues stay small (moto slows with queue depth); every round uses a fresh queue
of ``N`` messages, rounds alternate between the contenders, and the best round of each counts.

(a) no-op handler: ``SQSConsumer.run_until_empty`` of the sync shell (and the async one) vs a plain
    boto3 loop of ``receive_message(MaxNumberOfMessages=10)`` + ``delete_message_batch`` (goal: at
    least 0.9 of its throughput). The consumer must ask for every attribute (receive count, group,
    ``traceparent``...), which moto answers more slowly: the same plain loop asking for them is
    that floor, measured and printed too.
(b) a handler sleeping 20 ms: concurrency 10 vs concurrency 1 (goal: at least 4x the throughput).
    The consumer at concurrency 10 with a no-op handler, in the same rounds, is moto's own pace:
    the speed-up cannot exceed concurrency 1's time over it, and that ceiling is printed too.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable

import boto3
from harness import Figure, print_figures

import midil_async
import midil_sync
from midil_common.events import Event, SQSCodec

N = 200
ROUNDS = 5
REGION = "us-east-1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Moto:
    """moto's server in a process of its own."""

    def __init__(self) -> None:
        port = _free_port()
        self.endpoint_url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(self.endpoint_url + "/moto-api/", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.sqs = boto3.client("sqs", endpoint_url=self.endpoint_url, region_name=REGION)

    def queue(self, count: int = N) -> str:
        url = str(self.sqs.create_queue(QueueName=f"b-{uuid.uuid4().hex[:10]}")["QueueUrl"])
        codec = SQSCodec()
        for start in range(0, count, 10):
            entries = [
                {"Id": str(i), **codec.encode(Event(type="bench.done", source="/b", data=i))}
                for i in range(start, min(count, start + 10))
            ]
            self.sqs.send_message_batch(QueueUrl=url, Entries=entries)
        return url

    def close(self) -> None:
        self.sqs.close()
        self.process.terminate()
        self.process.wait(10)


def _plain(moto: Moto, *, attributes: bool) -> Callable[[str], int]:
    extra = (
        {"MessageSystemAttributeNames": ["All"], "MessageAttributeNames": ["All"]}
        if attributes
        else {}
    )

    def drain(url: str) -> int:
        got = 0
        while True:
            answer = moto.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, **extra)
            messages = answer.get("Messages", [])
            if not messages:
                return got
            got += len(messages)
            moto.sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )

    return drain


def _sync_consumer(moto: Moto, *, concurrency: int, pause: float) -> Callable[[str], int]:
    def drain(url: str) -> int:
        # A long-lived consumer reuses its client, as the plain loop does.
        consumer = midil_sync.SQSConsumer(
            url, client=moto.sqs, concurrency=concurrency, wait_time_seconds=0
        )

        @consumer.on("**")
        def handle(event: Event) -> None:
            if pause:
                time.sleep(pause)

        return consumer.run_until_empty().deleted

    return drain


CLIENTS: list[midil_async.SQSConsumer] = []


def _async_consumer(
    moto: Moto, runner: asyncio.Runner, *, concurrency: int, pause: float
) -> Callable[[str], int]:
    # One loop for every round, so the client (one per loop) is made once.
    client = midil_async.SQSConsumer("http://unused/1/q", endpoint_url=moto.endpoint_url)
    CLIENTS.append(client)

    def drain(url: str) -> int:
        consumer = midil_async.SQSConsumer(
            url, client=client._client, concurrency=concurrency, wait_time_seconds=0
        )

        @consumer.on("**")
        async def handle(event: Event) -> None:
            if pause:
                await asyncio.sleep(pause)

        async def main() -> int:
            return (await consumer.run_until_empty()).deleted

        return runner.run(main())

    return drain


def _best(moto: Moto, contenders: list[Callable[[str], int]], count: int = N) -> list[float]:
    """Best seconds per message of each contender, rounds alternating, fresh queues."""
    best = [float("inf")] * len(contenders)
    for _ in range(ROUNDS):
        for index, drain in enumerate(contenders):
            url = moto.queue(count)
            started = time.perf_counter()
            handled = drain(url)
            took = time.perf_counter() - started
            assert handled == count, (handled, count)
            moto.sqs.delete_queue(QueueUrl=url)
            best[index] = min(best[index], took / count)
    return best


def main() -> None:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    logging.getLogger("midil").setLevel(logging.ERROR)
    moto = Moto()
    runner = asyncio.Runner()
    try:
        plain, floor, ours_sync, ours_async = _best(
            moto,
            [
                _plain(moto, attributes=False),
                _plain(moto, attributes=True),
                _sync_consumer(moto, concurrency=10, pause=0),
                _async_consumer(moto, runner, concurrency=10, pause=0),
            ],
        )
        print_figures(
            f"sqs consumer (a): {N} messages, no-op handler, seconds per message "
            "(ratio = ours / anchor; throughput = 1 / ratio)",
            [
                Figure(
                    "sync SQSConsumer",
                    ours_sync,
                    "plain boto3 receive+delete loop",
                    plain,
                    "throughput >= 0.9x",
                    unit="ms",
                ),
                Figure(
                    "async SQSConsumer",
                    ours_async,
                    "plain boto3 receive+delete loop",
                    plain,
                    "throughput >= 0.9x",
                    unit="ms",
                ),
                Figure(
                    "floor: plain loop asking for all attributes",
                    floor,
                    "plain boto3 receive+delete loop",
                    plain,
                    unit="ms",
                ),
                Figure(
                    "sync SQSConsumer",
                    ours_sync,
                    "floor (all attributes)",
                    floor,
                    "throughput >= 0.9x",
                    unit="ms",
                ),
            ],
        )
        # The ceiling of the speed-up, measured in the same rounds: the same consumer with a no-op
        # handler at concurrency 10 is moto's own pace, and concurrency cannot beat it.
        one, ten, pace = _best(
            moto,
            [
                _sync_consumer(moto, concurrency=1, pause=0.02),
                _sync_consumer(moto, concurrency=10, pause=0.02),
                _sync_consumer(moto, concurrency=10, pause=0),
            ],
            count=100,
        )
        one_a, ten_a, pace_a = _best(
            moto,
            [
                _async_consumer(moto, runner, concurrency=1, pause=0.02),
                _async_consumer(moto, runner, concurrency=10, pause=0.02),
                _async_consumer(moto, runner, concurrency=10, pause=0),
            ],
            count=100,
        )
        ceiling = one / max(pace, 0.002)
        ceiling_a = one_a / max(pace_a, 0.002)
        print_figures(
            "sqs consumer (b): 100 messages, handler sleeping 20 ms, seconds per message "
            f"(moto's own pace, a no-op handler at concurrency 10, caps the speed-up at "
            f"x{ceiling:.2f} sync, x{ceiling_a:.2f} async)",
            [
                Figure(
                    "sync, concurrency 10",
                    ten,
                    "sync, concurrency 1",
                    one,
                    "throughput >= 4x",
                    unit="ms",
                ),
                Figure(
                    "async, concurrency 10",
                    ten_a,
                    "async, concurrency 1",
                    one_a,
                    "throughput >= 4x",
                    unit="ms",
                ),
            ],
        )
    finally:
        for holder in CLIENTS:
            runner.run(holder.aclose())
        runner.close()
        moto.close()


if __name__ == "__main__":
    main()
