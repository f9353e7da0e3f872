"""The ``MIDIL_EVENTS__...`` settings section."""

from __future__ import annotations

import pytest

from midil_common.errors import ConfigError
from midil_common.settings import EventsSettings, known_variables, load_settings


def test_the_events_section_reads_its_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    environment = {
        "MIDIL_EVENTS__QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/orders",
        "MIDIL_EVENTS__DLQ_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/orders-dlq",
        "MIDIL_EVENTS__REGION": "eu-west-1",
        "MIDIL_EVENTS__ENDPOINT_URL": "http://localhost:5000",
        "MIDIL_EVENTS__BUS_NAME": "orders-bus",
        "MIDIL_EVENTS__SOURCE": "com.example.orders",
        "MIDIL_EVENTS__SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/scheduler",
        "MIDIL_EVENTS__SCHEDULER_TARGET_ARN": "arn:aws:sqs:eu-west-1:123456789012:jobs",
        "MIDIL_EVENTS__SCHEDULE_GROUP": "reports",
        "MIDIL_EVENTS__WAIT_TIME_SECONDS": "5",
        "MIDIL_EVENTS__VISIBILITY_TIMEOUT": "60",
        "MIDIL_EVENTS__CONCURRENCY": "4",
        "MIDIL_EVENTS__MAX_MESSAGES": "7",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    events = load_settings().events
    assert events.queue_url == environment["MIDIL_EVENTS__QUEUE_URL"]
    assert events.region == "eu-west-1" and events.endpoint_url == "http://localhost:5000"
    assert (events.bus_name, events.source, events.schedule_group) == (
        "orders-bus",
        "com.example.orders",
        "reports",
    )
    assert (
        events.wait_time_seconds,
        events.visibility_timeout,
        events.concurrency,
        events.max_messages,
    ) == (5, 60, 4, 7)
    assert set(environment) <= known_variables()


def test_the_defaults() -> None:
    events = EventsSettings()
    assert events.queue_url is None and events.region is None
    assert (events.bus_name, events.schedule_group, events.wait_time_seconds) == (
        "default",
        "default",
        20,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MIDIL_EVENTS__QUEUE_URL", "sqs://queue"),
        ("MIDIL_EVENTS__QUEUE_URL", "https://user:pw@sqs.example/q"),
        ("MIDIL_EVENTS__DLQ_URL", "https:///no-host"),
        ("MIDIL_EVENTS__ENDPOINT_URL", "http://localhost:99999"),
        ("MIDIL_EVENTS__ENDPOINT_URL", "http://local host:5000"),
        ("MIDIL_EVENTS__REGION", "EU-WEST-1"),
        ("MIDIL_EVENTS__REGION", "europe"),
        ("MIDIL_EVENTS__BUS_NAME", "bad bus"),
        ("MIDIL_EVENTS__SOURCE", "aws.orders"),
        ("MIDIL_EVENTS__SCHEDULER_ROLE_ARN", "arn:aws:iam::1:role/x"),
        ("MIDIL_EVENTS__SCHEDULER_TARGET_ARN", "queue"),
        ("MIDIL_EVENTS__SCHEDULE_GROUP", "a/b"),
        ("MIDIL_EVENTS__WAIT_TIME_SECONDS", "21"),
        ("MIDIL_EVENTS__MAX_MESSAGES", "11"),
        ("MIDIL_EVENTS__VISIBILITY_TIMEOUT", "43201"),
    ],
)
def test_a_bad_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert info.value.variable == variable
    assert value not in str(info.value) or len(value) < 3


def test_a_typo_in_the_section_suggests_the_real_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIDIL_EVENTS__QUEUE_UR", "https://q")
    with pytest.raises(ConfigError, match="did you mean MIDIL_EVENTS__QUEUE_URL"):
        load_settings()


@pytest.mark.parametrize(
    "region",
    ["us-east-1", "eu-central-2", "ap-southeast-4", "us-gov-west-1", "cn-north-1", "il-central-1"],
)
def test_real_regions_are_accepted(region: str) -> None:
    assert EventsSettings(region=region).region == region
