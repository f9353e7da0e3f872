"""SQS and EventBridge publishers against a plain SDK loop, on one moto server.

moto runs as a separate process (``python -m moto.server`` on 127.0.0.1), never a thread of this
interpreter, so the server's work does not share our GIL. moto's SQS slows down as a queue grows:
every round publishes ``N`` events to a fresh, empty queue, ours and the anchor alternating.

(a) sync: ``SQSPublisher.publish_batch(events)`` vs a plain boto3 loop of ``send_message_batch``
    over chunks of 10 messages whose bodies are ``event.to_json()`` (goal: throughput at least 0.9
    of the loop's, i.e. time ratio at most 1.11). The async shell's publisher against an
    aiobotocore loop follows (it sends a standard queue's batches concurrently).
(b) ``EventBridgePublisher.publish_batch(events)`` vs a plain ``put_events`` loop over chunks of 10
    entries (``Source``, ``DetailType``, ``Detail`` the event's JSON), same goal, both shells.

The floor: what the publisher does that the loop does not (stamping with the context, the message
attributes, counting sizes, reading each entry's result) is measured alone, per event, and printed
as a fraction of the anchor's time; a ratio within that fraction of the goal is at the floor.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

import boto3
from aiobotocore.session import get_session
from harness import Figure, print_figures

import midil_async
import midil_sync
from midil_common.events import Event, stamp
from midil_common.events.batching import eventbridge_batches, sqs_batches
from midil_common.events.publishing import with_trace_headers

N = 200
ROUNDS = 7
REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "/moto-api/", timeout=1) as answer:
                answer.read()
            return process, url
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.1)


def _events() -> list[Event]:
    return [
        Event(source="/bench", type="order.created", data={"n": i, "sku": "A-1", "qty": 2})
        for i in range(N)
    ]


def _chunks(items: list[Any], size: int = 10) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _best(pairs: list[tuple[Callable[[], float], Callable[[], float]]]) -> tuple[float, float]:
    """Alternate ours and the anchor; best seconds per event of each."""
    ours = anchor = float("inf")
    for _ in range(ROUNDS):
        for run_ours, run_anchor in pairs:
            ours = min(ours, run_ours() / N)
            anchor = min(anchor, run_anchor() / N)
    return ours, anchor


def _floor(fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        fn()
        best = min(best, (time.perf_counter() - start) / N)
    return best


def bench_sqs(url: str) -> list[Figure]:
    sqs = boto3.client("sqs", endpoint_url=url, region_name=REGION, **CREDENTIALS)
    owner = midil_sync.SQSPublisher(
        "placeholder", endpoint_url=url, region=REGION, credentials=CREDENTIALS
    )
    events = _events()

    def queue() -> str:
        return str(sqs.create_queue(QueueName=f"b-{uuid.uuid4().hex[:10]}")["QueueUrl"])

    def ours() -> float:
        target = queue()
        publisher = midil_sync.SQSPublisher(
            target,
            client=owner._aws,  # one client for every round, as in an application
            max_message_size=262_144,
        )
        start = time.perf_counter()
        result = publisher.publish_batch(events)
        took = time.perf_counter() - start
        assert result.ok
        return took

    def anchor() -> float:
        target = queue()
        start = time.perf_counter()
        for chunk in _chunks(events):
            entries = [{"Id": str(i), "MessageBody": e.to_json()} for i, e in enumerate(chunk)]
            answer = sqs.send_message_batch(QueueUrl=target, Entries=entries)
            assert not answer.get("Failed")
        return time.perf_counter() - start

    ours_t, anchor_t = _best([(ours, anchor)])
    floor = _floor(lambda: [b.result({}) for b in sqs_batches([stamp(e) for e in events])])

    async def async_pair() -> tuple[float, float]:
        session = get_session()
        async with session.create_client(
            "sqs", endpoint_url=url, region_name=REGION, **CREDENTIALS
        ) as client:
            apub = midil_async.SQSPublisher("placeholder", client=client, max_message_size=262_144)
            best_ours = best_anchor = float("inf")
            for _ in range(ROUNDS):
                target = queue()
                apub.queue_url = target
                start = time.perf_counter()
                assert (await apub.publish_batch(events)).ok
                best_ours = min(best_ours, (time.perf_counter() - start) / N)
                target = queue()
                start = time.perf_counter()
                for chunk in _chunks(events):
                    entries = [
                        {"Id": str(i), "MessageBody": e.to_json()} for i, e in enumerate(chunk)
                    ]
                    await client.send_message_batch(QueueUrl=target, Entries=entries)
                best_anchor = min(best_anchor, (time.perf_counter() - start) / N)
            return best_ours, best_anchor

    a_ours, a_anchor = asyncio.run(async_pair())
    owner.close()
    sqs.close()
    goal = "<= 1.11 (throughput >= 0.9)"
    return [
        Figure("SQS sync publish_batch, per event", ours_t, "boto3 send_message_batch loop", anchor_t, goal),
        Figure("  floor: core work alone (stamp, encode, size, read)", floor, "same loop", anchor_t),
        Figure("SQS async publish_batch, per event", a_ours, "aiobotocore send_message_batch loop", a_anchor, goal),
    ]  # fmt: skip


def bench_eventbridge(url: str) -> list[Figure]:
    events_client = boto3.client("events", endpoint_url=url, region_name=REGION, **CREDENTIALS)
    publisher = midil_sync.EventBridgePublisher(
        endpoint_url=url, region=REGION, credentials=CREDENTIALS
    )
    events = _events()

    def ours() -> float:
        start = time.perf_counter()
        result = publisher.publish_batch(events)
        took = time.perf_counter() - start
        assert result.ok
        return took

    def anchor() -> float:
        start = time.perf_counter()
        for chunk in _chunks(events):
            entries = [
                {
                    "Source": e.source,
                    "DetailType": e.type,
                    "Detail": e.to_json(),
                    "EventBusName": "default",
                }
                for e in chunk
            ]
            answer = events_client.put_events(Entries=entries)
            assert not answer.get("FailedEntryCount")
        return time.perf_counter() - start

    ours_t, anchor_t = _best([(ours, anchor)])
    floor = _floor(
        lambda: [
            b.result({})
            for b in with_trace_headers(eventbridge_batches([stamp(e) for e in events]))
        ]
    )

    async def async_pair() -> tuple[float, float]:
        session = get_session()
        async with session.create_client(
            "events", endpoint_url=url, region_name=REGION, **CREDENTIALS
        ) as client:
            apub = midil_async.EventBridgePublisher(client=client)
            best_ours = best_anchor = float("inf")
            for _ in range(ROUNDS):
                start = time.perf_counter()
                assert (await apub.publish_batch(events)).ok
                best_ours = min(best_ours, (time.perf_counter() - start) / N)
                start = time.perf_counter()
                for chunk in _chunks(events):
                    entries = [
                        {"Source": e.source, "DetailType": e.type, "Detail": e.to_json()}
                        for e in chunk
                    ]
                    await client.put_events(Entries=entries)
                best_anchor = min(best_anchor, (time.perf_counter() - start) / N)
            return best_ours, best_anchor

    a_ours, a_anchor = asyncio.run(async_pair())
    publisher.close()
    events_client.close()
    goal = "<= 1.11 (throughput >= 0.9)"
    return [
        Figure("EventBridge sync publish_batch, per event", ours_t, "boto3 put_events loop", anchor_t, goal),
        Figure("  floor: core work alone (stamp, entries, size, read)", floor, "same loop", anchor_t),
        Figure("EventBridge async publish_batch, per event", a_ours, "aiobotocore put_events loop", a_anchor, goal),
    ]  # fmt: skip


def main() -> None:
    process, url = start_moto()
    try:
        print_figures(f"SQS publisher, {N} events per round, moto server process", bench_sqs(url))
        print_figures(
            f"EventBridge publisher, {N} events per round, moto server process",
            bench_eventbridge(url),
        )
    finally:
        process.terminate()
        process.wait(10)


if __name__ == "__main__":
    main()
