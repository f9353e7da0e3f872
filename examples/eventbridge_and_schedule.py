"""Put an event on an EventBridge bus, and schedule events with EventBridge Scheduler.

``EventBridgePublisher.from_settings()`` publishes an ``order.created`` event to the bus
(``MIDIL_EVENTS__BUS_NAME``, default ``default``); ``EventBridgeScheduler.from_settings()``
creates a one-off reminder in an hour and an hourly sweep (sent to
``MIDIL_EVENTS__SCHEDULER_TARGET_ARN`` with the role ``MIDIL_EVENTS__SCHEDULER_ROLE_ARN``),
lists the schedules, and deletes the two again unless ``--keep`` is given. With moto's server::

    export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
    export MIDIL_EVENTS__ENDPOINT_URL=http://127.0.0.1:5000   # moto_server, LocalStack; not on AWS
    export MIDIL_EVENTS__SCHEDULER_ROLE_ARN=arn:aws:iam::123456789012:role/scheduler
    export MIDIL_EVENTS__SCHEDULER_TARGET_ARN=arn:aws:sqs:us-east-1:123456789012:orders
    python examples/eventbridge_and_schedule.py cart-42

Exit status: 0 done, 1 AWS refused a call, 2 configuration error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from midil_common.errors import ConfigError, EventError
from midil_common.events import Event
from midil_sync import EventBridgePublisher, EventBridgeScheduler


def main() -> int:
    """Publish, schedule, list, and clean up."""
    parser = argparse.ArgumentParser(description="EventBridge and EventBridge Scheduler.")
    parser.add_argument("cart", help="the cart the reminder is about, e.g. cart-42")
    parser.add_argument("--keep", action="store_true", help="leave the schedules in place")
    args = parser.parse_args()
    try:
        bus = EventBridgePublisher.from_settings()
        scheduler = EventBridgeScheduler.from_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if not (scheduler.role_arn and scheduler.target_arn):
        print(
            "configuration error: set MIDIL_EVENTS__SCHEDULER_ROLE_ARN and "
            "MIDIL_EVENTS__SCHEDULER_TARGET_ARN",
            file=sys.stderr,
        )
        return 2

    with bus, scheduler:
        try:
            order = Event(type="order.created", source="orders-api", data={"cart": args.cart})
            sent = bus.publish(order)
            print(f"put {sent.type} {sent.id} on bus {bus.bus_name}")

            reminder = Event(type="cart.reminder", source="orders-api", data={"cart": args.cart})
            in_an_hour = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
            names = [f"{args.cart}-reminder", f"{args.cart}-sweep"]
            # Creating a schedule again with the same definition succeeds (safe to re-run).
            scheduler.schedule_at(names[0], in_an_hour, reminder)
            scheduler.schedule_rate(names[1], dt.timedelta(hours=1), reminder)
            for schedule in scheduler.list(prefix=args.cart):
                print(f"schedule {schedule.name}: {schedule.state} -> {schedule.target_arn}")
            if not args.keep:
                for name in names:
                    print(f"deleted {name}: {scheduler.delete(name)}")
        except EventError as exc:  # PublishError, SchedulerError (ScheduleConflictError), ...
            print(f"failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
