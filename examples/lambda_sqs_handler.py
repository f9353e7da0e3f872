"""An AWS Lambda function consuming SQS: ``sqs_batch_handler`` with partial batch failures.

Deploy this module with ``lambda_sqs_handler.handler`` as the function's handler and turn on
``ReportBatchItemFailures`` in its SQS event source mapping: the handler answers with the
messages that failed (``batchItemFailures``), so only those come back, and after the queue's
``maxReceiveCount`` they move to its dead-letter queue. Undecodable messages fail too.

Try it locally with an SQS event as Lambda delivers it (e.g. ``sam local generate-event sqs
receive-message``, whose bodies are not CloudEvents: they fail as poison)::

    python examples/lambda_sqs_handler.py event.json      # or: ... < event.json

No configuration is needed; it prints the handler's answer as JSON.
"""

from __future__ import annotations

import json
import logging
import sys

from midil_common.events import Event, EventRouter
from midil_sync import sqs_batch_handler

logging.getLogger().setLevel(logging.INFO)  # Lambda's runtime installs the handler itself
log = logging.getLogger("orders")
router = EventRouter()


@router.on("order.created")
def charge(event: Event) -> None:
    """Must be idempotent (keyed by ``event.id``): SQS and Lambda deliver at least once."""
    if event.data["amount"] <= 0:
        raise ValueError(f"order {event.data['id']}: the amount must be positive")
    log.info("charged order %s: %s", event.data["id"], event.data["amount"])


handler = sqs_batch_handler(router)  # handler(event, context) -> {"batchItemFailures": [...]}


def main() -> int:
    """Invoke the handler once with the SQS event of the file given (or stdin)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    with open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin as source:
        payload = json.load(source)
    answer = handler(payload, None)
    print(json.dumps(answer, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
