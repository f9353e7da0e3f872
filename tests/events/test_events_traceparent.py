"""W3C traceparent: strict parsing, formatting, new ids from an injected rng."""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from midil_common.errors import InvalidEventError
from midil_common.events import TraceParent

VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_parse_and_format() -> None:
    tp = TraceParent.parse(VALID)
    assert tp == TraceParent("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", 1)
    assert tp.sampled and tp.version == "00"
    assert str(tp) == tp.format() == VALID
    unsampled = TraceParent.parse(VALID[:-2] + "00")
    assert not unsampled.sampled and unsampled.flags == 0
    assert TraceParent.parse(VALID[:-2] + "ff").flags == 255


@pytest.mark.parametrize(
    "text",
    [
        "",
        VALID[:-1],
        VALID + "-",
        VALID + "0",
        VALID.upper(),
        VALID.replace("4bf9", "4BF9"),
        "ff" + VALID[2:],
        "0g" + VALID[2:],
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
        " " + VALID,
        VALID + " ",
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",  # higher version, no dash
        "00-\uff14bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "02-" + "a" * 32 + "-" + "b" * 16 + "-01-" + "c" * 600,
    ],
)
def test_invalid_values_are_refused(text: str) -> None:
    with pytest.raises(InvalidEventError):
        TraceParent.parse(text)


def test_non_strings_are_refused() -> None:
    with pytest.raises(InvalidEventError):
        TraceParent.parse(b"x" * 55)  # type: ignore[arg-type]
    with pytest.raises(InvalidEventError):
        TraceParent.parse(None)  # type: ignore[arg-type]


def test_a_higher_version_is_read_by_the_forward_compatibility_rule() -> None:
    tp = TraceParent.parse("cc" + VALID[2:] + "-what-the-future-adds")
    assert tp == TraceParent.parse(VALID)
    assert tp.format() == VALID  # written back as the version the kit speaks
    assert TraceParent.parse("01" + VALID[2:]) == tp


def test_construction_is_validated() -> None:
    with pytest.raises(InvalidEventError, match="trace_id"):
        TraceParent("0" * 32, "1" * 16)
    with pytest.raises(InvalidEventError, match="parent_id"):
        TraceParent("1" * 32, "A" * 16)
    with pytest.raises(InvalidEventError, match="flags"):
        TraceParent("1" * 32, "1" * 16, 256)


def test_new_and_child_use_the_injected_rng() -> None:
    a = TraceParent.new(random.Random(7))
    assert a == TraceParent.new(random.Random(7))
    assert a.sampled and not TraceParent.new(sampled=False).sampled
    child = a.child(random.Random(8))
    assert child.trace_id == a.trace_id and child.parent_id != a.parent_id
    assert child.flags == a.flags
    assert TraceParent.new() != TraceParent.new()  # the operating system's generator


class ZeroThenRandom(random.Random):
    """An rng whose first draws are zero: ids are never all zero."""

    def __init__(self) -> None:
        super().__init__(1)
        self.zeros = 2

    def getrandbits(self, k: int, /) -> int:
        if self.zeros:
            self.zeros -= 1
            return 0
        return super().getrandbits(k)


def test_all_zero_draws_are_redrawn() -> None:
    tp = TraceParent.new(ZeroThenRandom())
    assert tp.trace_id.strip("0") and tp.parent_id.strip("0")


hex_ = "0123456789abcdef"


@given(
    st.text(hex_, min_size=32, max_size=32).filter(lambda s: s.strip("0")),
    st.text(hex_, min_size=16, max_size=16).filter(lambda s: s.strip("0")),
    st.integers(0, 255),
)
def test_format_then_parse_round_trips(trace_id: str, parent_id: str, flags: int) -> None:
    tp = TraceParent(trace_id, parent_id, flags)
    text = tp.format()
    assert len(text) == 55
    assert TraceParent.parse(text) == tp


@given(st.text(max_size=600) | st.text("0123456789abcdef-", max_size=80))
def test_arbitrary_text_raises_only_invalid_event_error(text: str) -> None:
    try:
        tp = TraceParent.parse(text)
    except InvalidEventError:
        return
    assert len(tp.format()) == 55


def test_long_values_are_refused_unread() -> None:
    started = time.perf_counter()
    for _ in range(100):
        with pytest.raises(InvalidEventError):
            TraceParent.parse("01" + VALID[2:] + "-" + "x" * 1_000_000)
    assert time.perf_counter() - started < 1.0
