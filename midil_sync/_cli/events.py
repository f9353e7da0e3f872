"""``midil events put``: one event on an EventBridge bus, with ``EventBridgePublisher``."""

from __future__ import annotations

import click

from midil_sync._cli._aws import aws_errors, build_event, event_options, require_aws
from midil_sync._cli._common import aws_options, echo_json, output_option

__all__ = ["group"]


@click.group("events")
def group() -> None:
    """Put events on an EventBridge bus (needs the aws extra)."""


@group.command("put")
@click.option(
    "--bus",
    envvar="MIDIL_EVENTS__BUS_NAME",
    show_envvar=True,
    default="default",
    show_default=True,
    metavar="NAME|ARN",
    help="The event bus.",
)
@event_options
@aws_options
@output_option
def put(
    bus: str,
    event_type: str,
    data: str | None,
    source: str,
    subject: str | None,
    region: str | None,
    endpoint_url: str | None,
    output: str,
) -> None:
    """Put one event on the bus: DetailType is its type, Source its source, Detail its
    CloudEvents JSON. Exit status 1 when EventBridge did not accept it."""
    require_aws()
    from midil_sync import EventBridgePublisher

    event = build_event(event_type, data, source, subject)
    with (
        aws_errors(f"the event bus {bus}"),
        EventBridgePublisher(bus, region=region, endpoint_url=endpoint_url) as publisher,
    ):
        sent = publisher.publish(event)
    if output == "json":
        echo_json({"bus": bus, "id": sent.id, "type": sent.type, "source": sent.source})
        return
    click.echo(f"put {sent.id} ({sent.type}) on bus {bus}")
