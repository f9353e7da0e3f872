"""``midil schedule list|show|create|delete``: EventBridge Scheduler, with ``EventBridgeScheduler``."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import click

from midil_sync._cli._aws import aws_errors, build_event, event_json, event_options, require_aws
from midil_sync._cli._common import CommandFailed, aws_options, echo_json, output_option, shown

__all__ = ["group"]

_RATE = re.compile(r"\s*(\d+)\s*(m|min|mins|minute|minutes|h|hour|hours|d|day|days)\s*", re.I)

group_option = click.option(
    "--group",
    "group_name",
    envvar="MIDIL_EVENTS__SCHEDULE_GROUP",
    show_envvar=True,
    metavar="GROUP",
    help="The schedule group (default: default).",
)


@click.group("schedule")
def group() -> None:
    """List, show, create and delete EventBridge schedules (needs the aws extra)."""


def _scheduler(region: str | None, endpoint_url: str | None, group_name: str | None) -> Any:
    require_aws()
    from midil_sync import EventBridgeScheduler

    return EventBridgeScheduler(region=region, endpoint_url=endpoint_url, group=group_name)


def _group_text(group_name: str | None) -> str:
    return f"the schedule group {group_name or 'default'}"


def _value(schedule: Any) -> dict[str, Any]:
    return {
        "name": schedule.name,
        "group": schedule.group,
        "state": schedule.state,
        "expression": schedule.expression,
        "timezone": schedule.timezone,
        "target_arn": schedule.target_arn,
        "role_arn": schedule.role_arn,
        "flexible_window_minutes": None
        if schedule.flexible_window is None
        else int(schedule.flexible_window.total_seconds() // 60),
        "action_after_completion": schedule.action_after_completion,
        "description": schedule.description,
        "arn": schedule.arn,
        "event": None if schedule.event is None else event_json(schedule.event),
    }


def _print(value: dict[str, Any]) -> None:
    rows = [(k, v) for k, v in value.items() if v is not None and k != "event"]
    width = max(len(k) for k, _ in rows)
    for name, item in rows:
        click.echo(f"{name.ljust(width)}  {shown(item)}")
    event = value["event"]
    if event is not None:
        click.echo(f"{'event'.ljust(width)}  {shown(event['type'])} from {shown(event['source'])}")


@group.command("list")
@group_option
@click.option("--prefix", metavar="TEXT", help="Only the schedules whose name starts with TEXT.")
@click.option(
    "--state", type=click.Choice(["ENABLED", "DISABLED"]), help="Only the schedules in this state."
)
@aws_options
@output_option
def list_(
    group_name: str | None,
    prefix: str | None,
    state: str | None,
    region: str | None,
    endpoint_url: str | None,
    output: str,
) -> None:
    """List the schedules of a group."""
    with (
        aws_errors(_group_text(group_name)),
        _scheduler(region, endpoint_url, group_name) as scheduler,
    ):
        found = scheduler.list(prefix=prefix, state=state)
    values = [_value(s) for s in found]
    if output == "json":
        echo_json({"schedules": values})
        return
    if not values:
        click.echo("no schedules")
        return
    for value in values:
        # What the scheduler holds is anyone's text: printed through shown(), never raw.
        where = f"{value['group']}/{value['name']}"
        click.echo(f"{shown(where)}  {shown(value['state'])}  -> {shown(value['target_arn'])}")


@group.command("show")
@click.argument("name")
@group_option
@aws_options
@output_option
def show(
    name: str, group_name: str | None, region: str | None, endpoint_url: str | None, output: str
) -> None:
    """Show one schedule, with the event it sends."""
    with (
        aws_errors(_group_text(group_name)),
        _scheduler(region, endpoint_url, group_name) as scheduler,
    ):
        found = scheduler.get(name)
    if found is None:
        raise CommandFailed(f"no schedule {name!r} in group {group_name or 'default'!r}")
    value = _value(found)
    if output == "json":
        echo_json(value)
        return
    _print(value)


def _rate(text: str) -> timedelta:
    match = _RATE.fullmatch(text)
    if match is None:
        raise click.BadParameter(
            "use N minutes, N hours or N days (5m, 1h, 2 days)", param_hint="--rate"
        )
    number, unit = int(match.group(1)), match.group(2).lower()[0]
    return timedelta(**{{"m": "minutes", "h": "hours", "d": "days"}[unit]: number})


@group.command("create")
@click.argument("name")
@click.option(
    "--at",
    "at",
    metavar="DATETIME",
    help="Once, at an ISO 8601 time (naive: read in --timezone); deleted after it ran.",
)
@click.option("--rate", metavar="EVERY", help="Every N minutes, hours or days (5m, 1h, '2 days').")
@click.option(
    "--cron", metavar="EXPRESSION", help="On AWS's six-field cron expression ('0 9 * * ? *')."
)
@event_options
@click.option(
    "--target-arn",
    envvar="MIDIL_EVENTS__SCHEDULER_TARGET_ARN",
    show_envvar=True,
    metavar="ARN",
    help="Where the event goes (a queue, a bus, a function).",
)
@click.option(
    "--role-arn",
    envvar="MIDIL_EVENTS__SCHEDULER_ROLE_ARN",
    show_envvar=True,
    metavar="ARN",
    help="The IAM role the scheduler assumes to reach the target.",
)
@click.option("--timezone", metavar="ZONE", help="The time zone of the expression (default UTC).")
@click.option(
    "--window", type=click.IntRange(1, 1440), metavar="MINUTES", help="A flexible time window."
)
@click.option("--description", metavar="TEXT", help="A description.")
@group_option
@aws_options
@output_option
def create(
    name: str,
    at: str | None,
    rate: str | None,
    cron: str | None,
    event_type: str,
    data: str | None,
    source: str,
    subject: str | None,
    target_arn: str | None,
    role_arn: str | None,
    timezone: str | None,
    window: int | None,
    description: str | None,
    group_name: str | None,
    region: str | None,
    endpoint_url: str | None,
    output: str,
) -> None:
    """Create the schedule NAME sending an event to a target: give one of --at, --rate, --cron.

    Creating again with the same definition succeeds (idempotent); another definition under the
    same name fails.
    """
    if sum(x is not None for x in (at, rate, cron)) != 1:
        raise click.UsageError("give exactly one of --at, --rate, --cron")
    if not target_arn or not role_arn:
        raise click.UsageError("--target-arn and --role-arn are required")
    event = build_event(event_type, data, source, subject)
    options: dict[str, Any] = {
        "target_arn": target_arn,
        "role_arn": role_arn,
        "timezone": timezone,
        "flexible_window": None if window is None else timedelta(minutes=window),
        "description": description,
    }
    with (
        aws_errors(_group_text(group_name)),
        _scheduler(region, endpoint_url, group_name) as scheduler,
    ):
        if at is not None:
            try:
                when = datetime.fromisoformat(at)
            except ValueError:
                raise click.BadParameter("not an ISO 8601 time", param_hint="--at") from None
            made = scheduler.schedule_at(name, when, event, **options)
        elif rate is not None:
            made = scheduler.schedule_rate(name, _rate(rate), event, **options)
        else:
            assert cron is not None
            made = scheduler.schedule_cron(name, cron, event, **options)
    value = _value(made)
    if output == "json":
        echo_json(value)
        return
    click.echo(f"created {made.group}/{made.name}: {made.expression}")


@group.command("delete")
@click.argument("name")
@click.option("--missing-ok", is_flag=True, help="Succeed when there is no such schedule.")
@group_option
@aws_options
@output_option
def delete(
    name: str,
    missing_ok: bool,
    group_name: str | None,
    region: str | None,
    endpoint_url: str | None,
    output: str,
) -> None:
    """Delete the schedule NAME (exit status 1 when there is none, unless --missing-ok)."""
    with (
        aws_errors(_group_text(group_name)),
        _scheduler(region, endpoint_url, group_name) as scheduler,
    ):
        deleted = scheduler.delete(name)
    where = f"{group_name or 'default'}/{name}"
    if output == "json":
        echo_json({"name": name, "group": group_name or "default", "deleted": deleted})
    elif deleted:
        click.echo(f"deleted {where}")
    if not deleted and not missing_ok:
        raise CommandFailed(f"no schedule {where}")
    if not deleted and output != "json":
        click.echo(f"no schedule {where} (nothing to delete)")
