"""``midil sqs|events|schedule`` against moto's server, through the real console script."""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from midil_common.testing.aws import MotoServer

HANDLERS = """
import os, time

def record(event):
    time.sleep(float(os.environ.get("HANDLER_SLEEP", "0")))
    if (event.data or {}).get("fail"):
        raise RuntimeError("refused")
    with open("handled.txt", "a") as out:
        out.write(event.id + "\\n")
"""

BLOCK_BOTO3 = """
import importlib.abc, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("boto3", "botocore", "aiobotocore"):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked)", name=name)
        return None

sys.meta_path.insert(0, Block())
"""

TARGET = "arn:aws:sqs:us-east-1:123456789012:scheduled"
ROLE = "arn:aws:iam::123456789012:role/scheduler"


@pytest.fixture
def aws_env(moto_server: MotoServer) -> dict[str, str]:
    return {"MIDIL_EVENTS__ENDPOINT_URL": moto_server.endpoint_url}


@pytest.fixture
def sqs(moto_server: MotoServer) -> Any:
    return boto3.client("sqs", **moto_server.client_kwargs())


@pytest.fixture
def queue(sqs: Any) -> tuple[str, str]:
    """``(name, url)`` of a new queue."""
    name = f"cli-{uuid.uuid4().hex[:10]}"
    return name, sqs.create_queue(QueueName=name)["QueueUrl"]


@pytest.fixture
def handlers(tmp_path: Path) -> Path:
    (tmp_path / "handlers.py").write_text(HANDLERS)
    return tmp_path / "handled.txt"


def _visible(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def _drain(sqs: Any, url: str) -> list[str]:
    """The event ids of every message still on the queue (received and deleted)."""
    ids: list[str] = []
    empty = 0
    while empty < 2:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages = got.get("Messages", [])
        empty = empty + 1 if not messages else 0
        for message in messages:
            ids.append(json.loads(message["Body"])["id"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return ids


def _with_terminal_stderr(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """Run with stderr on a pseudo-terminal: ``(status, stdout, what the terminal showed)``."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        env=env,
        cwd=cwd,
        text=True,
    )
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    out, _ = process.communicate(timeout=30)
    return process.returncode, out, shown.decode(errors="replace")


# ------------------------------------------------------------------------------------------ sqs


def test_send_and_peek_in_both_formats(midil: Any, aws_env: Any, sqs: Any, queue: Any) -> None:
    name, url = queue
    one = midil("sqs", "send", name, "--type", "order.created", "--data", '{"id": 1}', env=aws_env)
    assert one.returncode == 0, one.stderr
    assert one.stdout.startswith("sent ") and url in one.stdout and one.stderr == ""
    many = midil(
        "sqs", "send", url, "--type", "order.paid", "--data", "-", "--count", "12", "-o", "json",
        input='{"total": 5}', env=aws_env,
    )  # fmt: skip
    assert many.returncode == 0 and many.stderr == ""  # no bar when piped
    assert many.json()["sent"] == 12 and len(set(many.json()["ids"])) == 12
    assert _visible(sqs, url) == 13

    text = midil("sqs", "peek", name, "--max", "3", "--wait-time", "0", env=aws_env)
    assert text.returncode == 0
    assert text.stdout.count("message ") == 3 and "order." in text.stdout
    peeked = midil("sqs", "peek", url, "-o", "json", env=aws_env)
    messages = peeked.json()["messages"]
    assert 1 <= len(messages) <= 10
    assert {m["event"]["type"] for m in messages} <= {"order.created", "order.paid"}
    assert _visible(sqs, url) == 13  # peeking consumed nothing


def test_send_count_draws_a_bar_only_on_a_terminal(
    midil_script: str, cli_env: Any, aws_env: Any, queue: Any, tmp_path: Path
) -> None:
    argv = [midil_script, "sqs", "send", queue[1], "--type", "t.x", "--count", "30"]
    status, out, terminal = _with_terminal_stderr(argv, cli_env(**aws_env), tmp_path)
    assert status == 0 and out.startswith("sent 30 events")
    assert "sending" in terminal and "100%" in terminal


def test_consume_until_empty_handles_deletes_and_counts(
    midil: Any, aws_env: Any, sqs: Any, queue: Any, handlers: Path
) -> None:
    name, _ = queue
    sent = midil(
        "sqs", "send", name, "--type", "job.run", "--count", "5", "-o", "json", env=aws_env
    )
    midil("sqs", "send", name, "--type", "job.run", "--data", '{"fail": true}', env=aws_env)
    done = midil(
        "sqs", "consume", name, "--handler", "handlers:record", "--wait-time", "1",
        "--until-empty", "-o", "json", env=aws_env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    stats = done.json()
    assert stats["received"] >= 6 and stats["handled"] == 5 and stats["failed"] >= 1
    assert stats["deleted"] == 5 and stats["stopped_by_signal"] is False
    assert sorted(handlers.read_text().split()) == sorted(sent.json()["ids"])
    assert done.stderr == ""  # no progress when piped
    text = midil(
        "sqs", "consume", name, "--handler", "handlers:record", "--wait-time", "0", "--until-empty",
        env=aws_env,
    )  # fmt: skip
    assert text.returncode == 0 and text.stdout.startswith("received ")


def test_ctrl_c_during_consume_loses_no_message(
    spawn: Any, midil: Any, aws_env: Any, sqs: Any, queue: Any, handlers: Path
) -> None:
    name, url = queue
    sent = midil(
        "sqs", "send", name, "--type", "job.run", "--count", "40", "-o", "json", env=aws_env
    )
    ids = set(sent.json()["ids"])
    process = spawn(
        "sqs", "consume", name, "--handler", "handlers:record", "--concurrency", "4",
        "--wait-time", "1", "-o", "json", env={**aws_env, "HANDLER_SLEEP": "0.3"},
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if handlers.exists() and len(handlers.read_text().split()) >= 4:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert err == ""
    stats = json.loads(out)
    assert stats["stopped_by_signal"] is True and stats["in_flight"] == 0
    handled = handlers.read_text().split()
    assert len(handled) == len(set(handled)) == stats["handled"] == stats["deleted"]
    assert 4 <= len(handled) < 40
    remaining = _drain(sqs, url)
    # Every message was either handled and deleted, or is back on the queue at once.
    assert set(handled) | set(remaining) == ids
    assert not set(handled) & set(remaining)


def test_consume_shows_rates_only_on_a_terminal(
    midil_script: str,
    cli_env: Any,
    midil: Any,
    aws_env: Any,
    queue: Any,
    handlers: Path,
    tmp_path: Path,
) -> None:
    midil("sqs", "send", queue[0], "--type", "job.run", "--count", "3", env=aws_env)
    argv = [midil_script, "sqs", "consume", queue[0], "--handler", "handlers:record"]
    argv += ["--concurrency", "1", "--wait-time", "1", "--until-empty"]
    env = cli_env(**aws_env, HANDLER_SLEEP="0.5")
    status, out, terminal = _with_terminal_stderr(argv, env, tmp_path)
    assert status == 0 and "handled 3" in out
    assert "consuming" in terminal and "handled" in terminal and "/s" in terminal


def test_missing_queues_and_bad_handlers_are_one_line(
    midil: Any, aws_env: Any, queue: Any, handlers: Path
) -> None:
    missing_url = queue[1].rsplit("/", 1)[0] + "/no-such-queue"
    for args in (
        ("sqs", "send", "no-such-queue", "--type", "t.x"),
        ("sqs", "send", missing_url, "--type", "t.x"),
        ("sqs", "peek", missing_url),
        ("sqs", "consume", missing_url, "--handler", "handlers:record", "--wait-time", "0"),
    ):
        done = midil(*args, env=aws_env)
        assert done.returncode == 1, args
        assert "does not exist" in done.one_error_line(), args
    no_handler = midil("sqs", "consume", queue[0], "--handler", "nowhere:fn", env=aws_env)
    assert no_handler.returncode == 1 and "nowhere" in no_handler.one_error_line()
    bad_spec = midil("sqs", "consume", queue[0], "--handler", "nocolon", env=aws_env)
    assert bad_spec.returncode == 2 and "module:function" in bad_spec.one_error_line()
    down = midil("sqs", "peek", queue[0], "--endpoint-url", "http://127.0.0.1:9")
    assert down.returncode == 1 and "cannot connect" in down.one_error_line()


# --------------------------------------------------------------------------- events, schedule


def test_events_put_in_both_formats(midil: Any, aws_env: Any, moto_server: MotoServer) -> None:
    text = midil("events", "put", "--type", "order.created", "--data", '{"id": 1}', env=aws_env)
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("put ") and "bus default" in text.stdout
    args = ("events", "put", "--bus", "default", "--type", "order.created", "--source", "shop")
    as_json = midil(*args, "--endpoint-url", moto_server.endpoint_url, "-o", "json")
    assert as_json.returncode == 0 and as_json.json()["source"] == "shop"
    missing = midil("events", "put", "--bus", "no-such-bus", "--type", "t.x", env=aws_env)
    assert missing.returncode == 1
    assert "the event bus no-such-bus does not exist" in missing.one_error_line()
    bad = midil("events", "put", "--type", "t.x", "--data", "{nope", env=aws_env)
    assert bad.returncode == 2 and "--data" in bad.one_error_line()


def test_schedule_create_list_show_delete(midil: Any, aws_env: Any) -> None:
    name = f"cli-{uuid.uuid4().hex[:8]}"
    create = ("schedule", "create", name, "--rate", "5 minutes", "--type", "report.due")
    create += ("--data", '{"kind": "daily"}', "--target-arn", TARGET, "--role-arn", ROLE)
    made = midil(*create, env=aws_env)
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == f"created default/{name}: rate(5 minutes)"
    again = midil(*create, "-o", "json", env=aws_env)  # the same definition: idempotent
    assert again.returncode == 0 and again.json()["expression"] == "rate(5 minutes)"
    listed = midil("schedule", "list", "--prefix", name, "-o", "json", env=aws_env)
    assert [s["name"] for s in listed.json()["schedules"]] == [name]
    assert name in midil("schedule", "list", env=aws_env).stdout
    shown = midil("schedule", "show", name, "-o", "json", env=aws_env).json()
    assert shown["event"]["type"] == "report.due" and shown["event"]["data"] == {"kind": "daily"}
    assert "report.due" in midil("schedule", "show", name, env=aws_env).stdout
    conflict = midil(*create[:3], "--cron", "0 9 * * ? *", *create[5:], env=aws_env)
    assert conflict.returncode == 1 and "another definition" in conflict.one_error_line()
    assert midil("schedule", "delete", name, env=aws_env).stdout.startswith("deleted")
    gone = midil("schedule", "delete", name, env=aws_env)
    assert gone.returncode == 1 and "no schedule" in gone.one_error_line()
    ok = midil("schedule", "delete", name, "--missing-ok", "-o", "json", env=aws_env)
    assert ok.returncode == 0 and ok.json()["deleted"] is False
    both = midil("schedule", "create", name, "--rate", "5m", "--cron", "x", "--type", "t")
    assert both.returncode == 2 and "exactly one" in both.one_error_line()


# -------------------------------------------------------------------------------- missing extra


def test_aws_commands_without_boto3_name_the_extra(midil: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(BLOCK_BOTO3)
    env = {"PYTHONPATH": str(blocker)}
    for args in (
        ("sqs", "send", "q", "--type", "t.x"),
        ("sqs", "consume", "q", "--handler", "m:f"),
        ("sqs", "peek", "q"),
        ("events", "put", "--type", "t.x"),
        ("schedule", "list"),
    ):
        done = midil(*args, env=env)
        assert done.returncode == 1, (args, done.stderr)
        line = done.one_error_line()
        assert "pip install 'midil-kit[aws]'" in line and "boto3" in line, line
    # The rest of the command line works without the extra.
    assert midil("jsonapi", "query", "sort=-created", env=env).returncode == 0
    assert midil("sqs", "--help", env=env).returncode == 0


def _wait_until_consuming(process: Any, handlers: Path) -> None:
    """Wait until the consumer handled the message sent before it started: its signal handlers
    are in place (a Ctrl-C during the interpreter's start-up is Python's own, not ours)."""
    deadline = time.monotonic() + 30
    while not (handlers.exists() and handlers.read_text().strip()):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the consumer never handled its first message"
        time.sleep(0.05)


def test_the_first_ctrl_c_does_not_wait_for_the_long_poll(
    spawn: Any, midil: Any, aws_env: Any, queue: Any, handlers: Path
) -> None:
    midil("sqs", "send", queue[0], "--type", "job.run", env=aws_env)
    process = spawn(
        "sqs",
        "consume",
        queue[0],
        "--handler",
        "handlers:record",
        "--wait-time",
        "20",
        "-o",
        "json",
        env=aws_env,
    )
    _wait_until_consuming(process, handlers)
    time.sleep(1.0)  # inside a 20 s long poll on an empty queue
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert time.monotonic() - started < 4
    assert process.returncode == 0, err
    assert json.loads(out)["stopped_by_signal"] is True


def test_a_second_ctrl_c_stops_consume_at_once(
    spawn: Any, midil: Any, aws_env: Any, queue: Any, handlers: Path
) -> None:
    # The second Ctrl-C leaves within a couple of seconds, even with a handler that does not
    # return; SQS redelivers whatever was not settled.
    midil("sqs", "send", queue[0], "--type", "job.run", env=aws_env)
    process = spawn("sqs", "consume", queue[0], "--handler", "handlers:record", env=aws_env)
    _wait_until_consuming(process, handlers)
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert time.monotonic() - started < 8
    assert process.returncode in (0, 130) and "Traceback" not in err
