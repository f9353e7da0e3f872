"""``Event`` given hostile values through the constructor and ``evolve``: a control character at
the very end of an extension, a time that leaves the datetime range once in UTC. Each is refused
with ``InvalidEventError`` naming the attribute, as ``from_dict`` refuses them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from midil_common.errors import InvalidEventError
from midil_common.events import Event

BASE = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}


@pytest.mark.parametrize("value", ["ab\n", "ab\r\n", "\n", "a\nb", "ab\x85"])
def test_an_extension_ending_in_a_control_character_is_refused(value: str) -> None:
    with pytest.raises(InvalidEventError, match="myext"):
        Event.from_dict({**BASE, "myext": value})
    with pytest.raises(InvalidEventError, match="myext"):
        Event(source="/s", type="t", extensions={"myext": value})
    with pytest.raises(InvalidEventError, match="myext"):
        Event(source="/s", type="t").evolve(extensions={"myext": value})


def test_an_extension_of_plain_text_is_kept() -> None:
    assert Event.from_dict({**BASE, "myext": "ab c"}).extensions == {"myext": "ab c"}


AHEAD = timezone(timedelta(hours=1))
BEHIND = timezone(timedelta(hours=-1))


@pytest.mark.parametrize(
    "when",
    [
        datetime(1, 1, 1, tzinfo=AHEAD),
        "0001-01-01T00:00:00+01:00",
        datetime.max.replace(tzinfo=BEHIND),
        "9999-12-31T23:59:59-01:00",
    ],
)
def test_a_time_out_of_range_in_utc_is_an_invalid_event(when: datetime | str) -> None:
    with pytest.raises(InvalidEventError, match="'time'"):
        Event(source="/s", type="t", time=when)
    with pytest.raises(InvalidEventError, match="'time'"):
        Event(source="/s", type="t").evolve(time=when)


def test_the_ends_of_the_range_in_utc_are_kept() -> None:
    low = datetime(1, 1, 1, tzinfo=timezone.utc)
    high = datetime.max.replace(tzinfo=timezone.utc)
    assert Event(source="/s", type="t", time=low).time == low
    assert Event(source="/s", type="t", time=high).time == high
