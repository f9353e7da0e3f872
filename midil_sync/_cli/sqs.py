"""``midil sqs``: send, consume and peek, on ``SQSPublisher``, ``SQSConsumer`` and the sync shell's
SQS client.

QUEUE is a queue URL or a queue name (looked up with ``GetQueueUrl``). Progress (a bar for
``send --count``, rates for ``consume``) is drawn on stderr only when it is a terminal.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import time
from typing import Any

import click

from midil_sync._cli._aws import (
    aws_errors,
    build_event,
    event_json,
    event_options,
    queue_url,
    require_aws,
)
from midil_sync._cli._common import (
    EXIT_INTERRUPTED,
    CommandFailed,
    aws_options,
    echo_json,
    is_terminal,
    output_option,
    shown,
)

__all__ = ["group"]

_CHUNK = 100
_HARD_STOP_GRACE = 2.0

queue_argument = click.argument(
    "queue", envvar="MIDIL_EVENTS__QUEUE_URL", metavar="QUEUE", required=True
)


@click.group("sqs")
def group() -> None:
    """Send, consume and peek at events on an SQS queue (needs the aws extra)."""


# ----------------------------------------------------------------------------------------- send


@group.command("send")
@queue_argument
@event_options
@click.option(
    "--count",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="How many events to send (each its own id).",
)
@click.option("--group-id", metavar="ID", help="FIFO queues: the message group.")
@aws_options
@output_option
def send(
    queue: str,
    event_type: str,
    data: str | None,
    source: str,
    subject: str | None,
    count: int,
    group_id: str | None,
    region: str | None,
    endpoint_url: str | None,
    output: str,
) -> None:
    """Send an event (or --count N of them) to QUEUE as CloudEvents JSON.

    Exit status 1 when SQS did not accept every event (the events sent are still counted).
    """
    require_aws()
    from midil_sync import SQSPublisher

    first = build_event(event_type, data, source, subject)
    events = [first] + [first.model_copy(update={"id": _new_id()}) for _ in range(count - 1)]
    url = queue_url(queue, region, endpoint_url)
    sent: list[Any] = []
    failed = 0
    with (
        aws_errors(f"the queue {url}"),
        SQSPublisher(
            url, region=region, endpoint_url=endpoint_url, message_group_id=group_id
        ) as publisher,
        _bar(count, shown=count > 1 and is_terminal(sys.stderr)) as bar,
    ):
        for start in range(0, count, _CHUNK):
            chunk = events[start : start + _CHUNK]
            result = publisher.publish_batch(chunk)
            sent.extend(result.succeeded)
            failed += len(result.failed)
            bar.update(len(chunk))
            if result.failed and not sent:
                # Nothing gets through (a missing queue, no credentials): stop at the first
                # chunk rather than fail every other one the same way.
                result.raise_for_failures()
    if output == "json":
        echo_json(
            {"queue_url": url, "sent": len(sent), "failed": failed, "ids": [e.id for e in sent]}
        )
    elif count == 1 and sent:
        click.echo(f"sent {sent[0].id} ({first.type}) to {url}")
    else:
        click.echo(f"sent {len(sent)} events ({first.type}) to {url}")
    if failed:
        raise CommandFailed(f"{failed} of {count} events were not accepted by {url}")


def _new_id() -> str:
    import uuid

    return str(uuid.uuid4())


class _NoBar:
    """What ``click.progressbar`` offers, doing nothing (stderr is no terminal)."""

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, steps: int) -> None:
        return None


def _bar(count: int, *, shown: bool) -> Any:
    """A progress bar on stderr when ``shown``, else one that draws nothing."""
    if not shown:
        return _NoBar()
    return click.progressbar(length=count, label="sending", file=sys.stderr)


# -------------------------------------------------------------------------------------- consume


def _load_handler(spec: str) -> Any:
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise click.BadParameter("must be module:function", param_hint="--handler")
    # Like `python -m` and flask/uvicorn: the working directory's modules are importable.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise CommandFailed(f"cannot import the handler module {module_name!r}: {exc}") from None
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise CommandFailed(f"the module {module_name!r} has no {attribute!r}") from None
    if not callable(target):
        raise CommandFailed(f"the handler {spec!r} is not callable")
    return target


class _Progress:
    """Rates of a running consumer on stderr, refreshed every ``interval`` seconds."""

    def __init__(self, consumer: Any, interval: float = 1.0) -> None:
        self._consumer = consumer
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="midil-cli-progress", daemon=True)

    def __enter__(self) -> _Progress:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        click.echo("", err=True)

    def _loop(self) -> None:
        before = self._consumer.stats
        then = time.monotonic()
        while not self._stop.wait(self._interval):
            now_stats = self._consumer.stats
            now = time.monotonic()
            span = max(now - then, 1e-9)

            rates = {
                name: f"{(getattr(now_stats, name) - getattr(before, name)) / span:.1f}/s"
                for name in ("received", "handled", "failed")
            }
            click.echo(
                f"\r\x1b[Kreceived {rates['received']}  handled {rates['handled']}  "
                f"failed {rates['failed']}  | total {now_stats.received} received, "
                f"{now_stats.handled} handled, {now_stats.failed} failed, "
                f"{now_stats.in_flight} in flight",
                err=True,
                nl=False,
            )
            before, then = now_stats, now


def _stats(stats: Any) -> dict[str, int]:
    from dataclasses import asdict

    values: dict[str, int] = asdict(stats)
    values["in_flight"] = stats.in_flight
    return values


@group.command("consume")
@queue_argument
@click.option(
    "--handler",
    required=True,
    metavar="MODULE:FUNCTION",
    help="The function called with each event (imported; the working directory is on the path).",
)
@click.option(
    "--pattern",
    default="**",
    show_default=True,
    help="The event types the handler gets (order.*, **).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 1000),
    default=10,
    show_default=True,
    help="Messages handled at once (threads).",
)
@click.option(
    "--wait-time",
    type=click.IntRange(0, 20),
    default=20,
    show_default=True,
    envvar="MIDIL_EVENTS__WAIT_TIME_SECONDS",
    help="Long-polling wait of each receive, in seconds.",
)
@click.option(
    "--visibility-timeout",
    type=click.IntRange(0, 43200),
    help="The visibility timeout each receive asks for (default: the queue's).",
)
@click.option(
    "--stop-timeout",
    type=float,
    default=30.0,
    show_default=True,
    help="How long in-flight handlers may finish after Ctrl-C.",
)
@click.option(
    "--until-empty", is_flag=True, help="Stop once the queue is empty and nothing is in flight."
)
@aws_options
@output_option
def consume(
    queue: str,
    handler: str,
    pattern: str,
    concurrency: int,
    wait_time: int,
    visibility_timeout: int | None,
    stop_timeout: float,
    until_empty: bool,
    region: str | None,
    endpoint_url: str | None,
    output: str,
) -> None:
    """Consume QUEUE, calling the handler with each event, until Ctrl-C (or --until-empty).

    A message is deleted only after the handler returned; one whose handler raised goes back to
    the queue with a backoff (the queue's redrive policy moves it to its dead-letter queue).
    Ctrl-C (or SIGTERM) stops receiving, lets the handlers in progress finish for up to
    --stop-timeout seconds and puts every message not handled back on the queue at once; a
    second Ctrl-C stops without waiting. The counters are printed at the end.
    """
    require_aws()
    from midil_sync import SQSConsumer
    from midil_sync._primitives import catch_signals

    function = _load_handler(handler)
    url = queue_url(queue, region, endpoint_url)
    consumer = SQSConsumer(
        url,
        concurrency=concurrency,
        wait_time_seconds=wait_time,
        visibility_timeout=visibility_timeout,
        region=region,
        endpoint_url=endpoint_url,
        stop_timeout=stop_timeout,
    )
    consumer.subscribe(function, pattern)
    terminal = is_terminal(sys.stderr)
    signals = 0

    ended = threading.Event()

    def on_signal() -> None:
        # Runs in a thread of its own (catch_signals), never inside the interrupted code.
        nonlocal signals
        signals += 1
        if signals == 1:
            if terminal:
                click.echo(
                    "\nstopping: no more receives, finishing the handlers in progress; "
                    "Ctrl-C again to stop now",
                    err=True,
                )
            consumer.stop()
            return
        if terminal:
            click.echo(
                "\nstopping now: messages not settled come back after their visibility timeout",
                err=True,
            )
        # Release what can be released at once; if the run does not end promptly (a handler
        # that does not return), leave: SQS redelivers every message not deleted, so nothing is
        # lost.
        threading.Thread(target=consumer.stop, args=(0.0,), daemon=True).start()
        if not ended.wait(_HARD_STOP_GRACE):
            sys.stderr.flush()
            os._exit(EXIT_INTERRUPTED)

    restore = catch_signals(on_signal)
    try:
        with aws_errors(f"the queue {url}"):
            if terminal:
                click.echo(f"consuming {url} (Ctrl-C to stop)", err=True)
                with _Progress(consumer):
                    stats = consumer.run_until_empty() if until_empty else consumer.run()
            else:
                stats = consumer.run_until_empty() if until_empty else consumer.run()
    finally:
        ended.set()
        restore()
        consumer.close()
    values = _stats(stats)
    if output == "json":
        echo_json({"queue_url": url, "stopped_by_signal": signals > 0, **values})
        return
    click.echo(
        ", ".join(
            f"{name} {value}"
            for name, value in values.items()
            if value or name in ("received", "handled", "failed")
        )
    )


# ----------------------------------------------------------------------------------------- peek


@group.command("peek")
@queue_argument
@click.option(
    "--max",
    "maximum",
    type=click.IntRange(1, 100),
    default=10,
    show_default=True,
    help="The most messages to show.",
)
@click.option(
    "--wait-time",
    type=click.IntRange(0, 20),
    default=1,
    show_default=True,
    help="Long-polling wait of each receive, in seconds.",
)
@aws_options
@output_option
def peek(
    queue: str,
    maximum: int,
    wait_time: int,
    region: str | None,
    endpoint_url: str | None,
    output: str,
) -> None:
    """Show messages of QUEUE decoded, without consuming them.

    Messages are received with a visibility timeout of 0, so they stay on the queue, visible to
    every consumer, and nothing is deleted. SQS has no true peek: each peek still counts as a
    receive (ApproximateReceiveCount), which a redrive policy counts towards its
    maxReceiveCount. One receive returns at most 10 messages, and SQS samples its servers, so a
    peek may show fewer messages than the queue holds.
    """
    require_aws()
    from midil_common.events import SQSCodec
    from midil_common.events.publishing import call_failed
    from midil_common.events.receiving import receive_request
    from midil_sync._aws import AWSClient

    url = queue_url(queue, region, endpoint_url)
    codec = SQSCodec()
    client = AWSClient("sqs", region=region, endpoint_url=endpoint_url)
    try:
        with aws_errors(f"the queue {url}"):
            request = receive_request(
                url, free_slots=maximum, wait_time_seconds=wait_time, visibility_timeout=0
            )
            assert request is not None
            answer = client.call("ReceiveMessage", request, errors=call_failed)
    finally:
        client.close()
    seen: dict[str, Any] = {}
    for raw in answer.get("Messages") or ():
        message = codec.decode(raw, queue=url)
        seen.setdefault(message.message_id, message)
    messages = [_message_value(m) for m in seen.values()]
    if output == "json":
        echo_json({"queue_url": url, "messages": messages})
        return
    if not messages:
        click.echo(f"no visible messages on {url}")
        return
    for value in messages:
        click.echo(f"message {value['message_id']} (receive count {value['receive_count']})")
        if value["event"] is None:
            click.echo(f"  poison: {value['poison']}")
            continue
        event = value["event"]
        for name in ("type", "source", "id", "time", "subject", "correlationid", "data"):
            if event.get(name) is not None:
                click.echo(f"  {name.ljust(13)}  {shown(event[name])}")


def _message_value(message: Any) -> dict[str, Any]:
    return {
        "message_id": message.message_id,
        "receive_count": message.receive_count,
        "sent_at": message.sent_at,
        "group_id": message.group_id,
        "kind": message.kind,
        "poison": message.poison,
        "event": None if message.event is None else event_json(message.event),
    }
