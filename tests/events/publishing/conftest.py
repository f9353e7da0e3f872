"""Fixtures for the publishers, the scheduler and the Lambda batch handler: both shells driven by
one test body (``shell``), fresh moto queues, and a scripted stand-in on loopback speaking the
JSON protocol of SQS and EventBridge for what moto cannot do (entry failures, throttling)."""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

import midil_async
import midil_sync
from midil_common.events import EntryRetryPolicy
from midil_common.testing.aws import MotoServer

REGION = "us-east-1"
FAST_RETRY = EntryRetryPolicy(max_attempts=3, backoff_initial=0.0, jitter=False)


class Shell:
    """One shell's classes; ``run`` turns either shell's call into its result (the async shell's
    calls run on one ``asyncio.Runner``, as an application's loop)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.mod: Any = midil_sync if name == "sync" else midil_async
        self.runner = asyncio.Runner() if name == "async" else None
        self._made: list[Any] = []

    def __repr__(self) -> str:
        return self.name

    @property
    def is_async(self) -> bool:
        return self.runner is not None

    def run(self, value: Any) -> Any:
        if inspect.isawaitable(value):
            assert self.runner is not None
            return self.runner.run(_awaited(value))
        return value

    def make(self, name: str, *args: Any, **kwargs: Any) -> Any:
        obj = getattr(self.mod, name)(*args, **kwargs)
        self._made.append(obj)
        return obj

    def handler(self, fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """``fn`` as the shell's native router handler (a coroutine function in the async one)."""
        if not self.is_async:
            return fn

        async def native(event: Any) -> Any:
            return fn(event)

        return native

    def close(self) -> None:
        for obj in reversed(self._made):
            closer = getattr(obj, "aclose", None) or getattr(obj, "close", None)
            if closer is not None:
                self.run(closer())
        if self.runner is not None:
            self.runner.close()


async def _awaited(value: Any) -> Any:
    return await value


@pytest.fixture(params=["sync", "async"])
def shell(request: pytest.FixtureRequest) -> Iterator[Shell]:
    driver = Shell(str(request.param))
    yield driver
    driver.close()


# ------------------------------------------------------------------------------------ moto


@pytest.fixture(scope="module")
def aws(moto_server: MotoServer) -> MotoServer:
    return moto_server


@pytest.fixture(scope="module")
def sqs(aws: MotoServer) -> Any:
    """A plain boto3 SQS client of moto (to create queues and read them back)."""
    return boto3.client("sqs", **aws.client_kwargs(REGION))


def new_queue(sqs: Any, *, fifo: bool = False, **attributes: str) -> str:
    """A fresh queue (small and empty: moto slows with queue depth)."""
    name = f"q-{uuid.uuid4().hex[:12]}" + (".fifo" if fifo else "")
    if fifo:
        attributes.setdefault("FifoQueue", "true")
    return str(sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])


def drain(sqs: Any, queue_url: str, count: int, *, rounds: int = 20) -> list[dict[str, Any]]:
    """Receive (and delete) ``count`` messages with every attribute."""
    got: list[dict[str, Any]] = []
    for _ in range(rounds):
        if len(got) >= count:
            break
        answer = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1 if got or rounds else 0,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        )
        messages = answer.get("Messages", [])
        got.extend(messages)
        if messages:
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )
    return got


# ----------------------------------------------------------------------------- stand-in

Reply = tuple[int, dict[str, Any]]
Script = Callable[[dict[str, Any]], Reply]


class StandIn:
    """SQS and EventBridge on 127.0.0.1, as far as the publishers use them: the JSON protocol
    (``X-Amz-Target: AmazonSQS.<Operation>`` with ``application/x-amz-json-1.0``,
    ``AWSEvents.<Operation>`` with ``application/x-amz-json-1.1``), errors as 400
    ``{"__type": ..., "message": ...}``. Every request is recorded; ``script[operation]`` is a list
    of replies (callables of the request body) used one per call, the last one repeated; without
    a script every entry succeeds."""

    def __init__(self) -> None:
        self.script: dict[str, list[Script]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.counts: Counter[str] = Counter()
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                target = self.headers.get("X-Amz-Target", "")
                service, _, operation = target.partition(".")
                status, doc = stand_in.answer(operation, body)
                data = json.dumps(doc).encode()
                self.send_response(status)
                kind = "1.0" if service == "AmazonSQS" else "1.1"
                self.send_header("Content-Type", f"application/x-amz-json-{kind}")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.endpoint_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def answer(self, operation: str, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.counts[operation] += 1
            self.calls.append((operation, body))
            replies = self.script.get(operation)
            reply = None
            if replies:
                reply = replies.pop(0) if len(replies) > 1 else replies[0]
        if reply is not None:
            return reply(body)
        return self.default(operation, body)

    def entries(self, operation: str) -> list[list[dict[str, Any]]]:
        """The entries of every call of ``operation``, in order."""
        with self._lock:
            return [body["Entries"] for op, body in self.calls if op == operation]

    @staticmethod
    def default(operation: str, body: dict[str, Any]) -> Reply:
        if operation == "SendMessageBatch":
            return 200, sqs_reply(body)
        if operation == "PutEvents":
            return 200, events_reply(body)
        if operation == "GetQueueAttributes":
            return 200, {"Attributes": {"MaximumMessageSize": "262144"}}
        return 400, {"__type": "InvalidAction", "message": f"not scripted: {operation}"}

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def sqs_reply(
    body: dict[str, Any], failures: dict[int, tuple[str, bool]] | None = None
) -> dict[str, Any]:
    """A ``SendMessageBatch`` answer: entries at the positions of ``failures`` fail with
    ``(code, sender_fault)``, the others succeed."""
    failures = failures or {}
    ok, failed = [], []
    for index, entry in enumerate(body["Entries"]):
        if index in failures:
            code, sender = failures[index]
            failed.append(
                {"Id": entry["Id"], "Code": code, "SenderFault": sender, "Message": "scripted"}
            )
        else:
            ok.append(
                {"Id": entry["Id"], "MessageId": uuid.uuid4().hex, "MD5OfMessageBody": "0" * 32}
            )
    return {"Successful": ok, "Failed": failed}


def events_reply(body: dict[str, Any], failures: dict[int, str] | None = None) -> dict[str, Any]:
    """A ``PutEvents`` answer: entries at the positions of ``failures`` fail with that code."""
    failures = failures or {}
    entries: list[dict[str, Any]] = []
    for index, _ in enumerate(body["Entries"]):
        if index in failures:
            entries.append({"ErrorCode": failures[index], "ErrorMessage": "scripted"})
        else:
            entries.append({"EventId": uuid.uuid4().hex})
    return {"FailedEntryCount": len(failures), "Entries": entries}


def error(code: str, status: int = 400) -> Script:
    return lambda body: (status, {"__type": code, "message": "scripted failure"})


@pytest.fixture
def standin() -> Iterator[StandIn]:
    server = StandIn()
    yield server
    server.stop()
