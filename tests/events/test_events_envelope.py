"""The CloudEvents envelope: construction, the JSON format, hostile input, SDK interop."""

from __future__ import annotations

import base64
import contextlib
import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from midil_common.errors import InvalidEventError
from midil_common.events import Event

TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def full_event(**changes: Any) -> Event:
    values: dict[str, Any] = {
        "type": "com.example.user.created",
        "source": "https://example.com/users",
        "subject": "users/7",
        "data": {"id": 7, "name": "Ada", "tags": ["a", "b"], "score": 1.5, "ok": True},
        "dataschema": "https://example.com/schemas/user.json",
        "correlation_id": "corr-1",
        "causation_id": "cause-1",
        "traceparent": TP,
        "extensions": {"tenant": "acme", "priority": 3, "internal": False},
        "time": datetime(2024, 5, 1, 12, 30, 45, 123456, tzinfo=timezone.utc),
    }
    values.update(changes)
    return Event(**values)


# ------------------------------------------------------------------------------ construction


def test_defaults() -> None:
    event = Event(type="user.created", source="/users", data={"id": 1})
    assert event.specversion == "1.0"
    assert len(event.id) == 36 and event.id[14] == "4"
    assert event.time.tzinfo is timezone.utc
    assert abs(event.time - datetime.now(timezone.utc)) < timedelta(seconds=5)
    assert event.datacontenttype == "application/json"
    assert event.extensions == {}
    assert event.correlation_id is event.causation_id is event.traceparent is None
    assert Event(type="t", source="s").datacontenttype is None  # no data, no content type
    assert Event(type="t", source="s", data=b"x").datacontenttype is None
    assert Event(type="t", source="s", data={}, datacontenttype="text/plain").datacontenttype == (
        "text/plain"
    )
    assert Event(type="t", source="s").id != Event(type="t", source="s").id


def test_time_must_be_aware_and_is_stored_in_utc() -> None:
    with pytest.raises(InvalidEventError, match="'time'"):
        Event(type="t", source="s", time=datetime(2024, 1, 1))
    plus2 = timezone(timedelta(hours=2))
    event = Event(type="t", source="s", time=datetime(2024, 1, 1, 2, tzinfo=plus2))
    assert event.time == datetime(2024, 1, 1, tzinfo=timezone.utc)
    assert event.time.tzinfo is timezone.utc


def test_frozen_hashable_and_evolve() -> None:
    event = full_event()
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        event.type = "other"  # type: ignore[misc]
    assert hash(event) == hash(Event.from_json(event.to_json()))
    assert len({event, Event.from_json(event.to_json())}) == 1
    changed = event.evolve(subject="users/8")
    assert changed.subject == "users/8" and changed.id == event.id and event.subject == "users/7"
    with pytest.raises(InvalidEventError, match="'type'"):
        event.evolve(type="")


@pytest.mark.parametrize(
    ("values", "attribute"),
    [
        ({"type": "", "source": "s"}, "type"),
        ({"source": "s"}, "type"),
        ({"type": "t"}, "source"),
        ({"type": "t", "source": ""}, "source"),
        ({"type": "t", "source": "has space"}, "source"),
        ({"type": "t\n", "source": "s"}, "type"),
        ({"type": "t", "source": "s", "id": ""}, "id"),
        ({"type": "t", "source": "s", "specversion": "0.3"}, "specversion"),
        ({"type": "t", "source": "s", "correlation_id": "a\x00b"}, "correlationid"),
        ({"type": "t", "source": "s", "subject": "\x85"}, "subject"),
        ({"type": "t", "source": "s", "nope": 1}, "nope"),
        ({"type": "t", "source": "s", "extensions": {"Bad": "x"}}, "extensions"),
        ({"type": "t", "source": "s", "extensions": {"a" * 21: "x"}}, "extensions"),
        ({"type": "t", "source": "s", "extensions": {"traceparent": "x"}}, "extensions"),
        ({"type": "t", "source": "s", "extensions": {"data": "x"}}, "extensions"),
        ({"type": "t", "source": "s", "extensions": {"x": 1.5}}, "x"),
        ({"type": "t", "source": "s", "extensions": {"x": None}}, "x"),
        ({"type": "t", "source": "s", "extensions": {"x": 2**31}}, "extensions"),
        ({"type": "t", "source": "s", "extensions": {"x": "a\nb"}}, "extensions"),
    ],
)
def test_invalid_attributes_raise_invalid_event_error_naming_them(
    values: dict[str, Any], attribute: str
) -> None:
    with pytest.raises(InvalidEventError) as info:
        Event(**values)
    assert repr(attribute) in str(info.value)
    assert isinstance(info.value, ValueError)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_extension_values_of_the_cloudevents_type_system() -> None:
    event = Event(
        type="t", source="s", extensions={"a": "x", "b": -(2**31), "c": 2**31 - 1, "d": True}
    )
    assert event.extensions == {"a": "x", "b": -(2**31), "c": 2**31 - 1, "d": True}
    assert type(event.extensions["d"]) is bool


# ------------------------------------------------------------------------------ the JSON format


def test_to_json_writes_wire_names_in_structured_mode() -> None:
    event = full_event()
    wire = json.loads(event.to_json())
    assert wire == {
        "specversion": "1.0",
        "id": wire["id"],
        "source": "https://example.com/users",
        "type": "com.example.user.created",
        "time": "2024-05-01T12:30:45.123456Z",
        "subject": "users/7",
        "datacontenttype": "application/json",
        "dataschema": "https://example.com/schemas/user.json",
        "correlationid": "corr-1",
        "causationid": "cause-1",
        "traceparent": TP,
        "tenant": "acme",
        "priority": 3,
        "internal": False,
        "data": {"id": 7, "name": "Ada", "tags": ["a", "b"], "score": 1.5, "ok": True},
    }
    assert event.to_dict() == wire
    minimal = json.loads(
        Event(type="t", source="s", time=datetime(2024, 1, 1, tzinfo=timezone.utc)).to_json()
    )
    assert minimal["time"] == "2024-01-01T00:00:00Z"
    assert set(minimal) == {"specversion", "id", "source", "type", "time"}


def test_bytes_data_is_written_as_data_base64() -> None:
    event = Event(
        type="t", source="s", data=b"\x00\xffbin", datacontenttype="application/octet-stream"
    )
    wire = json.loads(event.to_json())
    assert "data" not in wire and base64.b64decode(wire["data_base64"]) == b"\x00\xffbin"
    assert Event.from_json(event.to_json()) == event


def test_round_trip() -> None:
    event = full_event()
    assert Event.from_json(event.to_json()) == event
    assert Event.from_json(event.to_json().encode()) == event
    assert Event.from_dict(event.to_dict()) == event


def test_reading_accepts_what_the_spec_allows() -> None:
    base = {"specversion": "1.0", "id": "1", "source": "s", "type": "t"}
    event = Event.from_dict({**base, "time": "2024-01-01T01:00:00.5+01:00", "subject": None})
    assert event.time == datetime(2024, 1, 1, 0, 0, 0, 500000, tzinfo=timezone.utc)
    assert event.subject is None  # null counts as absent
    nanos = Event.from_dict({**base, "time": "2024-01-01t00:00:00.123456789z"})
    assert nanos.time.microsecond == 123456
    assert Event.from_dict({**base, "data": None}).data is None
    assert Event.from_dict({**base, "data": "text", "datacontenttype": "text/plain"}).data == "text"
    # No time: the time of reading.
    assert abs(Event.from_dict(base).time - datetime.now(timezone.utc)) < timedelta(seconds=5)
    # Without datacontenttype the JSON format's data is JSON.
    assert Event.from_dict({**base, "data": [1]}).datacontenttype == "application/json"


BASE = '"specversion":"1.0","id":"1","source":"s","type":"t"'


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "not valid JSON"),
        ("{", "not valid JSON"),
        ("[]", "JSON object"),
        ('"x"', "JSON object"),
        ("null", "JSON object"),
        ("{}", "'id'"),
        ('{"specversion":"1.0","source":"s","type":"t"}', "'id'"),
        ('{"specversion":"1.0","id":"1","type":"t"}', "'source'"),
        ('{"specversion":"1.0","id":"1","source":"s"}', "'type'"),
        ('{"id":"1","source":"s","type":"t"}', "'specversion'"),
        ('{"specversion":"0.3","id":"1","source":"s","type":"t"}', "'specversion'"),
        ('{"specversion":1.0,"id":"1","source":"s","type":"t"}', "'specversion'"),
        ('{"specversion":"1.0","id":1,"source":"s","type":"t"}', "'id'"),
        ('{"specversion":"1.0","id":"","source":"s","type":"t"}', "'id'"),
        ('{"specversion":"1.0","id":"1","source":["s"],"type":"t"}', "'source'"),
        ("{" + BASE + ',"time":"2024-01-01"}', "'time'"),
        ("{" + BASE + ',"time":"2024-01-01T00:00:00"}', "'time'"),
        ("{" + BASE + ',"time":"2024-02-30T00:00:00Z"}', "'time'"),
        ("{" + BASE + ',"time":"2024-01-01T00:00:60Z"}', "'time'"),
        ("{" + BASE + ',"time":"2024-01-01T00:00:00+24:00"}', "'time'"),
        ("{" + BASE + ',"time":"\uff12\uff10\uff12\uff14-01-01T00:00:00Z"}', "'time'"),
        ("{" + BASE + ',"time":1704067200}', "'time'"),
        ("{" + BASE + ',"Tenant":"x"}', "'Tenant'"),
        ("{" + BASE + ',"ten-ant":"x"}', "extension attribute name"),
        ("{" + BASE + ',"abcdefghijklmnopqrstu":"x"}', "extension attribute name"),
        ("{" + BASE + ',"ext":1.5}', "'ext'"),
        ("{" + BASE + ',"ext":{"a":1}}', "'ext'"),
        ("{" + BASE + ',"ext":4294967296}', "'extensions'"),
        ("{" + BASE + ',"data":1,"data_base64":"AA=="}', "both 'data' and 'data_base64'"),
        ("{" + BASE + ',"data_base64":"not base64!"}', "'data_base64'"),
        ("{" + BASE + ',"data_base64":5}', "'data_base64'"),
        ("{" + BASE + ',"type":"a\\u0000b"}', "'type'"),
        ("{" + BASE + ',"source":"a\\\\b c"}', "'source'"),
        ("{" + BASE + ',"correlationid":7}', "'correlationid'"),
        ("{" + BASE + ',"data":NaN}', "not valid JSON"),
        ("{" + BASE + ',"data":"\\ud800"}', "not valid JSON"),
    ],
)
def test_bad_input_is_refused_naming_the_attribute(text: str, needle: str) -> None:
    with pytest.raises(InvalidEventError) as info:
        Event.from_json(text)
    assert needle in str(info.value)
    assert info.value.__cause__ is None


def test_non_text_and_non_mapping_input_is_refused() -> None:
    with pytest.raises(InvalidEventError):
        Event.from_json(12)  # type: ignore[arg-type]
    with pytest.raises(InvalidEventError):
        Event.from_dict(["x"])  # type: ignore[arg-type]
    with pytest.raises(InvalidEventError, match="names must be strings"):
        Event.from_dict({"specversion": "1.0", "id": "1", "source": "s", "type": "t", 1: 2})  # type: ignore[dict-item]


def test_unserialisable_data_raises_invalid_event_error() -> None:
    for data in ({1: "x"}, {"big": 2**70}, {"s": "\ud800"}, object()):
        with pytest.raises(InvalidEventError, match="'data'"):
            Event(type="t", source="s", data=data).to_json()
    deep: Any = []
    for _ in range(300):
        deep = [deep]
    with pytest.raises(InvalidEventError, match="'data'"):
        Event(type="t", source="s", data=deep).to_json()


# -------------------------------------------------------------------------------- hostile input


def quick(text: str | bytes, *, limit: float = 1.0) -> InvalidEventError:
    started = time.perf_counter()
    with pytest.raises(InvalidEventError) as info:
        Event.from_json(text)
    assert time.perf_counter() - started < limit
    assert len(str(info.value)) < 300  # never echoes the payload
    return info.value


def test_hostile_input_is_refused_quickly_without_echo() -> None:
    quick("{" + BASE + ',"data":' + "9" * 5000 + "}")
    quick("{" + BASE + ',"data":' + "[" * 10_000 + "]" * 10_000 + "}")
    quick("{" + BASE + ',"data":' + '{"a":' * 10_000 + "1" + "}" * 10_000 + "}")
    quick("x" * 5_000_000)
    quick(b"\xff" * 100)
    quick("{" + BASE + ',"' + "a" * 500_000 + '":"x"}')
    quick("{" + BASE + ',"type":"' + "\\\\" * 200_000 + '\\u0001"}')
    quick('{"specversion":"' + "1" * 500_000 + '","id":"1","source":"s","type":"t"}')
    quick("{" + BASE + ',"time":"' + "2" * 500_000 + '"}')
    quick("{" + BASE + ',"data_base64":"' + "A" * 500_001 + '"}')


def test_max_size_bounds_the_text() -> None:
    event = Event(type="t", source="s", data="x" * 2000)
    assert Event.from_json(event.to_json(), max_size=4096) == event
    with pytest.raises(InvalidEventError, match="longer than 1000"):
        Event.from_json(event.to_json(), max_size=1000)


def test_backslashes_and_unicode_survive_a_round_trip() -> None:
    event = Event(type="a\\b", source="/p\\q", subject="é ✓ \u2028", data={"k\\": '\\"\u0000'})
    assert Event.from_json(event.to_json()) == event


# --------------------------------------------------------------------------------- properties

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=["Cs"])),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(st.characters(exclude_categories=["Cs"]), max_size=8), children, max_size=4
        )
    ),
    max_leaves=12,
)
attribute_text = st.text(
    st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=30
).filter(lambda s: not any("\x80" <= c <= "\x9f" for c in s))
uri_text = st.text(
    st.characters(exclude_categories=["Cs", "Cc", "Zs", "Zl", "Zp"]), min_size=1, max_size=30
).filter(lambda s: not any(c.isspace() or "\x80" <= c <= "\x9f" for c in s))
extension_names = st.from_regex(r"[a-z0-9]{1,20}", fullmatch=True).filter(
    lambda n: (
        n
        not in {
            "id",
            "source",
            "type",
            "subject",
            "datacontenttype",
            "dataschema",
            "correlationid",
            "causationid",
            "traceparent",
            "specversion",
            "time",
            "data",
        }
    )
)
extension_values = st.booleans() | st.integers(-(2**31), 2**31 - 1) | attribute_text
times = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(timezone.utc)
)

events = st.builds(
    Event,
    type=attribute_text,
    source=uri_text,
    id=attribute_text,
    time=times,
    subject=st.none() | attribute_text,
    data=json_values | st.binary(max_size=20),
    correlation_id=st.none() | attribute_text,
    extensions=st.dictionaries(extension_names, extension_values, max_size=3),
)


@given(events)
def test_any_event_round_trips(event: Event) -> None:
    assert Event.from_json(event.to_json()) == event
    assert Event.from_dict(orjson.loads(event.to_json())) == event


@given(st.text() | st.binary())
def test_arbitrary_text_is_an_event_or_invalid_event_error(text: str | bytes) -> None:
    with contextlib.suppress(InvalidEventError):
        Event.from_json(text)


wire_keys = st.sampled_from(
    [
        "specversion",
        "id",
        "source",
        "type",
        "time",
        "subject",
        "data",
        "data_base64",
        "datacontenttype",
        "dataschema",
        "correlationid",
        "traceparent",
        "ext",
        "Ext",
        "a-b",
        "",
    ]
)


@given(st.dictionaries(wire_keys, json_values, max_size=10))
def test_arbitrary_objects_are_an_event_or_invalid_event_error(obj: dict[str, Any]) -> None:
    obj.setdefault("specversion", "1.0")
    try:
        event = Event.from_dict(obj)
    except InvalidEventError:
        return
    assert event.source and event.type and event.id


# ------------------------------------------------------------------------------ SDK interop


def test_the_cloudevents_sdk_reads_what_we_write() -> None:
    from cloudevents.core.formats.json import JSONFormat
    from cloudevents.v1.http import from_json

    event = full_event()
    theirs = from_json(event.to_json())
    assert theirs.get_attributes() == {
        "specversion": "1.0",
        "id": event.id,
        "source": event.source,
        "type": event.type,
        "time": "2024-05-01T12:30:45.123456Z",
        "subject": "users/7",
        "datacontenttype": "application/json",
        "dataschema": event.dataschema,
        "correlationid": "corr-1",
        "causationid": "cause-1",
        "traceparent": TP,
        "tenant": "acme",
        "priority": 3,
        "internal": False,
    }
    assert theirs.get_data() == event.data

    core = JSONFormat().read(None, event.to_json())
    attributes = core.get_attributes()
    assert attributes["time"] == event.time
    assert {k: v for k, v in attributes.items() if k != "time"} == {
        k: v for k, v in event.to_dict().items() if k not in ("time", "data")
    }
    assert core.get_data() == event.data

    binary = Event(type="t", source="s", data=b"\x00\x01")
    assert from_json(binary.to_json()).get_data() == b"\x00\x01"


def test_we_read_what_the_cloudevents_sdk_writes() -> None:
    from cloudevents.core.formats.json import JSONFormat
    from cloudevents.core.v1.event import CloudEvent as CoreEvent
    from cloudevents.v1.conversion import to_json
    from cloudevents.v1.http import CloudEvent

    attributes: dict[str, Any] = {
        "type": "com.example.t",
        "source": "/s",
        "subject": "x",
        "datacontenttype": "application/json",
        "dataschema": "https://example.com/schema",
        "correlationid": "c-9",
        "traceparent": TP,
        "tenant": "acme",
        "priority": 3,
    }
    theirs = CloudEvent(dict(attributes), {"a": [1, 2]})
    ours = Event.from_json(to_json(theirs))
    assert ours.id == theirs["id"] and ours.time == datetime.fromisoformat(theirs["time"])
    written = ours.to_dict()
    assert written.pop("data") == {"a": [1, 2]}
    assert {**written, "time": theirs["time"]} == theirs.get_attributes()
    assert ours.correlation_id == "c-9" and ours.traceparent == TP
    assert ours.extensions == {"tenant": "acme", "priority": 3}

    binary = Event.from_json(to_json(CloudEvent({"type": "t", "source": "s"}, b"\x00\x01")))
    assert binary.data == b"\x00\x01"

    core = CoreEvent(dict(attributes), {"a": 1})
    read = Event.from_json(JSONFormat().write(core))
    assert read.id == core.get_id() and read.time == core.get_time()
    assert read.subject == "x" and read.dataschema == attributes["dataschema"]
    assert read.extensions == {"tenant": "acme", "priority": 3} and read.data == {"a": 1}
