"""In-process events for the sync shell: ``EventDispatcher`` and ``PeriodicTask``."""

from typing import TYPE_CHECKING

from midil_common._lazy import exports

if TYPE_CHECKING:
    from midil_common.events.eventbridge import parse_eventbridge_event
    from midil_sync.events.dispatcher import DrainResult, EventDispatcher
    from midil_sync.events.eventbridge import EventBridgePublisher
    from midil_sync.events.lambda_handler import SQSBatchHandler, sqs_batch_handler
    from midil_sync.events.periodic import PeriodicTask
    from midil_sync.events.scheduler import EventBridgeScheduler
    from midil_sync.events.sqs_consumer import ConsumerStats, SQSConsumer
    from midil_sync.events.sqs_publisher import SQSPublisher

__all__: list[str] = [
    "ConsumerStats",
    "DrainResult",
    "EventBridgePublisher",
    "EventBridgeScheduler",
    "EventDispatcher",
    "PeriodicTask",
    "SQSBatchHandler",
    "SQSConsumer",
    "SQSPublisher",
    "parse_eventbridge_event",
    "sqs_batch_handler",
]

# Imported on first use (PEP 562): importing the package loads neither pydantic nor the core events.
__getattr__, __dir__ = exports(
    __name__,
    {
        "ConsumerStats": "midil_sync.events.sqs_consumer",
        "DrainResult": "midil_sync.events.dispatcher",
        "EventBridgePublisher": "midil_sync.events.eventbridge",
        "EventBridgeScheduler": "midil_sync.events.scheduler",
        "EventDispatcher": "midil_sync.events.dispatcher",
        "PeriodicTask": "midil_sync.events.periodic",
        "SQSConsumer": "midil_sync.events.sqs_consumer",
        "SQSBatchHandler": "midil_sync.events.lambda_handler",
        "SQSPublisher": "midil_sync.events.sqs_publisher",
        "parse_eventbridge_event": "midil_common.events.eventbridge",
        "sqs_batch_handler": "midil_sync.events.lambda_handler",
    },
)
