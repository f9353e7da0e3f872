"""Every script of ``examples/`` (but the ``make demo`` parts, see ``test_demo.py``) runs as a real
subprocess, configured as a user configures it (``MIDIL_...`` variables, arguments, stdin),
against real local components: the ``LocalIssuer`` and moto's server."""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest

from midil_common.events import Event, SQSCodec
from midil_common.testing import LocalIssuer
from midil_common.testing.aws import MotoServer
from midil_sync import JWTAuthorizer

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
ROLE = "arn:aws:iam::123456789012:role/scheduler"


def env(**extra: str) -> dict[str, str]:
    """A clean environment (none of the developer's MIDIL_/AWS_ variables), fake AWS credentials."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith(("MIDIL_", "AWS_", "PYTHON"))
    }
    clean.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONUNBUFFERED="1",
    )
    clean.update(extra)
    return clean


def run(
    script: str, *args: str, input: str = "", **variables: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        input=input,
        capture_output=True,
        text=True,
        env=env(**variables),
        cwd=ROOT,
        timeout=60,
    )


def config_error(result: subprocess.CompletedProcess[str], variable: str) -> None:
    """Exit status 2 and one clear line on stderr naming ``variable``."""
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("configuration error: ") and variable in result.stderr


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    with LocalIssuer(audience="orders-api") as local:
        local.register_client("billing", "s3cret-Value-42", scopes=["orders:read"])
        yield local


@pytest.fixture
def sqs(moto_server: MotoServer) -> Any:
    return boto3.client("sqs", **moto_server.client_kwargs())


@pytest.fixture
def queue_url(sqs: Any) -> str:
    return str(sqs.create_queue(QueueName=f"ex-{uuid.uuid4().hex[:10]}")["QueueUrl"])


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    """The CloudEvents bodies of every message left on the queue (received and deleted)."""
    bodies: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


# -------------------------------------------------------------------------------------- tokens


def test_verify_token(issuer: LocalIssuer) -> None:
    settings = {"MIDIL_AUTH__ISSUER": issuer.url, "MIDIL_AUTH__AUDIENCE": "orders-api"}
    token = issuer.mint("alice", scope="orders:read")
    ok = run("verify_token.py", "--scope", "orders:read", input=token + "\n", **settings)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines()[:2] == ["valid token", "  subject   alice"]
    assert "  scopes    orders:read" in ok.stdout and token not in ok.stdout

    missing = run("verify_token.py", token, "--scope", "orders:write", **settings)
    assert (missing.returncode, missing.stderr) == (1, "refused: missing scope orders:write\n")
    expired = run("verify_token.py", input=issuer.mint(expires_in=-60), **settings)
    assert expired.returncode == 1 and expired.stderr.startswith("refused: TokenExpiredError")
    config_error(run("verify_token.py", token), "MIDIL_AUTH__ISSUER")


# ---------------------------------------------------------------------------------------- http


@pytest.fixture
def service(issuer: LocalIssuer) -> Iterator[tuple[str, list[str]]]:
    """An API on loopback that takes the issuer's tokens: ``(base_url, paths served)``; its first
    answer is a 503, so the callers must retry."""
    authorizer = JWTAuthorizer(issuer.url, audience="orders-api")
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            seen.append(self.path)
            if len(seen) == 1:
                self.send_response(503)
                self.send_header("Retry-After", "0")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            claims = authorizer.verify(self.headers["Authorization"].removeprefix("Bearer "))
            body = json.dumps({"path": self.path, "caller": claims.sub}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/api", seen
    server.shutdown()
    server.server_close()
    authorizer.close()


def service_auth(issuer: LocalIssuer) -> dict[str, str]:
    return {
        "MIDIL_SERVICE_AUTH__TOKEN_URL": issuer.token_url,
        "MIDIL_SERVICE_AUTH__CLIENT_ID": "billing",
        "MIDIL_SERVICE_AUTH__CLIENT_SECRET": "s3cret-Value-42",
        "MIDIL_SERVICE_AUTH__SCOPE": "orders:read",
    }


def test_call_a_service(issuer: LocalIssuer, service: tuple[str, list[str]]) -> None:
    base_url, seen = service
    issuer.reset_counts()
    result = run("call_a_service.py", base_url, "orders", **service_auth(issuer))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        "service token for billing: scope=orders:read",
        f"GET {base_url}/orders -> 200",
    ]
    assert json.loads("\n".join(lines[2:])) == {"path": "/api/orders", "caller": "billing"}
    assert "INFO midil.http: retrying GET 127.0.0.1:" in result.stderr  # after the 503
    assert seen == ["/api/orders", "/api/orders"] and issuer.request_count("token") == 1
    assert "s3cret" not in result.stdout + result.stderr

    no_client = {**service_auth(issuer), "MIDIL_SERVICE_AUTH__CLIENT_ID": ""}
    config_error(run("call_a_service.py", base_url, **no_client), "MIDIL_SERVICE_AUTH__CLIENT_ID")


def test_call_a_service_async(issuer: LocalIssuer, service: tuple[str, list[str]]) -> None:
    base_url, seen = service
    issuer.reset_counts()
    paths = ["orders", "orders/1", "orders/2"]
    result = run("call_a_service_async.py", base_url, *paths, **service_auth(issuer))
    assert result.returncode == 0, result.stderr
    for path in paths:
        assert f"GET {path}: {{'path': '/api/{path}', 'caller': 'billing'}}" in result.stdout
    assert len(seen) == 4 and "retrying GET" in result.stderr  # one of them met the 503
    assert issuer.request_count("token") == 1  # three concurrent requests, one token request


# ------------------------------------------------------------------------------------- jsonapi


def test_jsonapi_document_build_and_check(tmp_path: Path) -> None:
    built = run("jsonapi_document.py", "build", "include=author&sort=-published&page[size]=1")
    assert built.returncode == 0, built.stderr
    document = json.loads(built.stdout)
    assert [r["id"] for r in document["data"]] == ["2"]  # the newest article first
    assert document["included"] == [{"type": "people", "id": "9", "attributes": {"name": "Dan"}}]
    assert document["links"]["next"].endswith("page[number]=2&page[size]=1")

    refused = run("jsonapi_document.py", "build", "sort=secret&page[size]=500")
    assert refused.returncode == 1 and refused.stderr == "refused (HTTP 400):\n"
    parameters = [e["source"]["parameter"] for e in json.loads(refused.stdout)["errors"]]
    assert parameters == ["sort", "page[size]"]

    (tmp_path / "ok.json").write_text(built.stdout)
    checked = run("jsonapi_document.py", "check", str(tmp_path / "ok.json"))
    assert (checked.returncode, checked.stdout) == (
        0,
        "valid JSON:API document: data, included, links\n",
    )
    broken = {"data": {"type": "articles", "id": "1", "attributes": {"id": "x"}}}
    bad = run("jsonapi_document.py", "check", input=json.dumps(broken))
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["errors"][0]["source"] == {"pointer": "/data/attributes/id"}


# -------------------------------------------------------------------------------------- events


def test_events_in_process() -> None:
    result = run("events_in_process.py", "req-1", "req-2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for order, request in ((41, "req-1"), (42, "req-2")):
        # Every line about an order carries the correlation id of the request that placed it.
        mine = [line for line in lines if f" {order}" in line]
        assert len(mine) == 3 and all(line.startswith(f"[{request}] orders: ") for line in mine)
        assert (
            f"[{request}] orders: audit order.placed {order} (event correlation id {request})"
            in lines
        )
        assert f"[{request}] orders: award_points failed on order.placed: loyalty service" in (
            result.stdout
        )
    assert lines.count("[req-1] orders: confirmation sent to ada@example.com") == 1
    assert lines[-1] == "done: 2 events handled, nothing pending: True"


# ----------------------------------------------------------------------------------------- aws


def test_sqs_publish(moto_server: MotoServer, sqs: Any, queue_url: str) -> None:
    aws = {"MIDIL_EVENTS__ENDPOINT_URL": moto_server.endpoint_url}
    result = run(
        "sqs_publish.py",
        "order.created",
        '{"id": 42}',
        "--batch",
        "12",
        "--correlation-id",
        "checkout-7",
        MIDIL_EVENTS__QUEUE_URL=queue_url,
        **aws,
    )
    assert result.returncode == 0, result.stderr
    first, batch = result.stdout.splitlines()
    assert first.startswith("published order.created ") and first.endswith(
        "(correlation id checkout-7)"
    )
    assert batch == "batch: 12 published, 0 failed"
    bodies = drain(sqs, queue_url)
    assert len(bodies) == 13 and {b["correlationid"] for b in bodies} == {"checkout-7"}
    assert sorted(b["data"].get("n", -1) for b in bodies) == list(range(-1, 12))
    assert first.split()[2] in {b["id"] for b in bodies}
    config_error(run("sqs_publish.py", "order.created", **aws), "MIDIL_EVENTS__QUEUE_URL")


def _lines(stream: Any) -> queue.Queue[str]:
    """The lines of ``stream``, read by a thread as they come."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in stream:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    return lines


@pytest.mark.parametrize("script", ["sqs_consume.py", "sqs_consume_async.py"])
def test_sqs_consume_until_ctrl_c(
    script: str, moto_server: MotoServer, sqs: Any, queue_url: str, tmp_path: Path
) -> None:
    events = [Event(type="order.created", source="shop", data={"id": n}) for n in range(6)]
    codec = SQSCodec()
    for event in [*events, events[0]]:  # the first one twice: SQS may deliver it twice too
        sqs.send_message(QueueUrl=queue_url, **codec.encode(event))
    database = tmp_path / "orders.sqlite3"
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLES / script), str(database)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env(
            MIDIL_EVENTS__QUEUE_URL=queue_url,
            MIDIL_EVENTS__ENDPOINT_URL=moto_server.endpoint_url,
            MIDIL_EVENTS__WAIT_TIME_SECONDS="1",
            MIDIL_EVENTS__CONCURRENCY="2",
        ),
    )
    try:
        lines = _lines(process.stdout)
        assert lines.get(timeout=30) == f"consuming {queue_url} (Ctrl-C to stop)"
        handled = [lines.get(timeout=30) for _ in range(7)]
        process.send_signal(signal.SIGINT)  # Ctrl-C
        assert process.wait(timeout=30) == 0
        assert process.stderr is not None
        stderr = process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)
    assert "stop signal received (stopping gracefully)" in stderr
    assert (
        sorted(line.split(":")[0] for line in handled)
        == ["already stored, skipped"] + ["stored"] * 6
    )
    assert lines.get(timeout=5) == "stopped: 7 handled, 0 failed, 0 released"
    # No message lost, none left: every event stored once, the queue empty.
    with sqlite3.connect(database) as db:
        stored = {row[0] for row in db.execute("SELECT event_id FROM orders")}
    db.close()
    assert stored == {event.id for event in events}
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])
    counts = attributes["Attributes"]
    assert counts["ApproximateNumberOfMessages"] == counts["ApproximateNumberOfMessagesNotVisible"]
    assert counts["ApproximateNumberOfMessages"] == "0"


def test_eventbridge_and_schedule(moto_server: MotoServer, sqs: Any, queue_url: str) -> None:
    events = boto3.client("events", **moto_server.client_kwargs())
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    target = arn["Attributes"]["QueueArn"]
    rule = f"orders-{uuid.uuid4().hex[:8]}"
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["orders-api"]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": target}])
    aws = {"MIDIL_EVENTS__ENDPOINT_URL": moto_server.endpoint_url}
    cart = f"cart-{uuid.uuid4().hex[:6]}"
    try:
        config_error(run("eventbridge_and_schedule.py", cart, **aws), "SCHEDULER_ROLE_ARN")
        result = run(
            "eventbridge_and_schedule.py",
            cart,
            MIDIL_EVENTS__SCHEDULER_ROLE_ARN=ROLE,
            MIDIL_EVENTS__SCHEDULER_TARGET_ARN=target,
            **aws,
        )
    finally:
        events.remove_targets(Rule=rule, Ids=["q"])
        events.delete_rule(Name=rule)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("put order.created ") and lines[0].endswith(" on bus default")
    assert sorted(lines[1:3]) == [
        f"schedule {cart}-reminder: ENABLED -> {target}",
        f"schedule {cart}-sweep: ENABLED -> {target}",
    ]
    assert lines[3:] == [f"deleted {cart}-reminder: True", f"deleted {cart}-sweep: True"]
    # The bus delivered the event (CloudEvents JSON in the detail) to the rule's queue.
    [delivered] = drain(sqs, queue_url)
    assert delivered["detail-type"] == "order.created"
    assert delivered["detail"]["id"] == lines[0].split()[2]
    assert delivered["detail"]["data"] == {"cart": cart}
    scheduler = boto3.client("scheduler", **moto_server.client_kwargs())
    assert not scheduler.list_schedules(NamePrefix=cart)["Schedules"]


def _record(message_id: str, body: str, attributes: dict[str, Any]) -> dict[str, Any]:
    """An SQS record as Lambda delivers it."""
    return {
        "messageId": message_id,
        "receiptHandle": f"AQEB-{message_id}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1767225600000"},
        "messageAttributes": {
            name: {"stringValue": value["StringValue"], "dataType": "String"}
            for name, value in attributes.items()
        },
        "md5OfBody": "0" * 32,
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:orders",
        "awsRegion": "us-east-1",
    }


def test_lambda_sqs_handler(tmp_path: Path) -> None:
    codec = SQSCodec()
    records = []
    for message_id, amount in (("m1", 30), ("m2", 0), ("m3", 12)):
        event = Event(
            type="order.created", source="shop", data={"id": message_id, "amount": amount}
        )
        message = codec.encode(event)
        records.append(_record(message_id, message["MessageBody"], message["MessageAttributes"]))
    records.append(_record("m4", "not an event", {}))
    (tmp_path / "event.json").write_text(json.dumps({"Records": records}))
    result = run("lambda_sqs_handler.py", str(tmp_path / "event.json"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "batchItemFailures": [{"itemIdentifier": "m2"}, {"itemIdentifier": "m4"}]
    }
    assert "INFO orders: charged order m1: 30" in result.stderr
    assert "INFO orders: charged order m3: 12" in result.stderr
    assert "the amount must be positive" in result.stderr


def test_user_sessions(moto_server: MotoServer) -> None:
    admin = boto3.client("cognito-idp", **moto_server.client_kwargs())
    pool = admin.create_user_pool(PoolName="examples")["UserPool"]["Id"]
    client_id = admin.create_user_pool_client(
        UserPoolId=pool,
        ClientName="web",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    cognito = {
        "MIDIL_AUTH__COGNITO_USER_POOL_ID": pool,
        "MIDIL_AUTH__CLIENT_IDS": client_id,
        "MIDIL_AUTH__REGION": "us-east-1",
        "AWS_ENDPOINT_URL": moto_server.endpoint_url,
    }
    email, password = f"ada-{uuid.uuid4().hex[:6]}@example.com", "Str0ng!pass\n"
    registered = run("user_sessions.py", "register", email, input=password, **cognito)
    assert (registered.returncode, registered.stdout) == (
        0,
        f"registered {email}: confirm with the code Cognito sent\n",
    )
    again = run("user_sessions.py", "register", email, input=password, **cognito)
    assert again.returncode == 1 and again.stderr.startswith("refused: UserExistsError")
    confirmed = run("user_sessions.py", "confirm", email, "123456", **cognito)
    assert confirmed.stdout == f"confirmed {email}\n", confirmed.stderr

    login = run("user_sessions.py", "login", email, input=password, **cognito)
    assert login.returncode == 0, login.stderr
    lines = login.stdout.splitlines()
    assert lines[0].startswith(f"logged in as {email} (sub ")
    assert lines[1].startswith("refreshed: the access token is valid for ")
    assert lines[2] == "logged out: authenticated=False"
    wrong = run("user_sessions.py", "login", email, input="wrong\n", **cognito)
    assert wrong.returncode == 1 and wrong.stderr.startswith("refused: InvalidCredentialsError")
    config_error(run("user_sessions.py", "login", email), "MIDIL_AUTH__COGNITO_USER_POOL_ID")
