"""An AWS ``endpoint_url`` holding a secret, on both shells and the CLI: botocore refuses some
URLs (a host with ``_``, as docker-compose names services) with ``ValueError("Invalid endpoint:
<url>")``, which quotes the URL's user info (a password) or path in full. The kit refuses user info
itself when the client is configured, and turns a client botocore will not build into a
``ConfigError`` of its own words, so the URL reaches no message, exception chain or log line."""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import shutil
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import midil_async
import midil_sync
from midil_common.errors import ConfigError, ConsumerError, InvalidURLError
from midil_common.events import Event
from midil_common.testing.aws import DUMMY_CREDENTIALS

PASSWORD = "Endpoint-Secret-pw-42"
REGION = "us-east-1"
SHELLS = {"sync": midil_sync, "async": midil_async}


class CountingServer:
    """Counts the requests reaching 127.0.0.1 (an endpoint refused up front must see none)."""

    def __init__(self) -> None:
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                server.requests += 1
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@pytest.fixture
def loopback() -> Iterator[CountingServer]:
    server = CountingServer()
    yield server
    server.stop()


def _run(call: Callable[[], Any]) -> Any:
    """``call()`` (awaited for the async shell) in a thread of its own, failing the test after 20 s:
    an endpoint that is not refused leaves a consumer retrying forever."""
    outcome: list[Any] = []

    def main() -> None:
        try:
            value = call()
            if inspect.isawaitable(value):

                async def wait() -> Any:
                    return await value

                value = asyncio.run(wait())
            outcome.append((True, value))
        except BaseException as exc:
            outcome.append((False, exc))

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    thread.join(20)
    assert outcome, "the call neither failed nor returned within 20 s"
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or any(item is s for s in seen):
            continue
        seen.append(item)
        todo += [item.__cause__, item.__context__]
    return seen


def _assert_hidden(exc: BaseException, secret: str, logs: str) -> None:
    formatted = "".join(traceback.format_exception(exc))
    shown = " ".join(f"{e} {e!r} {e.args}" for e in _chain(exc))
    assert secret not in formatted and secret not in shown and secret not in logs


# What each client does first with its endpoint: construct it and make one call.
def _sqs_publisher(mod: Any, endpoint_url: str) -> Any:
    url = f"http://127.0.0.1:1/000000000000/q-{mod.__name__}"
    publisher = mod.SQSPublisher(
        url, region=REGION, endpoint_url=endpoint_url, credentials=DUMMY_CREDENTIALS
    )
    return publisher.publish(Event(type="order.created", source="tests"))


def _eventbridge_publisher(mod: Any, endpoint_url: str) -> Any:
    publisher = mod.EventBridgePublisher(
        region=REGION, endpoint_url=endpoint_url, credentials=DUMMY_CREDENTIALS
    )
    return publisher.publish(Event(type="order.created", source="tests"))


def _sqs_consumer(mod: Any, endpoint_url: str) -> Any:
    url = f"http://127.0.0.1:1/000000000000/q-{mod.__name__}"
    consumer = mod.SQSConsumer(
        url,
        region=REGION,
        endpoint_url=endpoint_url,
        credentials=DUMMY_CREDENTIALS,
        wait_time_seconds=1,
    )
    return consumer.run()


CLIENTS: dict[str, Callable[[Any, str], Any]] = {
    "sqs-publisher": _sqs_publisher,
    "eventbridge-publisher": _eventbridge_publisher,
    "sqs-consumer": _sqs_consumer,
}


@pytest.mark.parametrize("host", ["loopback", "localstack_main:4566"])
@pytest.mark.parametrize("client", sorted(CLIENTS))
@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_endpoint_user_info_is_refused_unechoed(
    loopback: CountingServer,
    caplog: pytest.LogCaptureFixture,
    shell: str,
    client: str,
    host: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    where = f"127.0.0.1:{loopback.port}" if host == "loopback" else host
    endpoint_url = f"http://admin:{PASSWORD}@{where}"
    with pytest.raises(InvalidURLError) as info:
        _run(lambda: CLIENTS[client](SHELLS[shell], endpoint_url))
    assert info.value.variable == "endpoint_url" and "user info" in str(info.value)
    _assert_hidden(info.value, PASSWORD, caplog.text)
    assert loopback.requests == 0


@pytest.mark.parametrize("client", sorted(CLIENTS))
@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_endpoint_botocore_refuses_is_a_config_error(
    caplog: pytest.LogCaptureFixture, shell: str, client: str
) -> None:
    # A URL the kit accepts but botocore refuses to build a client for: its ValueError quotes the
    # URL, here a token in the path (as some gateways take one).
    caplog.set_level(logging.DEBUG)
    endpoint_url = f"http://localstack_main:4566/{PASSWORD}"
    # The consumer stops with a ConsumerError caused by the kit's error.
    expected = ConsumerError if client == "sqs-consumer" else ConfigError
    with pytest.raises(expected) as info:
        _run(lambda: CLIENTS[client](SHELLS[shell], endpoint_url))
    exc = next((e for e in _chain(info.value) if type(e) is ConfigError), info.value)
    assert type(exc) is ConfigError and "endpoint_url" in str(exc)
    assert exc.__cause__ is None and exc.__context__ is None
    _assert_hidden(info.value, PASSWORD, caplog.text)


BIN = Path(sys.executable).parent
MIDIL = shutil.which("midil", path=str(BIN)) or str(BIN / "midil")


@pytest.mark.parametrize(
    "endpoint_url",
    [f"http://admin:{PASSWORD}@localstack_main:4566", f"http://localstack_main:4566/{PASSWORD}"],
    ids=["user-info", "botocore-refuses"],
)
@pytest.mark.parametrize("how", ["env", "option"])
def test_cli_endpoint_url_is_not_echoed(tmp_path: Path, endpoint_url: str, how: str) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith(("MIDIL_", "AWS_", "PYTHON"))
    }
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_EC2_METADATA_DISABLED="true",
        NO_COLOR="1",
    )
    args = [MIDIL, "sqs", "send", "q", "--type", "order.created"]
    if how == "env":
        env["MIDIL_EVENTS__ENDPOINT_URL"] = endpoint_url
    else:
        args += ["--endpoint-url", endpoint_url]
    done = subprocess.run(
        args, capture_output=True, text=True, env=env, cwd=tmp_path, stdin=subprocess.DEVNULL
    )
    assert done.returncode != 0
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("midil: "), done.stderr
    assert "endpoint" in lines[0] and "unexpected" not in lines[0]
    assert PASSWORD not in done.stdout + done.stderr
