"""Both shells' ``SQSConsumer`` behind one driver (the ``shell`` fixture), queues on moto's server,
and a scripted SQS stand-in on loopback for the failures moto cannot produce.

Tests are plain functions: the sync consumer runs in the test's thread (or a background thread),
the async one in ``asyncio.run`` (or a background thread running its own loop), so one test body
serves both shells.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

import midil_async
import midil_sync
from midil_common.events import Event, SQSCodec
from midil_common.testing.aws import DUMMY_CREDENTIALS, MotoServer

REGION = "us-east-1"


@pytest.fixture(scope="session", autouse=True)
def _aws_environment() -> Iterator[None]:
    """Dummy credentials and a region for the consumers' own clients (moto checks none)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", DUMMY_CREDENTIALS["aws_access_key_id"])
        patch.setenv("AWS_SECRET_ACCESS_KEY", DUMMY_CREDENTIALS["aws_secret_access_key"])
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        patch.delenv("AWS_PROFILE", raising=False)
        yield


class Background:
    """A consumer's ``run()`` in a thread of its own (the async one in its own loop there)."""

    def __init__(self, shell: Shell, consumer: Any, **run_kwargs: Any) -> None:
        self.shell = shell
        self.consumer = consumer
        self.result: Future[Any] = Future()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stop_took = 0.0
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._main, args=(run_kwargs,), daemon=True)
        self.thread.start()
        assert self._ready.wait(5)

    def _main(self, run_kwargs: dict[str, Any]) -> None:
        try:
            if self.shell.is_async:

                async def main() -> Any:
                    self.loop = asyncio.get_running_loop()
                    self._ready.set()
                    try:
                        return await self.consumer.run(**run_kwargs)
                    finally:
                        await self.consumer.aclose()

                self.result.set_result(asyncio.run(main()))
            else:
                self._ready.set()
                try:
                    self.result.set_result(self.consumer.run(**run_kwargs))
                finally:
                    self.consumer.close()
        except BaseException as exc:
            self._ready.set()
            self.result.set_exception(exc)

    def stop(self, timeout: float | None = None, wait: float = 30) -> Any:
        """Stop the consumer (from outside its thread) and return what ``run()`` returned;
        ``stop_took`` is how long the consumer's ``stop`` took."""
        started = time.monotonic()
        if self.shell.is_async:
            assert self.loop is not None
            if not self.result.done():
                done = asyncio.run_coroutine_threadsafe(self.consumer.stop(timeout), self.loop)
                done.result(wait)
        else:
            self.consumer.stop(timeout)
        self.stop_took = time.monotonic() - started
        self.thread.join(wait)
        assert not self.thread.is_alive()
        return self.result.result(0)


class Shell:
    """One shell, as the tests see it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.mod: Any = midil_sync if name == "sync" else midil_async
        self.running: list[Background] = []

    def __repr__(self) -> str:
        return self.name

    @property
    def is_async(self) -> bool:
        return self.name == "async"

    def consumer(self, queue_url: str, endpoint_url: str, **kwargs: Any) -> Any:
        kwargs.setdefault("wait_time_seconds", 1)
        kwargs.setdefault("stop_timeout", 5.0)
        return self.mod.SQSConsumer(queue_url, endpoint_url=endpoint_url, **kwargs)

    def handler(self, fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """``fn`` as the shell's native handler (a coroutine function in the async shell; its
        blocking work then runs in a thread, as a plain function's would)."""
        if not self.is_async:
            return fn

        @functools.wraps(fn)
        async def native(event: Any) -> Any:
            return await asyncio.to_thread(fn, event)

        return native

    def call(self, consumer: Any, method: str, *args: Any, **kwargs: Any) -> Any:
        """``consumer.method(...)`` to completion in this thread (a fresh loop for async)."""
        if not self.is_async:
            return getattr(consumer, method)(*args, **kwargs)

        async def main() -> Any:
            try:
                return await getattr(consumer, method)(*args, **kwargs)
            finally:
                await consumer.aclose()

        return asyncio.run(main())

    def run_until_empty(self, consumer: Any) -> Any:
        try:
            return self.call(consumer, "run_until_empty")
        finally:
            if not self.is_async:
                consumer.close()

    def start(self, consumer: Any, **run_kwargs: Any) -> Background:
        background = Background(self, consumer, **run_kwargs)
        self.running.append(background)
        return background


@pytest.fixture(params=["sync", "async"])
def shell(request: pytest.FixtureRequest) -> Iterator[Shell]:
    driver = Shell(str(request.param))
    yield driver
    for background in driver.running:
        if background.thread.is_alive():
            background.stop(0)


# ------------------------------------------------------------------------------------ queues


class Queues:
    """Fresh queues on moto for one test, and plain boto3 calls on them."""

    def __init__(self, server: MotoServer) -> None:
        self.server = server
        self.endpoint_url = server.endpoint_url
        self.sqs = boto3.client("sqs", **server.client_kwargs(REGION))

    def create(
        self,
        *,
        fifo: bool = False,
        visibility: int = 30,
        dlq: str | None = None,
        max_receive: int = 3,
    ) -> str:
        name = f"q-{uuid.uuid4().hex[:12]}" + (".fifo" if fifo else "")
        attributes = {"VisibilityTimeout": str(visibility)}
        if fifo:
            attributes["FifoQueue"] = "true"
        if dlq is not None:
            arn = self.sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])
            attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": arn["Attributes"]["QueueArn"],
                    "maxReceiveCount": str(max_receive),
                }
            )
        return str(self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])

    def send(self, queue_url: str, events: list[Event], **encode: Any) -> None:
        codec = SQSCodec()
        for start in range(0, len(events), 10):
            entries = [
                {"Id": str(i), **codec.encode(event, **encode)}
                for i, event in enumerate(events[start : start + 10])
            ]
            answer = self.sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
            assert not answer.get("Failed")

    def feed(self, queue_url: str, events: list[Event], depth: int = 100) -> Feeder:
        """Send ``events`` from a thread, keeping at most about ``depth`` messages on the queue:
        moto's receive costs grow with the queue's depth, while what the tests check does not."""
        return Feeder(self, queue_url, events, depth)

    def send_raw(self, queue_url: str, body: str, **kwargs: Any) -> None:
        self.sqs.send_message(QueueUrl=queue_url, MessageBody=body, **kwargs)

    def counts(self, queue_url: str) -> tuple[int, int]:
        """(visible, in flight) messages of the queue."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return (
            int(attributes["ApproximateNumberOfMessages"]),
            int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        )

    def drain(self, queue_url: str, wait: int = 0) -> list[dict[str, Any]]:
        """Receive (and delete) what is visible now."""
        got: list[dict[str, Any]] = []
        while True:
            answer = self.sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=wait,
                MessageAttributeNames=["All"],
                MessageSystemAttributeNames=["All"],
            )
            messages = answer.get("Messages", [])
            if not messages:
                return got
            got.extend(messages)
            self.sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )


class Feeder:
    """A thread sending events in batches of ten while the queue holds fewer than ``depth``."""

    def __init__(self, queues: Queues, queue_url: str, events: list[Event], depth: int) -> None:
        self.error: BaseException | None = None
        self._args = (queues, queue_url, events, depth)
        self.thread = threading.Thread(target=self._main, daemon=True)
        self.thread.start()

    def _main(self) -> None:
        queues, queue_url, events, depth = self._args
        try:
            for start in range(0, len(events), 10):
                while sum(queues.counts(queue_url)) >= depth:
                    time.sleep(0.05)
                queues.send(queue_url, events[start : start + 10])
        except BaseException as exc:
            self.error = exc

    @property
    def done(self) -> bool:
        """All sent (raises what stopped the thread, if anything did)."""
        if self.error is not None:
            raise self.error
        return not self.thread.is_alive()


@pytest.fixture
def queues(moto_server: MotoServer) -> Iterator[Queues]:
    made = Queues(moto_server)
    yield made
    made.sqs.close()


class MotoProcess:
    """moto's server in a process of its own: the consumer-process tests put hundreds of messages
    through it, and a server thread inside the test process would share its interpreter (and its
    garbage collector, busy with everything the session made) with the test."""

    def __init__(self) -> None:
        import socket
        import subprocess
        import sys
        import urllib.request

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
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
                assert self.process.poll() is None, "moto's server did not start"
                assert time.monotonic() < deadline, "moto's server did not answer"
                time.sleep(0.1)

    def client_kwargs(self, region: str | None = None) -> dict[str, Any]:
        return {
            "endpoint_url": self.endpoint_url,
            "region_name": region or REGION,
            **DUMMY_CREDENTIALS,
        }

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture(scope="module")
def moto_process() -> Iterator[MotoProcess]:
    server = MotoProcess()
    yield server
    server.stop()


@pytest.fixture
def process_queues(moto_process: MotoProcess) -> Iterator[Queues]:
    made = Queues(moto_process)  # type: ignore[arg-type]
    yield made
    made.sqs.close()


def events(count: int, type_: str = "order.created", **kwargs: Any) -> list[Event]:
    return [Event(type=type_, source="/tests", data={"n": n}, **kwargs) for n in range(count)]


def eventually(condition: Callable[[], bool], within: float = 10.0, every: float = 0.05) -> None:
    stop = time.monotonic() + within
    while not condition():
        assert time.monotonic() < stop, "condition not reached in time"
        time.sleep(every)


# ------------------------------------------------------------------------------- stand-in


class StandIn:
    """An SQS endpoint on loopback speaking the JSON protocol, answering from a script.

    ``script[operation]`` is a list of answers used in turn (the last one repeats): a dict is a
    200 answer, ``(status, type, message)`` an error. Every request is recorded in ``calls``.
    """

    def __init__(self) -> None:
        self.script: dict[str, list[Any]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                operation = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
                status, payload = stand_in.answer(operation, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.endpoint_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.queue_url = f"{self.endpoint_url}/123456789012/stand-in"

    def answer(self, operation: str, body: dict[str, Any]) -> tuple[int, Any]:
        with self.lock:
            self.calls.append((operation, body))
            answers = self.script.get(operation)
            if not answers:
                if operation == "GetQueueAttributes":
                    return 200, {"Attributes": {"VisibilityTimeout": "30"}}
                if operation == "ReceiveMessage":
                    return 200, {}
                if operation.endswith("Batch"):
                    return 200, {
                        "Successful": [{"Id": e["Id"]} for e in body.get("Entries", [])],
                        "Failed": [],
                    }
                return 200, {}
            answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if callable(answer):
            answer = answer(body)
        if isinstance(answer, tuple):
            status, kind, message = answer
            return status, {"__type": kind, "message": message}
        return 200, answer

    def calls_of(self, operation: str) -> list[dict[str, Any]]:
        with self.lock:
            return [body for name, body in self.calls if name == operation]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    made = StandIn()
    yield made
    made.close()


def message(n: int, event: Event | None = None, *, receive_count: int = 1) -> dict[str, Any]:
    """A ``ReceiveMessage`` message as SQS sends it, carrying ``event``."""
    encoded = SQSCodec().encode(event or Event(type="order.created", source="/t", data={"n": n}))
    return {
        "MessageId": f"m-{n}",
        "ReceiptHandle": f"handle-{n}-{uuid.uuid4().hex}",
        "Body": encoded["MessageBody"],
        "MessageAttributes": encoded["MessageAttributes"],
        "Attributes": {"ApproximateReceiveCount": str(receive_count)},
    }


def environment(endpoint_url: str) -> dict[str, str]:
    """The environment of a consumer subprocess."""
    env = dict(os.environ)
    env.update(
        {
            "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIALS["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": REGION,
            "SQS_ENDPOINT_URL": endpoint_url,
        }
    )
    return env
