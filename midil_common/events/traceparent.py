"""W3C Trace Context ``traceparent`` (https://www.w3.org/TR/trace-context/), parsed strictly.

``00-<trace-id>-<parent-id>-<flags>``: 32 and 16 lowercase hex digits, neither all zeros, and two
hex digits of flags. Version ``ff`` is invalid. A higher version is read as the specification's
forward-compatibility rule says (section 4.3, "Versioning of traceparent"): at least 55 characters,
the version-00 fields first, then the end or a ``-``; what follows is ignored and the value is
written back as version 00, the only version the kit speaks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from midil_common.errors import InvalidEventError
from midil_common.events._ids import RandomBits, random_hex

__all__ = ["MAX_TRACEPARENT_LENGTH", "TraceParent"]

MAX_TRACEPARENT_LENGTH = 512
"""Longer header values are refused unread (a future version has no reason to be this long)."""

_HEX = frozenset("0123456789abcdef")
_FIELDS = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")


def _is_hex(text: str, length: int) -> bool:
    return len(text) == length and _HEX.issuperset(text) and text.strip("0") != ""


@dataclass(frozen=True, slots=True)
class TraceParent:
    """A W3C ``traceparent``: the trace id, the caller's span id (``parent_id``) and trace flags.

    ``str(tp)`` and ``tp.format()`` give the version-00 header value (55 characters).
    """

    trace_id: str
    parent_id: str
    flags: int = 1

    version = "00"
    """The version the kit writes."""

    def __post_init__(self) -> None:
        if type(self.trace_id) is not str or not _is_hex(self.trace_id, 32):
            raise InvalidEventError("trace_id must be 32 lowercase hex digits, not all zero")
        if type(self.parent_id) is not str or not _is_hex(self.parent_id, 16):
            raise InvalidEventError("parent_id must be 16 lowercase hex digits, not all zero")
        if type(self.flags) is not int or not 0 <= self.flags <= 255:
            raise InvalidEventError("flags must be an integer from 0 to 255")

    @property
    def sampled(self) -> bool:
        """The ``sampled`` flag: the caller may have recorded this trace."""
        return bool(self.flags & 1)

    @classmethod
    def parse(cls, text: str) -> TraceParent:
        """Read a ``traceparent`` header value; raises ``InvalidEventError`` if it is not valid."""
        if type(text) is not str or not 55 <= len(text) <= MAX_TRACEPARENT_LENGTH:
            raise InvalidEventError("traceparent is not a valid W3C trace context")
        match = _FIELDS.match(text)
        if match is None:
            raise InvalidEventError("traceparent is not a valid W3C trace context")
        version, trace_id, parent_id, flags = match.groups()
        if version == "ff" or (version == "00" and len(text) != 55):
            raise InvalidEventError("traceparent is not a valid W3C trace context")
        if len(text) > 55 and text[55] != "-":
            # A higher version may append fields, always after a dash.
            raise InvalidEventError("traceparent is not a valid W3C trace context")
        if trace_id.strip("0") == "" or parent_id.strip("0") == "":
            raise InvalidEventError("traceparent names an all-zero trace or span id")
        return cls._trusted(trace_id, parent_id, int(flags, 16))

    @classmethod
    def _trusted(cls, trace_id: str, parent_id: str, flags: int) -> TraceParent:
        """An instance from fields already checked (parsed or generated): skips re-validation, as
        a new span is made for every event handled."""
        self = object.__new__(cls)
        # The slots' own setters: a frozen dataclass refuses setattr, and object.__setattr__ costs
        # more per field.
        _set_trace_id(self, trace_id)
        _set_parent_id(self, parent_id)
        _set_flags(self, flags)
        return self

    @classmethod
    def new(cls, rng: RandomBits | None = None, *, sampled: bool = True) -> TraceParent:
        """A new trace (random ids from ``rng``, by default the operating system's generator)."""
        return cls._trusted(random_hex(16, rng), random_hex(8, rng), 1 if sampled else 0)

    def child(self, rng: RandomBits | None = None) -> TraceParent:
        """The same trace with a new span id: the context of work this span starts."""
        return TraceParent._trusted(self.trace_id, random_hex(8, rng), self.flags)

    def format(self) -> str:
        """The version-00 header value."""
        return f"00-{self.trace_id}-{self.parent_id}-{self.flags:02x}"

    def __str__(self) -> str:
        return self.format()


_set_trace_id = TraceParent.__dict__["trace_id"].__set__
_set_parent_id = TraceParent.__dict__["parent_id"].__set__
_set_flags = TraceParent.__dict__["flags"].__set__
