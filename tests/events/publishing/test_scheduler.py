"""EventBridgeScheduler of both shells against moto, which stores schedules but never fires them:
every call, and the definition moto stores for each (read back with plain boto3)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest

from midil_common.errors import ConfigError
from midil_common.events import Event
from midil_common.events.schedules import Schedule, ScheduleConflictError, SchedulerError
from midil_common.testing.aws import MotoServer

from .conftest import REGION, Shell

ROLE = "arn:aws:iam::123456789012:role/scheduler"
TARGET = "arn:aws:sqs:us-east-1:123456789012:reminders"


@pytest.fixture(scope="module")
def admin(aws: MotoServer) -> Any:
    return boto3.client("scheduler", **aws.client_kwargs(REGION))


@pytest.fixture
def scheduler(shell: Shell, aws: MotoServer) -> Any:
    return shell.make(
        "EventBridgeScheduler",
        region=REGION,
        endpoint_url=aws.endpoint_url,
        credentials=aws.credentials,
        role_arn=ROLE,
        target_arn=TARGET,
    )


def _name(prefix: str = "s") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _event(**data: Any) -> Event:
    return Event(source="/reminders", type="reminder.due", data=data or {"user": 7})


def _stored(admin: Any, name: str, group: str = "default") -> dict[str, Any]:
    return dict(admin.get_schedule(Name=name, GroupName=group))


def test_schedule_at_is_one_time_and_deletes_itself(
    shell: Shell, scheduler: Any, admin: Any
) -> None:
    name = _name("at")
    event = _event()
    when = datetime(2031, 3, 1, 8, 30, 15, 250_000, tzinfo=timezone.utc)
    made = shell.run(
        scheduler.schedule_at(
            name, when, event, timezone="Europe/Berlin", flexible_window=timedelta(minutes=15)
        )
    )
    stored = _stored(admin, name)
    # 08:30:15.25 UTC is 09:30:15.25 in Berlin (CET); a fraction rounds up, never early.
    assert stored["ScheduleExpression"] == "at(2031-03-01T09:30:16)"
    assert stored["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert stored["ActionAfterCompletion"] == "DELETE"
    assert stored["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    assert stored["State"] == "ENABLED"
    assert stored["Target"]["Arn"] == TARGET and stored["Target"]["RoleArn"] == ROLE
    assert Event.from_json(stored["Target"]["Input"]) == event
    assert json.loads(stored["Target"]["Input"])["specversion"] == "1.0"
    assert isinstance(made, Schedule)
    assert made.arn == stored["Arn"] and made.expression == stored["ScheduleExpression"]
    assert made.flexible_window == timedelta(minutes=15) and made.event == event
    assert made.action_after_completion == "DELETE"
    assert shell.run(scheduler.get(name)) == Schedule(
        name=name,
        group="default",
        expression="at(2031-03-01T09:30:16)",
        timezone="Europe/Berlin",
        state="ENABLED",
        target_arn=TARGET,
        role_arn=ROLE,
        event=event,
        flexible_window=timedelta(minutes=15),
        action_after_completion="DELETE",
        arn=stored["Arn"],
    )


def test_schedule_at_naive_needs_a_zone(shell: Shell, scheduler: Any) -> None:
    with pytest.raises(ConfigError, match="naive"):
        shell.run(scheduler.schedule_at(_name(), datetime(2031, 1, 1), _event()))


def test_schedule_rate(shell: Shell, scheduler: Any, admin: Any) -> None:
    name = _name("rate")
    made = shell.run(scheduler.schedule_rate(name, timedelta(minutes=90), _event()))
    stored = _stored(admin, name)
    assert stored["ScheduleExpression"] == "rate(90 minutes)"
    assert stored["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert stored["ScheduleExpressionTimezone"] == "UTC"  # moto's default when none is sent
    assert not stored.get("ActionAfterCompletion") or stored["ActionAfterCompletion"] == "NONE"
    assert made.expression == "rate(90 minutes)" and made.flexible_window is None


def test_schedule_cron_with_time_zone(shell: Shell, scheduler: Any, admin: Any) -> None:
    name = _name("cron")
    shell.run(
        scheduler.schedule_cron(
            name,
            "0 9 ? * MON-FRI *",
            _event(),
            timezone="America/New_York",
            flexible_window=timedelta(hours=1),
            description="weekday mornings",
        )
    )
    stored = _stored(admin, name)
    assert stored["ScheduleExpression"] == "cron(0 9 ? * MON-FRI *)"
    assert stored["ScheduleExpressionTimezone"] == "America/New_York"
    assert stored["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 60}
    assert stored["Description"] == "weekday mornings"
    with pytest.raises(ConfigError, match="cron"):
        shell.run(scheduler.schedule_cron(_name(), "0 9 * * MON *", _event()))


def test_groups(shell: Shell, scheduler: Any, admin: Any) -> None:
    group = _name("g")
    admin.create_schedule_group(Name=group)
    name = _name("in-group")
    made = shell.run(scheduler.schedule_rate(name, timedelta(hours=1), _event(), group=group))
    assert made.group == group
    assert _stored(admin, name, group)["ScheduleExpression"] == "rate(1 hour)"
    assert shell.run(scheduler.get(name)) is None  # not in the default group
    assert shell.run(scheduler.get(name, group=group)).group == group
    listed = shell.run(scheduler.list(group=group))
    assert [(s.name, s.group, s.target_arn) for s in listed] == [(name, group, TARGET)]
    assert shell.run(scheduler.delete(name, group=group)) is True


def test_idempotent_create_and_conflicting_recreate(
    shell: Shell, scheduler: Any, admin: Any, aws: MotoServer
) -> None:
    name = _name("idem")
    tokens: list[str] = []
    client = shell.run(scheduler._aws.get())
    client.meta.events.register(
        "provide-client-params.scheduler.CreateSchedule",
        lambda params, **kwargs: tokens.append(params.get("ClientToken")),
    )
    first = shell.run(scheduler.schedule_rate(name, timedelta(minutes=5), _event(user=1)))
    # A new Event object (new id and time) with the same content: the same definition.
    again = shell.run(scheduler.schedule_rate(name, timedelta(minutes=5), _event(user=1)))
    assert again.name == first.name and again.expression == "rate(5 minutes)"
    assert again.arn == first.arn
    assert len(tokens) == 2 and all(t and len(t) == 64 for t in tokens)
    assert tokens[0] != tokens[1]  # one token per create call, not per definition
    with pytest.raises(ScheduleConflictError) as info:
        shell.run(scheduler.schedule_rate(name, timedelta(minutes=10), _event(user=1)))
    assert info.value.code == "ConflictException"
    assert info.value.differences == ("ScheduleExpression",)
    assert "ScheduleExpression" in str(info.value)
    with pytest.raises(ScheduleConflictError) as other:
        shell.run(scheduler.schedule_rate(name, timedelta(minutes=5), _event(user=2)))
    assert other.value.differences == ("Target.Input",)
    assert _stored(admin, name)["ScheduleExpression"] == "rate(5 minutes)"  # untouched


def test_update_list_delete(shell: Shell, scheduler: Any, admin: Any) -> None:
    prefix = _name("upd")
    names = [f"{prefix}-{i}" for i in range(3)]
    for name in names:
        shell.run(scheduler.schedule_rate(name, timedelta(minutes=5), _event()))
    new_event = _event(user=99)
    updated = shell.run(
        scheduler.update(
            names[0],
            "cron(30 6 * * ? *)",
            new_event,
            timezone="Asia/Tokyo",
            flexible_window=timedelta(minutes=5),
            enabled=False,
        )
    )
    stored = _stored(admin, names[0])
    assert stored["ScheduleExpression"] == "cron(30 6 * * ? *)"
    assert stored["ScheduleExpressionTimezone"] == "Asia/Tokyo"
    assert stored["State"] == "DISABLED"
    assert stored["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 5}
    assert Event.from_json(stored["Target"]["Input"]) == new_event
    assert not updated.enabled and updated.event == new_event
    listed = shell.run(scheduler.list(prefix=prefix))
    assert sorted(s.name for s in listed) == names
    assert all(s.role_arn is None and s.event is None for s in listed)  # a listing holds neither
    assert {s.name for s in shell.run(scheduler.list(prefix=prefix, state="DISABLED"))} == {
        names[0]
    }
    assert shell.run(scheduler.delete(names[1])) is True
    assert shell.run(scheduler.delete(names[1])) is False
    assert shell.run(scheduler.get(names[1])) is None
    assert sorted(s.name for s in shell.run(scheduler.list(prefix=prefix))) == [
        names[0],
        names[2],
    ]
    with pytest.raises(SchedulerError) as info:
        shell.run(scheduler.update(_name("missing"), "rate(1 day)", new_event))
    assert info.value.code == "ResourceNotFoundException"


def test_target_and_role_required(shell: Shell, aws: MotoServer) -> None:
    bare = shell.make(
        "EventBridgeScheduler",
        region=REGION,
        endpoint_url=aws.endpoint_url,
        credentials=aws.credentials,
    )
    with pytest.raises(ConfigError, match="target_arn"):
        shell.run(bare.schedule_rate(_name(), timedelta(minutes=5), _event()))
    with pytest.raises(ConfigError, match="role_arn"):
        shell.run(bare.schedule_rate(_name(), timedelta(minutes=5), _event(), target_arn=TARGET))


def test_from_settings(shell: Shell, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIDIL_EVENTS__SCHEDULER_ROLE_ARN", ROLE)
    monkeypatch.setenv("MIDIL_EVENTS__SCHEDULER_TARGET_ARN", TARGET)
    monkeypatch.setenv("MIDIL_EVENTS__SCHEDULE_GROUP", "jobs")
    scheduler = shell.mod.EventBridgeScheduler.from_settings()
    assert (scheduler.role_arn, scheduler.target_arn, scheduler.group) == (ROLE, TARGET, "jobs")
