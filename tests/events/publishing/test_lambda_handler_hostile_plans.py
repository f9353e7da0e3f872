"""``sqs_batch_handler`` of both shells given records with huge, distinct event types: the memory
they take is given back once the invocation returns (no plan of theirs is kept)."""

from __future__ import annotations

import gc
import tracemalloc

from midil_common.events import Event, EventRouter

from .conftest import Shell
from .test_lambda_handler import record


def test_long_event_types_are_not_retained_between_invocations(shell: Shell) -> None:
    router = EventRouter()
    router.add("**", shell.handler(lambda e: None))
    handler = shell.mod.sqs_batch_handler(router)
    shell.run(handler({"Records": [record(Event(type="warm.up", source="/t"), 0)]}))
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for invocation in range(4):
            records = [
                record(Event(type=f"{invocation}-{n}" + "x" * 50_000, source="/t"), n)
                for n in range(10)
            ]
            assert shell.run(handler({"Records": records})) == {"batchItemFailures": []}
            del records
        gc.collect()
        retained = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert retained < 500_000  # 40 types of 50 KB each would be 2 MB
