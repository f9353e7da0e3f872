"""The event envelope: a CloudEvents 1.0 event, and its JSON format (structured mode).

``Event`` is a frozen pydantic model. On the wire (``to_json``/``to_dict``) attributes take their
CloudEvents names; the kit's three extensions are Python fields with wire names of their own, since
CloudEvents attribute names allow only ``a-z`` and ``0-9``:

=================  ==================
Python field       wire attribute
=================  ==================
``correlation_id`` ``correlationid``
``causation_id``   ``causationid``
``traceparent``    ``traceparent``
=================  ==================

Any other extension attribute lives in ``extensions`` (names ``^[a-z0-9]{1,20}$``, values a string,
a 32-bit integer or a boolean, as the CloudEvents type system allows in JSON). Bytes ``data`` is
written as ``data_base64``.

Reading (``from_json``/``from_dict``) refuses anything that is not a valid CloudEvents 1.0 event
with :class:`~midil_common.errors.InvalidEventError`, in time and memory bounded by ``max_size``;
messages name the attribute and never echo the payload.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Literal

import orjson
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)

from midil_common.errors import InvalidEventError
from midil_common.events._ids import new_uuid4

__all__ = ["DEFAULT_MAX_EVENT_SIZE", "Event", "ExtensionValue"]

DEFAULT_MAX_EVENT_SIZE = 1024 * 1024
"""The longest event text ``Event.from_json`` reads (1 MiB, the largest SQS message)."""

ExtensionValue = StrictBool | StrictInt | StrictStr
"""An extension attribute's value: the CloudEvents types JSON can carry without ambiguity."""

# CloudEvents' String type excludes the C0 and C1 control characters; refusing them also keeps a
# newline out of any header an attribute is later copied into (binary mode, SQS attributes).
_TEXT = r"^[^\x00-\x1f\x7f-\x9f]*$"
# URI and URI-reference attributes hold no whitespace either.
_URI = r"^[^\s\x00-\x1f\x7f-\x9f]*$"
_TEXT_RE = re.compile(_TEXT)

_EXTENSION_NAME = re.compile(r"[a-z0-9]{1,20}")
_INT32 = (-(2**31), 2**31 - 1)

# Wire name -> Python field, for the string attributes read as they are.
_STRING_ATTRIBUTES = {
    "id": "id",
    "source": "source",
    "type": "type",
    "subject": "subject",
    "datacontenttype": "datacontenttype",
    "dataschema": "dataschema",
    "correlationid": "correlation_id",
    "causationid": "causation_id",
    "traceparent": "traceparent",
}
_WIRE_NAME = {field: wire for wire, field in _STRING_ATTRIBUTES.items()}
_RESERVED = frozenset({*_STRING_ATTRIBUTES, "specversion", "time", "data", "data_base64"})
_REQUIRED = ("id", "source", "type", "specversion")

# RFC 3339 date-time; [0-9] rather than \d, which would also match other scripts' digits.
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?"
    r"(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))"
)
_MAX_TIME_LENGTH = 64


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _default_content_type(values: dict[str, Any]) -> str | None:
    # The JSON format reads data without a content type as JSON; saying so keeps the event
    # self-describing once it travels in other formats (binary mode, SQS attributes).
    data = values.get("data")
    return None if data is None or isinstance(data, bytes) else "application/json"


def _short(text: str) -> str:
    """A name from untrusted input, cut short enough for an error message."""
    return repr(text) if len(text) <= 40 else repr(text[:40]) + "..."


def _invalid(exc: ValidationError) -> InvalidEventError:
    """The first error of ``exc``, naming the wire attribute, without the input."""
    error = exc.errors(include_url=False, include_input=False, include_context=False)[0]
    loc = error["loc"]
    name = str(loc[0]) if loc else "event"
    if name == "extensions" and len(loc) > 1:
        name = str(loc[1])
    name = _WIRE_NAME.get(name, name)
    return InvalidEventError(f"invalid event attribute {_short(name)}: {error['msg'][:200]}")


def _format_time(value: datetime) -> str:
    text = value.isoformat()
    # ``time`` is normalised to UTC on the way in, so the offset is always +00:00.
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _parse_time(value: Any) -> datetime:
    if type(value) is not str or len(value) > _MAX_TIME_LENGTH:
        raise InvalidEventError("invalid event attribute 'time': not an RFC 3339 timestamp")
    match = _RFC3339.fullmatch(value)
    if match is None:
        raise InvalidEventError("invalid event attribute 'time': not an RFC 3339 timestamp")
    year, month, day, hour, minute, second, fraction, sign, off_h, off_m = match.groups()
    try:
        tz = timezone.utc
        if sign is not None:
            offset = timedelta(hours=int(off_h), minutes=int(off_m))
            if int(off_m) > 59:
                raise ValueError("offset minutes")
            tz = timezone(-offset if sign == "-" else offset)
        # Python keeps microseconds: further digits are dropped, not rounded (rounding could carry
        # into the next second, minute, ... year).
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        parsed = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tz
        )
        return parsed.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        # A leap second (:60), day 31 of a 30-day month, an offset beyond 24 hours, a year the
        # offset moves out of range.
        raise InvalidEventError(
            "invalid event attribute 'time': not a valid date and time"
        ) from None


class Event(BaseModel):
    """A CloudEvents 1.0 event.

    ``source`` and ``type`` are required; ``id`` defaults to a new uuid4 string and ``time`` to now
    (timezone-aware times only, stored in UTC). ``datacontenttype`` defaults to
    ``"application/json"`` when ``data`` is given and is not bytes. ``data`` is any JSON value, or
    bytes (written as ``data_base64``). The model is frozen; :meth:`evolve` returns a changed copy.

    Invalid attributes raise :class:`~midil_common.errors.InvalidEventError` naming the attribute.

    Example::

        event = Event(type="com.example.user.created", source="/users", data={"id": 7})
        Event.from_json(event.to_json()) == event
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    id: str = Field(default_factory=new_uuid4, min_length=1, pattern=_TEXT)
    source: str = Field(min_length=1, pattern=_URI)
    type: str = Field(min_length=1, pattern=_TEXT)
    specversion: Literal["1.0"] = "1.0"
    time: AwareDatetime = Field(default_factory=_utcnow)
    subject: str | None = Field(default=None, pattern=_TEXT)
    # ``data`` precedes ``datacontenttype``: the latter's default is computed from the former.
    data: Any = Field(default=None, repr=False)
    datacontenttype: str | None = Field(
        default_factory=_default_content_type, min_length=1, pattern=_TEXT
    )
    dataschema: str | None = Field(default=None, min_length=1, pattern=_URI)
    correlation_id: str | None = Field(default=None, min_length=1, pattern=_TEXT)
    causation_id: str | None = Field(default=None, min_length=1, pattern=_TEXT)
    traceparent: str | None = Field(default=None, min_length=1, pattern=_TEXT)
    extensions: Mapping[str, ExtensionValue] = Field(default_factory=dict)

    if not TYPE_CHECKING:
        # Hidden from type checkers so they keep the field-by-field signature pydantic's plugin
        # derives; at run time it turns pydantic's ValidationError into the kit's own error.
        def __init__(self, /, **values: Any) -> None:
            try:
                super().__init__(**values)
            except ValidationError as exc:
                # from None: the chained error would carry the offending input.
                raise _invalid(exc) from None

    @field_validator("time")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        try:
            return value.astimezone(timezone.utc)
        except OverflowError:
            # 0001-01-01 at +01:00 is a valid datetime that UTC cannot hold; a ValueError here
            # becomes InvalidEventError naming ``time`` (an OverflowError would escape as is).
            raise ValueError("out of the range of dates once in UTC") from None

    @field_validator("extensions")
    @classmethod
    def _check_extensions(cls, value: Mapping[str, Any]) -> Mapping[str, Any]:
        for name, item in value.items():
            if _EXTENSION_NAME.fullmatch(name) is None:
                raise ValueError(
                    f"extension attribute name {_short(name)} must match ^[a-z0-9]{{1,20}}$"
                )
            if name in _RESERVED:
                raise ValueError(f"{name!r} is not an extension attribute; use its own field")
            if type(item) is int and not _INT32[0] <= item <= _INT32[1]:
                raise ValueError(f"extension {name!r} must be a 32-bit integer")
            # fullmatch: with match, the pattern's ``$`` also matches before a final newline.
            if type(item) is str and _TEXT_RE.fullmatch(item) is None:
                raise ValueError(f"extension {name!r} must not hold control characters")
        return value

    def __hash__(self) -> int:
        # CloudEvents identifies an event by source and id; hashing them keeps events usable in
        # sets even when ``data`` is a dict (equal events always share source and id).
        return hash((self.id, self.source))

    # ------------------------------------------------------------------------------- writing

    def to_dict(self) -> dict[str, Any]:
        """The CloudEvents JSON object (structured mode, wire names); ``data`` is not copied."""
        out: dict[str, Any] = {
            "specversion": "1.0",
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": _format_time(self.time),
        }
        values = self.__dict__
        for wire, field in _STRING_ATTRIBUTES.items():
            if wire not in out and values[field] is not None:
                out[wire] = values[field]
        if self.extensions:
            out.update(self.extensions)
        data = self.data
        if isinstance(data, bytes):
            out["data_base64"] = base64.b64encode(data).decode("ascii")
        elif data is not None:
            out["data"] = data
        return out

    def to_json(self) -> str:
        """The event in the CloudEvents JSON format (structured mode).

        Raises ``InvalidEventError`` when ``data`` is not JSON-serialisable (non-string keys,
        integers beyond 64 bits, nesting deeper than 254 levels, lone surrogates, ...).
        """
        try:
            return orjson.dumps(self.to_dict()).decode()
        except (orjson.JSONEncodeError, UnicodeError):
            raise InvalidEventError(
                "invalid event attribute 'data': not serialisable as JSON"
            ) from None

    # ------------------------------------------------------------------------------- reading

    @classmethod
    def from_json(cls, text: str | bytes, *, max_size: int = DEFAULT_MAX_EVENT_SIZE) -> Event:
        """Read an event in the CloudEvents JSON format (structured mode).

        Text longer than ``max_size`` (characters or bytes) is refused before parsing. Raises
        ``InvalidEventError`` for anything but one valid CloudEvents 1.0 JSON object.
        """
        if not isinstance(text, (str, bytes, bytearray, memoryview)):
            raise InvalidEventError("an event must be JSON text (str or bytes)")
        if len(text) > max_size:
            raise InvalidEventError(f"the event is longer than {max_size} characters")
        try:
            # orjson refuses NaN, Infinity, invalid UTF-8, lone surrogates, numbers it cannot hold
            # and nesting beyond 1024 levels, all in time linear in the text.
            obj = orjson.loads(text)
        except orjson.JSONDecodeError:
            # from None: the decoder's message quotes the text around the error.
            raise InvalidEventError("the event is not valid JSON") from None
        return cls.from_dict(obj)

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> Event:
        """Read the CloudEvents JSON object (structured mode, wire names), e.g. a decoded body.

        A null attribute counts as absent; a missing ``time`` becomes the time of reading.
        Raises ``InvalidEventError`` naming the first invalid attribute.
        """
        if not isinstance(obj, Mapping):
            raise InvalidEventError("an event must be a JSON object")
        for name in _REQUIRED:
            if obj.get(name) is None:
                raise InvalidEventError(f"the event has no {name!r} attribute")
        if obj["specversion"] != "1.0":
            raise InvalidEventError("invalid event attribute 'specversion': only '1.0' is read")
        values: dict[str, Any] = {}
        extensions: dict[str, Any] = {}
        encoded: Any = None
        for key, value in obj.items():
            if type(key) is not str:
                raise InvalidEventError("event attribute names must be strings")
            if value is None or key == "specversion":
                continue
            field = _STRING_ATTRIBUTES.get(key)
            if field is not None:
                if type(value) is not str:
                    raise InvalidEventError(f"invalid event attribute {key!r}: must be a string")
                values[field] = value
            elif key == "time":
                values["time"] = _parse_time(value)
            elif key == "data":
                values["data"] = value
            elif key == "data_base64":
                encoded = value
            elif _EXTENSION_NAME.fullmatch(key) is not None:
                extensions[key] = value
            else:
                raise InvalidEventError(f"illegal extension attribute name {_short(key)}")
        if encoded is not None:
            if "data" in values:
                raise InvalidEventError("the event has both 'data' and 'data_base64'")
            values["data"] = _decode_base64(encoded)
        if extensions:
            values["extensions"] = extensions
        return cls(**values)

    # ------------------------------------------------------------------------------- copying

    def evolve(self, **changes: Any) -> Event:
        """A copy with ``changes`` applied (validated like a new event)."""
        return type(self)(**{**self.__dict__, **changes})


def _decode_base64(value: Any) -> bytes:
    if type(value) is not str:
        raise InvalidEventError("invalid event attribute 'data_base64': must be a string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidEventError("invalid event attribute 'data_base64': not base64") from None
