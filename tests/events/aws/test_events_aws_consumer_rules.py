"""The consumer's decisions: redelivery backoff, the visibility heartbeat, backpressure, FIFO lanes."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from midil_common.errors import ConfigError
from midil_common.events import Heartbeat, RedeliveryPolicy
from midil_common.events.heartbeat import Lease
from midil_common.events.receiving import (
    message_lanes,
    read_timeout,
    receive_request,
    receive_size,
    release_after_failure,
)
from midil_common.events.redelivery import DeadLetter, Release
from midil_common.events.sqs_codec import ReceivedMessage


class FixedRandom:
    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


# ------------------------------------------------------------------------------ redelivery


def test_the_defaults_are_the_documented_ones() -> None:
    assert RedeliveryPolicy() == RedeliveryPolicy(base=1.0, factor=2.0, cap=43200, jitter=True)


def test_without_jitter_the_wait_doubles_from_one_second_up_to_the_cap() -> None:
    policy = RedeliveryPolicy(jitter=False)
    waits = [policy.visibility_after_failure(n, FixedRandom(0.0)) for n in range(1, 20)]
    assert waits[:5] == [1, 2, 4, 8, 16]
    assert waits[-1] == 43200 and all(type(w) is int for w in waits)
    assert (
        RedeliveryPolicy(jitter=False, cap=100).visibility_after_failure(10_000, FixedRandom(0))
        == 100
    )
    assert RedeliveryPolicy(base=1.5, jitter=False).visibility_after_failure(1, FixedRandom(0)) == 2


def test_full_jitter_spans_zero_to_the_ceiling() -> None:
    policy = RedeliveryPolicy()
    assert policy.visibility_after_failure(4, FixedRandom(0.0)) == 0
    assert policy.visibility_after_failure(4, FixedRandom(0.999999)) == 8
    seen = {policy.visibility_after_failure(2, random.Random(seed)) for seed in range(200)}
    assert seen == {0, 1, 2}


@given(
    st.integers(-5, 10_000),
    st.floats(0.01, 100),
    st.floats(1, 10),
    st.floats(0, 43200),
    st.booleans(),
    st.floats(0, 1, exclude_max=True),
)
def test_visibility_stays_within_zero_and_the_cap_and_the_ceiling_never_falls(
    count: int, base: float, factor: float, cap: float, jitter: bool, r: float
) -> None:
    policy = RedeliveryPolicy(base=base, factor=factor, cap=cap, jitter=jitter)
    seconds = policy.visibility_after_failure(count, FixedRandom(r))
    assert type(seconds) is int and 0 <= seconds <= cap <= 43200
    assert policy.ceiling(count) <= policy.ceiling(count + 1) <= cap


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"base": 0}, "base"),
        ({"base": float("inf")}, "base"),
        ({"factor": 0.9}, "factor"),
        ({"cap": 43201}, "cap"),
        ({"cap": -1}, "cap"),
        ({"cap": True}, "cap"),
        ({"jitter": "yes"}, "jitter"),
    ],
)
def test_policy_validation_names_the_argument(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(ConfigError) as info:
        RedeliveryPolicy(**kwargs)
    assert info.value.variable == name and name in str(info.value)


def test_after_failure_backs_off_or_dead_letters_non_retryable_errors() -> None:
    policy = RedeliveryPolicy(jitter=False)
    rng = FixedRandom(0.5)
    assert policy.after_failure(3, rng) == Release(4)
    assert isinstance(
        policy.after_failure(3, rng, retryable=False, dead_letter_queue=True), DeadLetter
    )
    assert policy.after_failure(3, rng, retryable=False) == Release(0)


# ------------------------------------------------------------------------------ heartbeat


def test_a_lease_is_extended_halfway_by_the_visibility_timeout() -> None:
    heartbeat = Heartbeat(visibility_timeout=30)
    lease = heartbeat.lease(received_at=1000.0)
    assert lease == Lease(1000.0, 1030.0)
    assert heartbeat.due_at(lease) == 1015.0
    assert heartbeat.extensions([("m", lease)], now=1014.9) == []
    ((item, seconds, renewed),) = heartbeat.extensions([("m", lease)], now=1015.0)
    assert (item, seconds, renewed) == ("m", 30, Lease(1000.0, 1045.0))
    assert heartbeat.due_at(renewed) == 1030.0
    assert heartbeat.next_check([lease, renewed]) == 1015.0


def test_extensions_stop_at_the_maximum_total() -> None:
    heartbeat = Heartbeat(visibility_timeout=30, max_total=100)
    lease = heartbeat.lease(0.0)
    now = 0.0
    expiries = []
    while (at := heartbeat.due_at(lease)) is not None:
        now = at
        extended = heartbeat.extend(lease, now)
        if extended is None:
            break
        seconds, lease = extended
        assert 1 <= seconds <= 30
        expiries.append(lease.expires_at)
    assert expiries == sorted(expiries) and max(expiries) <= 100
    assert heartbeat.extend(lease, 99.5) is None
    assert heartbeat.next_check([Lease(0.0, 100.0)]) is None


@given(
    st.integers(1, 43200),
    st.floats(0.05, 0.95),
    st.floats(1, 43200),
    st.floats(0, 50_000),
)
def test_an_extension_never_passes_the_limit_and_always_lengthens_the_lease(
    timeout: int, fraction: float, max_total: float, now: float
) -> None:
    heartbeat = Heartbeat(visibility_timeout=timeout, fraction=fraction, max_total=max_total)
    lease = heartbeat.lease(0.0)
    extended = heartbeat.extend(lease, now)
    if extended is not None:
        seconds, renewed = extended
        assert 1 <= seconds <= timeout
        assert renewed.expires_at <= max_total and renewed.expires_at > lease.expires_at
    due = heartbeat.due_at(lease)
    assert due is None or due < lease.expires_at
    # Whenever a live lease is due, extending it works: a due lease never stays due.
    if due is not None and due <= now < lease.expires_at:
        assert heartbeat.extend(lease, now) is not None
        assert heartbeat.extensions([("m", lease)], now) != []
    assert heartbeat.expired(lease, now) == (now >= lease.expires_at)


def test_heartbeat_validation_names_the_argument() -> None:
    for kwargs, name in [
        ({"visibility_timeout": 0}, "visibility_timeout"),
        ({"visibility_timeout": 1.5}, "visibility_timeout"),
        ({"visibility_timeout": 30, "fraction": 1.0}, "fraction"),
        ({"visibility_timeout": 30, "extension": 0}, "extension"),
        ({"visibility_timeout": 30, "max_total": 50_000}, "max_total"),
    ]:
        with pytest.raises(ConfigError) as info:
            Heartbeat(**kwargs)
        assert info.value.variable == name


# ------------------------------------------------------------------------------ receiving


@given(st.integers(-3, 50), st.integers(1, 10))
def test_never_more_messages_than_free_slots(free: int, max_messages: int) -> None:
    count = receive_size(free, max_messages)
    assert 0 <= count <= min(10, max_messages, max(free, 0))
    request = receive_request("https://q", free_slots=free, max_messages=max_messages)
    assert (request is None) == (count == 0)
    if request is not None:
        assert request["MaxNumberOfMessages"] == count


def test_a_long_poll_request_asks_for_every_attribute_and_outlasts_its_wait() -> None:
    from botocore.session import get_session
    from botocore.validate import ParamValidator

    request = receive_request(
        "https://q", free_slots=4, wait_time_seconds=20, visibility_timeout=30
    )
    assert request == {
        "QueueUrl": "https://q",
        "MaxNumberOfMessages": 4,
        "WaitTimeSeconds": 20,
        "MessageSystemAttributeNames": ["All"],
        "MessageAttributeNames": ["All"],
        "VisibilityTimeout": 30,
    }
    shape = get_session().get_service_model("sqs").operation_model("ReceiveMessage").input_shape
    assert not ParamValidator().validate(request, shape).has_errors()
    assert read_timeout(20) > 20
    with pytest.raises(ConfigError):
        receive_request("https://q", free_slots=1, wait_time_seconds=21)


def message(message_id: str, group: str | None) -> ReceivedMessage:
    return ReceivedMessage(message_id, f"rh-{message_id}", None, "poison", group_id=group)


def test_fifo_groups_share_a_lane_in_order_and_standard_messages_each_get_one() -> None:
    batch = [message("1", "a"), message("2", "b"), message("3", "a"), message("4", None),
             message("5", "a"), message("6", None)]  # fmt: skip
    lanes = message_lanes(batch)
    assert [[m.message_id for m in lane] for lane in lanes] == [
        ["1", "3", "5"],
        ["2"],
        ["4"],
        ["6"],
    ]
    lane = lanes[0]
    assert [m.message_id for m in release_after_failure(lane, lane[0])] == ["3", "5"]
    assert release_after_failure(lane, lane[2]) == ()
    assert release_after_failure(lane, message("9", "a")) == ()


@given(st.lists(st.sampled_from(["a", "b", "c", None]), max_size=20))
def test_lanes_keep_every_message_once_and_in_order(groups: list[str | None]) -> None:
    batch = [message(str(i), g) for i, g in enumerate(groups)]
    lanes = message_lanes(batch)
    assert sorted((m for lane in lanes for m in lane), key=lambda m: int(m.message_id)) == batch
    for lane in lanes:
        assert [int(m.message_id) for m in lane] == sorted(int(m.message_id) for m in lane)
        assert len({m.group_id for m in lane}) == 1
