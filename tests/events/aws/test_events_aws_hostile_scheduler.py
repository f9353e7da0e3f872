"""The scheduler helpers given values at the edges: a one-time schedule near the ends of the
datetime range, an early year, a ``GetSchedule``/``ListSchedules`` answer with an absurd flexible
window. Each gives a well-formed value or a typed error, never a bare ``OverflowError``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from midil_common.errors import ConfigError
from midil_common.events.scheduler import at_expression
from midil_common.events.schedules import schedule_of


@pytest.mark.parametrize(
    ("when", "zone"),
    [
        (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))), None),  # before year 1 in UTC
        (datetime.max.replace(tzinfo=timezone.utc), None),  # rounds up past year 9999
        (datetime(9999, 12, 31, 23, 30, tzinfo=timezone.utc), "Asia/Tokyo"),
    ],
)
def test_a_time_out_of_range_once_converted_is_a_config_error(
    when: datetime, zone: str | None
) -> None:
    with pytest.raises(ConfigError) as caught:
        at_expression(when, zone)
    assert caught.value.variable == "when"


def test_early_years_are_written_with_four_digits() -> None:
    assert at_expression(datetime(5, 1, 1, tzinfo=timezone.utc)) == (
        "at(0005-01-01T00:00:00)",
        "UTC",
    )
    assert at_expression(datetime(999, 12, 31, 23, 59, 59, 1), "UTC")[0] == (
        "at(1000-01-01T00:00:00)"
    )


@pytest.mark.parametrize("minutes", [10**20, 1441, 0, -5, True, "15"])
def test_a_flexible_window_out_of_the_services_range_is_read_as_invalid(minutes: object) -> None:
    answer = {
        "Name": "s",
        "FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": minutes},
    }
    assert schedule_of(answer).flexible_window is None


@pytest.mark.parametrize("minutes", [1, 15, 1440])
def test_a_flexible_window_in_range_is_read(minutes: int) -> None:
    answer = {
        "Name": "s",
        "FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": minutes},
    }
    assert schedule_of(answer).flexible_window == timedelta(minutes=minutes)
