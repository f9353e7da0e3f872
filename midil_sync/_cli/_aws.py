"""What the AWS commands share: the extra check, the event an option set describes, queue names,
and clearer words for the AWS failures a shell user meets first."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from midil_sync._cli._common import CommandFailed, read_data

__all__ = ["aws_errors", "build_event", "event_options", "queue_url", "require_aws"]

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_SOURCE = "midil-cli"

_HINTS = (
    ("NonExistentQueue", "{resource} does not exist"),
    ("QueueDoesNotExist", "{resource} does not exist"),
    ("ResourceNotFoundException", "{resource} does not exist"),
    ("NoRegionError", "no AWS region: pass --region or set AWS_REGION"),
    (
        "NoCredentialsError",
        "no AWS credentials: configure them (AWS_PROFILE, AWS_ACCESS_KEY_ID, ...)",
    ),
    ("EndpointConnectionError", "cannot connect to the AWS endpoint"),
    ("Transport.connect", "cannot connect to the AWS endpoint"),
)


def require_aws() -> None:
    """Fail with the install hint when boto3 (the ``aws`` extra) is missing."""
    from midil_common.extras import require

    require("midil", "boto3", "aws", "boto3", "botocore")


@contextmanager
def aws_errors(resource: str | None = None) -> Iterator[None]:
    """Kit errors whose text names a well-known AWS code get a plainer first half (``resource``,
    such as "the queue URL", is what a not-found code is about)."""
    from midil_common.errors import MidilError

    try:
        yield
    except MidilError as exc:
        text = str(exc)
        for code, hint in _HINTS:
            if code in text and (resource or "{resource}" not in hint):
                raise CommandFailed(
                    f"{hint.format(resource=resource)}: {text} ({type(exc).__name__})"
                ) from exc
        raise


def event_options(func: F) -> F:
    """``--type``, ``--data``, ``--source``, ``--subject`` of the event to send."""
    for decorator in reversed(
        (
            click.option(
                "--type",
                "event_type",
                required=True,
                metavar="TYPE",
                help="The event type (order.created).",
            ),
            click.option(
                "--data",
                metavar="JSON",
                help="The event data: inline JSON, @FILE, or - for stdin.",
            ),
            click.option(
                "--source",
                default=DEFAULT_SOURCE,
                show_default=True,
                metavar="URI",
                help="The CloudEvents source.",
            ),
            click.option("--subject", metavar="TEXT", help="The CloudEvents subject."),
        )
    ):
        func = decorator(func)
    return func


def build_event(event_type: str, data: str | None, source: str, subject: str | None) -> Any:
    """The :class:`~midil_common.events.Event` the options describe (``InvalidEventError`` for a
    bad one)."""
    from midil_common.events import Event

    value = read_data(data)
    options: dict[str, Any] = {"source": source, "type": event_type}
    if data is not None:
        options["data"] = value
    if subject:
        options["subject"] = subject
    return Event(**options)


def queue_url(queue: str, region: str | None, endpoint_url: str | None) -> str:
    """``queue`` itself when it is a URL, else the URL of the queue of that name."""
    if queue.startswith(("https://", "http://")):
        return queue
    from midil_common.events.publishing import call_failed
    from midil_sync._aws import AWSClient

    client = AWSClient("sqs", region=region, endpoint_url=endpoint_url)
    try:
        with aws_errors(f"the queue {queue}"):
            answer = client.call("GetQueueUrl", {"QueueName": queue}, errors=call_failed)
    finally:
        client.close()
    return str(answer["QueueUrl"])


def event_json(event: Any) -> Any:
    """An event as its CloudEvents JSON value."""
    return json.loads(event.to_json())
