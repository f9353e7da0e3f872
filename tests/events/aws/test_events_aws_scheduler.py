"""EventBridge Scheduler requests: expressions, time zones, windows, idempotent creates."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.session import get_session
from botocore.validate import ParamValidator

from midil_common.errors import ConfigError
from midil_common.events import Event
from midil_common.events.scheduler import (
    at_expression,
    client_token,
    cron_expression,
    flexible_time_window,
    rate_expression,
    same_definition,
    schedule_request,
    validate_schedule_expression,
    validate_timezone,
)

ROLE = "arn:aws:iam::123456789012:role/scheduler"
TARGET = "arn:aws:sqs:us-east-1:123456789012:jobs"


def event(**changes: Any) -> Event:
    return Event(type="report.due", source="/reports", data={"kind": "daily"}, **changes)


def test_at_writes_the_time_without_offset_or_fraction_in_the_schedule_zone() -> None:
    when = datetime(2030, 3, 1, 8, 30, tzinfo=timezone.utc)
    assert at_expression(when) == ("at(2030-03-01T08:30:00)", "UTC")
    assert at_expression(when, "Europe/Berlin") == ("at(2030-03-01T09:30:00)", "Europe/Berlin")
    offset = datetime(2030, 3, 1, 8, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert at_expression(offset) == ("at(2030-03-01T13:30:00)", "UTC")
    assert (
        at_expression(datetime(2030, 3, 1, 8, 30), "America/New_York")[0]
        == "at(2030-03-01T08:30:00)"
    )
    # A fraction rounds up: never earlier than asked.
    assert at_expression(when.replace(microsecond=1))[0] == "at(2030-03-01T08:30:01)"


def test_a_naive_time_without_a_zone_is_refused() -> None:
    with pytest.raises(ConfigError) as info:
        at_expression(datetime(2030, 1, 1))
    assert info.value.variable == "when"
    with pytest.raises(ConfigError) as info:
        at_expression(datetime(2030, 1, 1, tzinfo=timezone.utc), "Not/AZone")
    assert info.value.variable == "timezone"


@pytest.mark.parametrize(
    ("every", "expression"),
    [
        (timedelta(minutes=1), "rate(1 minute)"),
        (timedelta(minutes=5), "rate(5 minutes)"),
        (timedelta(minutes=90), "rate(90 minutes)"),
        (timedelta(hours=1), "rate(1 hour)"),
        (timedelta(hours=36), "rate(36 hours)"),
        (timedelta(days=7), "rate(7 days)"),
    ],
)
def test_rate_uses_the_largest_exact_unit(every: timedelta, expression: str) -> None:
    assert rate_expression(every) == expression
    assert validate_schedule_expression(expression) == expression


@pytest.mark.parametrize(
    "every", [timedelta(seconds=30), timedelta(seconds=90), timedelta(0), -timedelta(minutes=5)]
)
def test_rate_refuses_what_is_not_whole_minutes(every: timedelta) -> None:
    with pytest.raises(ConfigError):
        rate_expression(every)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("0 12 * * ? *", "cron(0 12 * * ? *)"),
        ("cron(15 10 ? * 6L 2022-2023)", "cron(15 10 ? * 6L 2022-2023)"),
        ("cron(0/10 * ? * MON-FRI *)", "cron(0/10 * ? * MON-FRI *)"),
        ("0 8 1 JAN,JUL ? *", "cron(0 8 1 JAN,JUL ? *)"),
        ("0 9 ? * 2#1 *", "cron(0 9 ? * 2#1 *)"),
        ("0 18 L * ? *", "cron(0 18 L * ? *)"),
        ("0 18 15W * ? *", "cron(0 18 15W * ? *)"),
    ],
)
def test_valid_cron_expressions(given: str, expected: str) -> None:
    assert cron_expression(given) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "0 12 * * *",  # five fields (Unix cron)
        "0 12 * * * *",  # neither day field is ?
        "0 12 ? * ? *",  # both are
        "0  12 * * ? *",
        "cron(0 12 * * ? * *)",
        "x 12 * * ? *",
        "0 12 * * ? 20255",
        "0 12 * FOO ? *",
    ],
)
def test_invalid_cron_expressions(expression: str) -> None:
    with pytest.raises(ConfigError) as info:
        cron_expression(expression)
    assert info.value.variable == "expression"


@pytest.mark.parametrize(
    "expression",
    ["at(2030-02-30T00:00:00)", "at(2030-01-01 00:00:00)", "rate(1 minutes)", "rate(2 minute)",
     "rate(0 minutes)", "rate(5 weeks)", "every day", "cron(0 12 * * *)"],
)  # fmt: skip
def test_invalid_schedule_expressions(expression: str) -> None:
    with pytest.raises(ConfigError):
        validate_schedule_expression(expression)


def test_timezones_and_windows() -> None:
    assert validate_timezone("America/Argentina/Buenos_Aires") == "America/Argentina/Buenos_Aires"
    for bad in ("", "Europe/ Berlin", "x" * 51, "..", "Europe/.hidden"):
        with pytest.raises(ConfigError):
            validate_timezone(bad)
    assert flexible_time_window(None) == {"Mode": "OFF"}
    assert flexible_time_window(timedelta(minutes=15)) == {
        "Mode": "FLEXIBLE",
        "MaximumWindowInMinutes": 15,
    }
    for bad in (timedelta(seconds=30), timedelta(minutes=1441), timedelta(seconds=90)):
        with pytest.raises(ConfigError) as info:
            flexible_time_window(bad)
        assert info.value.variable == "flexible_window"


def test_a_request_matches_the_scheduler_service_model() -> None:
    expression, zone = at_expression(datetime(2030, 1, 1, 9, tzinfo=timezone.utc), "Europe/Paris")
    request = schedule_request(
        "report-2030", expression, event(), target_arn=TARGET, role_arn=ROLE, timezone=zone,
        group="reports", flexible_window=timedelta(minutes=5), action_after_completion="DELETE",
    )  # fmt: skip
    assert request["Target"]["Input"] == event(id=Event.from_json(request["Target"]["Input"]).id,
                                               time=Event.from_json(request["Target"]["Input"]).time).to_json()  # fmt: skip
    assert request["ActionAfterCompletion"] == "DELETE" and request["GroupName"] == "reports"
    shape = (
        get_session().get_service_model("scheduler").operation_model("CreateSchedule").input_shape
    )
    params = {**request, "ClientToken": client_token()}
    report = ParamValidator().validate(params, shape)
    assert not report.has_errors(), report.generate_report()


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"name": "has space"}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"group": "a/b"}, "group"),
        ({"role_arn": "arn:aws:iam::123:role/x"}, "role_arn"),
        ({"target_arn": "not-an-arn"}, "target_arn"),
        ({"action_after_completion": "KEEP"}, "action_after_completion"),
        ({"expression": "rate(5 minute)"}, "expression"),
    ],
)
def test_request_arguments_are_validated(kwargs: dict[str, Any], name: str) -> None:
    arguments: dict[str, Any] = {
        "name": "n",
        "expression": "rate(5 minutes)",
        "target_arn": TARGET,
        "role_arn": ROLE,
    }
    arguments.update(kwargs)
    with pytest.raises(ConfigError) as info:
        schedule_request(arguments.pop("name"), arguments.pop("expression"), event(), **arguments)
    assert info.value.variable == name


def test_client_tokens_are_fresh_for_every_create() -> None:
    # A token derived from the definition would make create, delete, create again (within the
    # service's idempotency window) answer from its cache and create nothing.
    tokens = {client_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(len(t) == 64 and int(t, 16) >= 0 for t in tokens)


def test_same_definition_compares_what_get_schedule_returns() -> None:
    request = schedule_request(
        "nightly", "cron(0 2 * * ? *)", event(), target_arn=TARGET, role_arn=ROLE
    )
    stored = {
        "Arn": "arn:aws:scheduler:us-east-1:123456789012:schedule/default/nightly",
        "Name": "nightly",
        "GroupName": "default",
        "ScheduleExpression": "cron(0 2 * * ? *)",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "State": "ENABLED",
        "CreationDate": datetime(2024, 1, 1, tzinfo=timezone.utc),
        "Target": {"Arn": TARGET, "RoleArn": ROLE, "Input": request["Target"]["Input"],
                   "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}},
    }  # fmt: skip
    assert same_definition(request, stored)
    # Re-created at the next deployment with a new Event object: still the same definition.
    again = schedule_request(
        "nightly", "cron(0 2 * * ? *)", event(), target_arn=TARGET, role_arn=ROLE
    )
    assert same_definition(again, stored)
    assert same_definition({**request, "ScheduleExpressionTimezone": "UTC"}, stored)
    assert not same_definition({**request, "ScheduleExpressionTimezone": "Europe/Rome"}, stored)
    assert not same_definition({**request, "ScheduleExpression": "cron(0 3 * * ? *)"}, stored)
    changed = schedule_request("nightly", "cron(0 2 * * ? *)", Event(type="report.due", source="/reports",
                               data={"kind": "weekly"}), target_arn=TARGET, role_arn=ROLE)  # fmt: skip
    assert not same_definition(changed, stored)


@pytest.mark.parametrize("shell", ["sync", "async"])
def test_a_missing_target_or_role_names_the_argument_and_the_setting(
    shell: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    import midil_async
    import midil_sync

    for name in ("SCHEDULER_TARGET_ARN", "SCHEDULER_ROLE_ARN"):
        monkeypatch.delenv(f"MIDIL_EVENTS__{name}", raising=False)
    module: Any = midil_sync if shell == "sync" else midil_async

    def create(scheduler: Any) -> Any:
        made = scheduler.schedule_rate("nightly", timedelta(days=1), event())
        return asyncio.run(made) if shell == "async" else made

    with pytest.raises(ConfigError) as info:
        create(module.EventBridgeScheduler.from_settings())
    assert info.value.variable == "target_arn"
    assert "MIDIL_EVENTS__SCHEDULER_TARGET_ARN" in str(info.value)
    with pytest.raises(ConfigError) as info:
        create(module.EventBridgeScheduler(target_arn=TARGET))
    assert info.value.variable == "role_arn"
    assert "MIDIL_EVENTS__SCHEDULER_ROLE_ARN" in str(info.value)
