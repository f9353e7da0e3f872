"""``unless`` of both shells' primitives: work given up as soon as a flag is set first (the
consumer's long poll), its result or error otherwise."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from midil_async import _primitives as aprim
from midil_sync import _primitives as sprim


def _sync_unless(flag_after: float | None, work_takes: float, fails: bool = False) -> Any:
    flag = sprim.Flag()
    if flag_after is not None:
        threading.Timer(flag_after, flag.set).start()

    def work(value: int) -> int:
        time.sleep(work_takes)
        if fails:
            raise LookupError("boom")
        return value * 2

    return sprim.unless(flag, work, 21)


def _async_unless(flag_after: float | None, work_takes: float, fails: bool = False) -> Any:
    async def main() -> Any:
        flag = aprim.Flag()
        if flag_after is not None:
            asyncio.get_running_loop().call_later(flag_after, flag.set)

        async def work(value: int) -> int:
            await asyncio.sleep(work_takes)
            if fails:
                raise LookupError("boom")
            return value * 2

        return await aprim.unless(flag, work, 21)

    return asyncio.run(main())


SHELLS = {"sync": (_sync_unless, sprim.Interrupted), "async": (_async_unless, aprim.Interrupted)}


@pytest.mark.parametrize("shell", list(SHELLS))
def test_the_result_when_the_work_finishes_first(shell: str) -> None:
    call, _ = SHELLS[shell]
    assert call(None, 0.01) == 42
    assert call(5.0, 0.01) == 42


@pytest.mark.parametrize("shell", list(SHELLS))
def test_the_error_of_the_work(shell: str) -> None:
    call, _ = SHELLS[shell]
    with pytest.raises(LookupError, match="boom"):
        call(None, 0.01, fails=True)


@pytest.mark.parametrize("shell", list(SHELLS))
def test_interrupted_as_soon_as_the_flag_is_set(shell: str) -> None:
    call, interrupted = SHELLS[shell]
    started = time.monotonic()
    with pytest.raises(interrupted):
        call(0.1, 10.0)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("shell", list(SHELLS))
def test_a_flag_set_before_runs_nothing(shell: str) -> None:
    ran: list[int] = []
    if shell == "sync":
        flag = sprim.Flag()
        flag.set()
        with pytest.raises(sprim.Interrupted):
            sprim.unless(flag, ran.append, 1)
    else:

        async def main() -> None:
            flag = aprim.Flag()
            flag.set()

            async def work() -> None:
                ran.append(1)

            with pytest.raises(aprim.Interrupted):
                await aprim.unless(flag, work)

        asyncio.run(main())
    assert ran == []


def test_async_work_is_cancelled_when_interrupted() -> None:
    cancelled = []

    async def main() -> None:
        flag = aprim.Flag()

        async def work() -> None:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                cancelled.append(True)
                raise

        asyncio.get_running_loop().call_later(0.05, flag.set)
        with pytest.raises(aprim.Interrupted):
            await aprim.unless(flag, work)

    asyncio.run(main())
    assert cancelled == [True]


@pytest.mark.parametrize("shell", list(SHELLS))
def test_work_finishing_within_the_grace_gives_its_result(shell: str) -> None:
    if shell == "sync":
        flag = sprim.Flag()
        threading.Timer(0.05, flag.set).start()
        assert sprim.unless(flag, lambda: time.sleep(0.3) or 42, grace=2.0) == 42
        flag = sprim.Flag()
        threading.Timer(0.05, flag.set).start()
        with pytest.raises(sprim.Interrupted):
            sprim.unless(flag, lambda: time.sleep(3) or 42, grace=0.2)
        return

    async def main() -> None:
        async def work(seconds: float) -> int:
            await asyncio.sleep(seconds)
            return 42

        flag = aprim.Flag()
        asyncio.get_running_loop().call_later(0.05, flag.set)
        assert await aprim.unless(flag, work, 0.3, grace=2.0) == 42
        flag = aprim.Flag()
        asyncio.get_running_loop().call_later(0.05, flag.set)
        with pytest.raises(aprim.Interrupted):
            await aprim.unless(flag, work, 3, grace=0.2)

    asyncio.run(main())
