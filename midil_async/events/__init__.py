"""In-process events for the async shell: ``EventDispatcher`` and ``PeriodicTask``."""

from typing import TYPE_CHECKING

from midil_common._lazy import exports

if TYPE_CHECKING:
    from midil_async.events.dispatcher import DrainResult, EventDispatcher
    from midil_async.events.eventbridge import EventBridgePublisher
    from midil_async.events.lambda_handler import SQSBatchHandler, sqs_batch_handler
    from midil_async.events.periodic import PeriodicTask
    from midil_async.events.scheduler import EventBridgeScheduler
    from midil_async.events.sqs_consumer import ConsumerStats, SQSConsumer
    from midil_async.events.sqs_publisher import SQSPublisher
    from midil_common.events.eventbridge import parse_eventbridge_event

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
        "ConsumerStats": "midil_async.events.sqs_consumer",
        "DrainResult": "midil_async.events.dispatcher",
        "EventBridgePublisher": "midil_async.events.eventbridge",
        "EventBridgeScheduler": "midil_async.events.scheduler",
        "EventDispatcher": "midil_async.events.dispatcher",
        "PeriodicTask": "midil_async.events.periodic",
        "SQSConsumer": "midil_async.events.sqs_consumer",
        "SQSBatchHandler": "midil_async.events.lambda_handler",
        "SQSPublisher": "midil_async.events.sqs_publisher",
        "parse_eventbridge_event": "midil_common.events.eventbridge",
        "sqs_batch_handler": "midil_async.events.lambda_handler",
    },
)
