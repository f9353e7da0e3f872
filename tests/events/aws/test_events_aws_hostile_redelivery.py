"""``RedeliveryPolicy`` given a bogus ``ApproximateReceiveCount`` (a hostile or broken answer): the
backoff is computed in bounded time and memory whatever the count, and never exceeds the cap."""

from __future__ import annotations

import random
import time

import pytest

from midil_common.events import RedeliveryPolicy


@pytest.mark.parametrize("receive_count", [3 * 10**6, 10**10, 10**400])
@pytest.mark.parametrize(
    "policy",
    [
        RedeliveryPolicy(base=1, factor=3, jitter=False),  # int arithmetic would be exact
        RedeliveryPolicy(base=1, factor=2, cap=60),
        RedeliveryPolicy(),
    ],
)
def test_a_huge_receive_count_gives_the_cap_at_once(
    policy: RedeliveryPolicy, receive_count: int
) -> None:
    started = time.monotonic()
    assert policy.ceiling(receive_count) == policy.cap
    visibility = policy.visibility_after_failure(receive_count, random.Random(0))
    assert 0 <= visibility <= policy.cap
    if not policy.jitter:
        assert visibility == policy.cap
    assert time.monotonic() - started < 0.1


def test_the_backoff_still_grows_from_the_first_receive() -> None:
    policy = RedeliveryPolicy(base=1, factor=2, jitter=False)
    assert [policy.ceiling(n) for n in (0, 1, 2, 3, 10)] == [1, 1, 2, 4, 512]
    assert policy.ceiling(100) == policy.cap
