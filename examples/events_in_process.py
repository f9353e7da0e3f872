"""Events inside one process: ``EventDispatcher``, handlers, and the correlation context.

Two orders are placed, each inside the event context of the request that placed it (its
correlation id). Handlers react on the dispatcher's worker threads, each in the context of the
order it handles; one of them fails without stopping the others (``on_error``). Every log line
carries its correlation id (``ContextFilter``). Run it with the two requests' correlation ids::

    python examples/events_in_process.py req-1 req-2

No configuration is needed.
"""

from __future__ import annotations

import logging
import sys
import uuid
from typing import Any

from midil_common.events import ContextFilter, Event, event_context
from midil_sync import EventDispatcher

log = logging.getLogger("orders")


def report(event: Event, handler: Any, exc: BaseException) -> None:
    """Called when a handler raises (instead of the default log line with the traceback)."""
    log.warning("%s failed on %s: %s", handler.__name__, event.type, exc)


dispatcher = EventDispatcher(source="orders-api", max_workers=4, on_error=report)


@dispatcher.on("order.placed")
def reserve_stock(event: Event) -> None:
    """Reserve the items."""
    log.info("stock reserved for order %s", event.data["id"])


@dispatcher.on("order.placed")
def send_confirmation(event: Event) -> None:
    """Email the customer."""
    log.info("confirmation sent to %s", event.data["email"])


@dispatcher.on("order.placed")
def award_points(event: Event) -> None:
    """A handler that fails: reported, the other handlers are not affected."""
    raise RuntimeError("loyalty service unavailable")


@dispatcher.on("**")  # every event type
def audit(event: Event) -> None:
    """Record every event: it carries the correlation id of the request that published it."""
    log.info(
        "audit %s %s (event correlation id %s)", event.type, event.data["id"], event.correlation_id
    )


def main() -> int:
    """Place two orders, each in its request's context, then wait until every handler ran."""
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(ContextFilter())
    handler.setFormatter(logging.Formatter("[%(correlation_id)s] %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])

    requests = sys.argv[1:3] or [f"req-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    dispatcher.start()
    for order_id, correlation_id in enumerate(requests, start=41):
        with event_context(correlation_id=correlation_id):  # as a web adapter opens per request
            placed = dispatcher.notify("order.placed", {"id": order_id, "email": "ada@example.com"})
            log.info("order %s placed as event %s", order_id, placed.id[:8])
    result = dispatcher.stop(timeout=10)  # takes no more events, waits for the accepted ones
    print(f"done: {result.handled} events handled, nothing pending: {result.drained}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
