"""Consuming events from an SQS queue: ``SQSConsumer``.

The consumer long-polls the queue (the HTTP read timeout above the wait), only when a worker slot
is free and never for more messages than there are free slots; decodes each message with the
core's :class:`~midil_common.events.SQSCodec`; runs the handlers registered for the event's type
(routing by an :class:`~midil_common.events.EventRouter`) inside the context of the event (its
correlation id, a child span of its ``traceparent``, its id as the causation id); and then:

- deletes the message, in ``DeleteMessageBatch`` batches, only after its handlers returned; an
  entry SQS refuses is sent again (with the message's latest receipt handle) and what still fails
  is counted (``delete_failed``) and logged: such a message is delivered again;
- after a handler raised, sets the message's visibility from its receive count
  (:class:`~midil_common.events.RedeliveryPolicy`), so the queue's redrive policy moves it to the
  dead-letter queue after ``maxReceiveCount`` receives; an exception of a ``non_retryable`` type
  sends it straight to ``dead_letter_queue_url`` (then deletes it), or without one releases it at
  once for the redrive policy;
- a poison message (undecodable, or no handler for its type) is counted and left for the DLQ
  (released with the redelivery backoff, never deleted); it never stops the loop or other messages.

While a handler runs past a fraction of the visibility timeout the consumer extends the message's
visibility (``ChangeMessageVisibilityBatch``, the core's :class:`~midil_common.events.Heartbeat`).
On a FIFO queue the messages of one group are handled in order, one at a time, and after a failure
the rest of the group's batch is released (visibility 0), not handled out of order.

Errors talking to SQS: transient ones (throttling, 5xx, the network) are retried with backoff for
as long as the consumer runs and logged at a bounded rate; permanent ones (the queue does not
exist, access denied, invalid credentials or region) stop :meth:`SQSConsumer.run` at once with
``ConsumerError``.

Stopping: :meth:`SQSConsumer.stop` (or SIGTERM/SIGINT with ``run(install_signal_handlers=True)``)
stops receiving (a receive in progress gets a second to end, so the messages it brings are
released at once; a long poll still waiting is given up, and a message SQS hands over in that very
instant comes back after its visibility timeout), lets the handlers in progress finish up to
the timeout, and releases every message not handled (visibility 0), so another consumer takes it
at once. SQS delivers at least once: handlers must be idempotent.
Coroutine handlers are awaited; plain ones run in a worker thread, so they never block the loop.

Logs (logger ``midil.events``) name message ids, event ids and types, never message bodies, and
never a receipt handle in full.
"""

from __future__ import annotations

import contextvars
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from midil_async._aws import AWSClient, failure
from midil_async._primitives import (
    Flag,
    Interrupted,
    Lock,
    QueueClosed,
    StateLock,
    Worker,
    WorkQueue,
    abandon,
    catch_signals,
    join,
    runner,
    sleep,
    spawn,
    unless,
)
from midil_common.aws_errors import AWSErrorInfo, AWSRetryPolicy
from midil_common.errors import ConfigError, ConsumerError
from midil_common.events.batch_result import BatchResult, EntryRetryPolicy, Finished
from midil_common.events.batching import delete_batches, visibility_batches
from midil_common.events.consuming import (
    CallFailures,
    ConsumerCounters,
    ConsumerOptions,
    ConsumerStats,
    GiveUp,
    after_handler_failure,
    after_poison,
    consumer_kwargs,
    dead_letter_message,
    receive_threshold,
    short_handle,
)
from midil_common.events.context import current_context, derive_context
from midil_common.events.dispatch import (
    ErrorCallback,
    report_handler_failure,
    reset_current,
    set_current,
)
from midil_common.events.envelope import Event
from midil_common.events.heartbeat import Heartbeat, Lease
from midil_common.events.receiving import (
    message_lanes,
    read_timeout,
    receive_request,
    release_after_failure,
)
from midil_common.events.redelivery import DeadLetter, RedeliveryPolicy
from midil_common.events.router import EventRouter, Handler, PlanCache, validate_pattern
from midil_common.events.sqs_codec import ReceivedMessage, SQSCodec

__all__ = ["ConsumerStats", "SQSConsumer"]

logger = logging.getLogger("midil.events")

H = TypeVar("H", bound=Callable[..., Any])

SERVICE = "sqs"
_ONE_ATTEMPT = AWSRetryPolicy(max_attempts=1)
_DELETE = "delete"
_VISIBILITY = "visibility"
# How long a stop still waits for the receive in progress: one that is handing over messages ends
# within it (they are then released at once); a long poll on an empty queue is given up.
_RECEIVE_GRACE = 1.0
_IN_HANDLER: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "midil_sqs_consumer_worker", default=False
)

_Step = tuple[Handler, Callable[[Event], Any]]
_Ack = tuple[str, ReceivedMessage, int]


class _CallFailed(Exception):
    """Internal: an SQS call failed; ``info`` says how."""

    def __init__(self, info: AWSErrorInfo) -> None:
        super().__init__(info.code)
        self.info = info


class _GivenClient:
    """A botocore-based SQS client handed in by the user, called like an ``AWSClient``."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    async def call(
        self,
        operation: str,
        params: Mapping[str, Any],
        *,
        errors: Callable[[AWSErrorInfo], Exception],
        retry: AWSRetryPolicy | None = None,
    ) -> dict[str, Any]:
        from botocore import xform_name

        try:
            result = await getattr(self.raw, xform_name(operation))(**params)
        except Exception as exc:
            info = failure(SERVICE, operation, exc)
            if info is None:
                raise
            raise errors(info) from None
        answer = dict(result)
        answer.pop("ResponseMetadata", None)
        return answer

    async def aclose(self) -> None:
        return None  # the user's client: the user closes it


class _Held:
    """A received message, from its receive until it is settled (deleted or released)."""

    __slots__ = ("expired", "lease", "message", "raw")

    def __init__(self, message: ReceivedMessage, raw: Mapping[str, Any], lease: Lease) -> None:
        self.message = message
        self.raw = raw
        self.lease = lease
        self.expired = False


class _Run:
    """One run of a consumer, from ``run()`` to its return."""

    __slots__ = (
        "acker",
        "acks",
        "beat_stop",
        "beater",
        "deadline",
        "failures",
        "fatal",
        "finished",
        "handles",
        "heartbeat",
        "held",
        "lanes",
        "signals",
        "slots",
        "stopping",
        "workers",
    )

    def __init__(self, concurrency: int) -> None:
        self.stopping = Flag()
        self.finished = Flag()
        self.beat_stop = Flag()
        self.deadline: float | None = None
        self.fatal: ConsumerError | None = None
        self.signals = 0
        # One token per free worker slot: the receiver takes them, a settled message returns one.
        self.slots: WorkQueue[int] = WorkQueue(concurrency)
        for _ in range(concurrency):
            self.slots.put_nowait(0)
        self.lanes: WorkQueue[tuple[_Held, ...]] = WorkQueue(concurrency)
        self.acks: WorkQueue[_Ack] = WorkQueue(max(100, 2 * concurrency))
        self.held: set[_Held] = set()
        self.handles: dict[str, str] = {}
        self.failures = CallFailures()
        self.heartbeat: Heartbeat | None = None
        self.workers: tuple[Worker, ...] = ()
        self.acker: Worker | None = None
        self.beater: Worker | None = None


class SQSConsumer:
    """Consume events from an SQS queue (see the module docstring for the guarantees).

    Args:
        queue_url: the queue to consume.
        concurrency: how many messages are handled at once (worker tasks), and the most messages
            received and not yet settled.
        wait_time_seconds: the long-polling wait of each receive (0 to 20).
        visibility_timeout: the visibility timeout each receive asks for (None: the queue's).
        max_messages: the most messages one receive asks for (1 to 10).
        heartbeat: extend the visibility of messages whose handlers run long.
        redelivery: the backoff of redeliveries after a handler failed.
        dead_letter_queue_url: where messages failing with a ``non_retryable`` exception are sent.
        non_retryable: exception types that no redelivery can cure.
        router: an ``EventRouter`` to register on and route with (a new one by default).
        codec: the ``SQSCodec`` decoding messages (the default one by default).
        client: an SQS client to use (this shell's ``AWSClient`` or a botocore-based SQS
            client); by default one is made from ``region`` and ``endpoint_url``.
        region: the AWS region (default: the environment's).
        endpoint_url: a local emulator (moto, LocalStack).
        credentials: ``aws_access_key_id``, ``aws_secret_access_key`` (and
            ``aws_session_token``); by default the environment's credential chain.
        on_error: ``on_error(event, handler, exc)``, called when a handler raises, instead of the
            default log line; an exception it raises is logged.
        stop_timeout: how long in-flight handlers may finish when the consumer stops without an
            explicit timeout (signals, a permanent error, the end of ``run_until_empty``).

    Example::

        consumer = SQSConsumer(queue_url)

        @consumer.on("order.*")
        async def on_order(event: Event) -> None: ...

        await consumer.run(install_signal_handlers=True)
    """

    def __init__(
        self,
        queue_url: str,
        *,
        concurrency: int = 10,
        wait_time_seconds: int = 20,
        visibility_timeout: int | None = None,
        max_messages: int = 10,
        heartbeat: bool = True,
        redelivery: RedeliveryPolicy | None = None,
        dead_letter_queue_url: str | None = None,
        non_retryable: tuple[type[BaseException], ...] = (),
        router: EventRouter | None = None,
        codec: SQSCodec | None = None,
        client: Any = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        credentials: Mapping[str, str] | None = None,
        on_error: ErrorCallback | None = None,
        stop_timeout: float = 30.0,
    ) -> None:
        self._options = ConsumerOptions(
            queue_url=queue_url,
            concurrency=concurrency,
            wait_time_seconds=wait_time_seconds,
            visibility_timeout=visibility_timeout,
            max_messages=max_messages,
            heartbeat=heartbeat,
            redelivery=redelivery if redelivery is not None else RedeliveryPolicy(),
            dead_letter_queue_url=dead_letter_queue_url,
            non_retryable=tuple(non_retryable),
            stop_timeout=stop_timeout,
        )
        if router is not None and not isinstance(router, EventRouter):
            raise ConfigError("router must be an EventRouter", variable="router")
        if codec is not None and not isinstance(codec, SQSCodec):
            raise ConfigError("codec must be an SQSCodec", variable="codec")
        if on_error is not None and not callable(on_error):
            raise ConfigError("on_error must be callable", variable="on_error")
        self._router = router if router is not None else EventRouter()
        self._codec = codec if codec is not None else SQSCodec()
        self._on_error = on_error
        self._client: Any
        if client is None:
            self._client = AWSClient(
                SERVICE,
                region=region,
                endpoint_url=endpoint_url,
                credentials=credentials,
                config={"read_timeout": read_timeout(wait_time_seconds)},
                retry=_ONE_ATTEMPT,
            )
        elif isinstance(client, AWSClient):
            self._client = client
        else:
            self._client = _GivenClient(client)
        self._lock = StateLock()
        self._visibility_lock = Lock()
        self._counters = ConsumerCounters()
        self._current: _Run | None = None
        self._plans: PlanCache[tuple[_Step, ...]] = PlanCache()
        self._entry_retry = EntryRetryPolicy()
        self._rng = random.Random()

    def __repr__(self) -> str:
        return f"SQSConsumer({self._options.queue_url!r})"

    @classmethod
    def from_settings(cls, settings: Any = None, **options: Any) -> SQSConsumer:
        """Build from the ``events`` settings section (``MIDIL_EVENTS__QUEUE_URL``, ``DLQ_URL``,
        ``REGION``, ``ENDPOINT_URL``, ``CONCURRENCY``, ...; read from the environment when None);
        keyword ``options`` (``router=``, ``non_retryable=``, ...) are added or win."""
        return cls(**{**consumer_kwargs(settings), **options})

    # ---------------------------------------------------------------------------- handlers

    @property
    def queue_url(self) -> str:
        """The queue consumed."""
        return self._options.queue_url

    @property
    def router(self) -> EventRouter:
        """The router the handlers are registered on."""
        return self._router

    @property
    def stats(self) -> ConsumerStats:
        """The counters now (cumulative over runs), as a frozen value."""
        with self._lock:
            return self._counters.snapshot()

    @property
    def running(self) -> bool:
        """Whether a run is in progress."""
        return self._current is not None

    def on(self, pattern: str) -> Callable[[H], H]:
        """Decorator registering the function under ``pattern``; returns it unchanged."""
        validate_pattern(pattern)

        def register(handler: H) -> H:
            self.subscribe(handler, pattern)
            return handler

        return register

    def subscribe(self, handler: Handler, pattern: str) -> None:
        """Register ``handler`` for the event types ``pattern`` matches (``order.*``, ``**``)."""
        runner(handler)  # refuses what this shell cannot call
        self._router.add(pattern, handler)

    def _steps(self, event_type: str) -> tuple[_Step, ...]:
        handlers = self._router.handlers_for(event_type)
        steps = self._plans.get(event_type, handlers)
        if steps is None:
            steps = tuple((handler, runner(handler)) for handler in handlers)
            self._plans.put(event_type, handlers, steps)
        return steps

    # --------------------------------------------------------------------------- lifecycle

    async def run(self, *, install_signal_handlers: bool = False) -> ConsumerStats:
        """Consume until :meth:`stop` (or, with ``install_signal_handlers``, SIGTERM or SIGINT:
        the first stops gracefully within ``stop_timeout``, a second at once; main thread only).
        Returns the counters; raises ``ConsumerError`` on a permanent error talking to SQS."""
        return await self._run(until_empty=False, signals=install_signal_handlers)

    async def run_until_empty(self) -> ConsumerStats:
        """Consume until a receive finds the queue empty (after a full ``wait_time_seconds`` long
        poll) with nothing in flight, then stop and return the counters (scripts, tests).
        Messages released for a later redelivery are not waited for."""
        return await self._run(until_empty=True, signals=False)

    async def stop(self, timeout: float | None = None) -> ConsumerStats:
        """Stop receiving, let the handlers in progress finish for up to ``timeout`` seconds
        (default ``stop_timeout``), release the messages not handled (visibility 0), and return
        the counters once the run has ended. Called from a handler, it returns at once; on a
        consumer that is not running, it just returns the counters."""
        run = self._current
        if run is None:
            return self.stats
        self._request_stop(run, self._options.stop_timeout if timeout is None else timeout)
        if not _IN_HANDLER.get():
            await run.finished.wait()
        return self.stats

    async def aclose(self) -> None:
        """Close the SQS client (a later run makes a new one)."""
        await self._client.aclose()

    def _request_stop(self, run: _Run, timeout: float) -> None:
        deadline = time.monotonic() + max(0.0, timeout)
        with self._lock:
            if run.deadline is None or deadline < run.deadline:
                run.deadline = deadline
        run.stopping.set()
        run.slots.close()

    def _on_signal(self, run: _Run) -> None:
        run.signals += 1
        logger.info(
            "SQS consumer of %s: stop signal received (%s)",
            self._options.queue_url,
            "stopping gracefully" if run.signals == 1 else "stopping now",
            extra={"queue_url": self._options.queue_url},
        )
        self._request_stop(run, self._options.stop_timeout if run.signals == 1 else 0.0)

    async def _run(self, *, until_empty: bool, signals: bool) -> ConsumerStats:
        with self._lock:
            if self._current is not None:
                raise ConsumerError(f"the SQS consumer of {self.queue_url} is already running")
            run = self._current = _Run(self._options.concurrency)
        restore: Callable[[], None] | None = None
        try:
            if signals:
                restore = catch_signals(lambda: self._on_signal(run))
            await self._serve(run, until_empty)
        finally:
            if restore is not None:
                restore()
            with self._lock:
                self._current = None
            run.finished.set()
        if run.fatal is not None:
            raise run.fatal
        return self.stats

    async def _serve(self, run: _Run, until_empty: bool) -> None:
        answer = await self._call_until(
            run,
            "GetQueueAttributes",
            {"QueueUrl": self.queue_url, "AttributeNames": ["VisibilityTimeout"]},
        )
        if answer is None:
            return
        visibility = self._options.visibility_timeout
        if visibility is None:
            visibility = _queue_visibility(answer)
        if self._options.heartbeat and visibility >= 1:
            run.heartbeat = Heartbeat(visibility)
        run.workers = tuple(
            spawn(self._work, run, name=f"midil-sqs-consumer-{i}")
            for i in range(self._options.concurrency)
        )
        run.acker = spawn(self._acknowledge, run, name="midil-sqs-acks")
        if run.heartbeat is not None:
            run.beater = spawn(self._beat, run, run.heartbeat, name="midil-sqs-heartbeat")
        failed = True
        try:
            await self._receive(run, until_empty)
            failed = False
        finally:
            await self._finish(run, at_once=failed)

    async def _finish(self, run: _Run, *, at_once: bool) -> None:
        """Stop the workers (in-flight handlers finish until the deadline), release what is left,
        flush the acknowledgements, stop the heartbeat."""
        self._request_stop(run, 0.0 if at_once else self._options.stop_timeout)
        run.lanes.close()
        if not await join(run.workers, run.deadline):
            run.lanes.clear()
            await abandon(run.workers)
        with self._lock:
            leftover = list(run.held)
            run.held.clear()
        if leftover:
            self._count("released", len(leftover))
            logger.info(
                "SQS consumer of %s: released %d unhandled messages on stop",
                self.queue_url,
                len(leftover),
                extra={"queue_url": self.queue_url, "released": len(leftover)},
            )
            for held in leftover:
                await run.acks.put((_VISIBILITY, held.message, 0))
        run.acks.close()
        if run.acker is not None:
            await join([run.acker])
        run.beat_stop.set()
        if run.beater is not None:
            await join([run.beater])

    def _count(self, name: str, count: int = 1) -> None:
        with self._lock:
            self._counters.add(name, count)

    # --------------------------------------------------------------------------- receiving

    async def _receive(self, run: _Run, until_empty: bool) -> None:
        options = self._options
        while not run.stopping.is_set():
            try:
                await run.slots.get()
            except QueueClosed:
                return
            free = 1
            # Half a batch of free slots at least (waiting for the handlers in flight), then every
            # slot free now, up to a full batch.
            target = receive_threshold(options.concurrency, options.max_messages)
            try:
                while free < options.max_messages and (free < target or len(run.slots)):
                    await run.slots.get()
                    free += 1
            except QueueClosed:
                self._free(run, free)
                return
            wait = options.wait_time_seconds
            if until_empty and run.held:
                wait = min(wait, 1)  # only to see the last handlers finish
            request = receive_request(
                self.queue_url,
                free_slots=free,
                max_messages=options.max_messages,
                wait_time_seconds=wait,
                visibility_timeout=options.visibility_timeout,
            )
            assert request is not None
            started = time.monotonic()
            answer = await self._call_until(run, "ReceiveMessage", request, interruptible=True)
            raws = [] if answer is None else _messages(answer)
            # An answer holding more than was asked for (a broken or hostile endpoint): the extra
            # messages have no slot, so they are given back at once, never handled.
            raws, extra = raws[:free], raws[free:]
            self._free(run, free - len(raws))
            if extra:
                await self._give_back(run, extra, free)
            if answer is None:
                return
            if not raws:
                with self._lock:
                    idle = not run.held
                if until_empty and idle:
                    return
                continue
            self._count("received", len(raws))
            helds = [self._hold(run, raw, started) for raw in raws]
            if run.stopping.is_set():
                return  # held: released on the way out
            by_message = {id(held.message): held for held in helds}
            for lane in message_lanes([held.message for held in helds]):
                await run.lanes.put(tuple(by_message[id(m)] for m in lane))

    async def _give_back(self, run: _Run, extra: list[Mapping[str, Any]], asked: int) -> None:
        """Release (visibility 0) messages received beyond the ``asked`` for, unhandled."""
        self._count("received", len(extra))
        self._count("released", len(extra))
        logger.warning(
            "SQS consumer of %s: ReceiveMessage gave %d messages more than the %d asked for; "
            "released unhandled",
            self.queue_url,
            len(extra),
            asked,
            extra={"queue_url": self.queue_url, "released": len(extra)},
        )
        for raw in extra:
            message = self._codec.decode(raw, queue=self.queue_url)
            if not message.receipt_handle:
                continue
            try:
                await run.acks.put((_VISIBILITY, message, 0))
            except QueueClosed:
                return  # stopping: they come back after their visibility timeout

    def _hold(self, run: _Run, raw: Mapping[str, Any], received_at: float) -> _Held:
        message = self._codec.decode(raw, queue=self.queue_url)
        heartbeat = run.heartbeat
        lease = (
            heartbeat.lease(received_at)
            if heartbeat is not None
            else Lease(received_at, received_at + (self._options.visibility_timeout or 30))
        )
        held = _Held(message, raw, lease)
        with self._lock:
            run.held.add(held)
            if message.message_id and message.receipt_handle:
                run.handles[message.message_id] = message.receipt_handle
        return held

    def _free(self, run: _Run, count: int) -> None:
        for _ in range(count):
            try:
                run.slots.put_nowait(0)
            except QueueClosed:
                return

    async def _call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self._client.call(
            operation, params, errors=_CallFailed, retry=_ONE_ATTEMPT
        )
        return result

    async def _call_until(
        self, run: _Run, operation: str, params: Mapping[str, Any], *, interruptible: bool = False
    ) -> dict[str, Any] | None:
        """Call until it succeeds; None when the run stops first or the failure is permanent
        (``run.fatal`` is then set and the run stopping). An ``interruptible`` call (the long
        poll) is given up as soon as the run stops, so a stop never waits for it."""
        while True:
            try:
                if interruptible:
                    answer = await unless(
                        run.stopping, self._call, operation, params, grace=_RECEIVE_GRACE
                    )
                else:
                    answer = await self._call(operation, params)
            except Interrupted:
                return None
            except _CallFailed as exc:
                decision = run.failures.failed(
                    exc.info, self.queue_url, now=time.monotonic(), rng=self._rng
                )
                if isinstance(decision, GiveUp):
                    logger.error("%s", decision.error, extra={"aws_error_code": exc.info.code})
                    run.fatal = decision.error
                    self._request_stop(run, 0.0)
                    return None
                self._count("errors")
                if decision.log:
                    logger.warning(
                        "SQS consumer of %s: %s failed with %s (%d in a row, %d not logged); "
                        "retrying in %.1f s",
                        self.queue_url,
                        operation,
                        exc.info.code,
                        decision.streak,
                        decision.suppressed,
                        decision.delay,
                        extra={"aws_error_code": exc.info.code, "streak": decision.streak},
                    )
                if await run.stopping.wait(decision.delay):
                    return None
                continue
            except Exception as exc:
                error = ConsumerError(
                    f"the SQS consumer of {self.queue_url} stopped: {operation} failed "
                    f"({type(exc).__name__})"
                )
                error.__cause__ = exc
                logger.error("%s", error, exc_info=exc)
                run.fatal = error
                self._request_stop(run, 0.0)
                return None
            streak = run.failures.succeeded()
            if streak:
                logger.info(
                    "SQS consumer of %s: %s works again after %d failures",
                    self.queue_url,
                    operation,
                    streak,
                    extra={"streak": streak},
                )
            return answer

    # ---------------------------------------------------------------------------- handling

    async def _work(self, run: _Run) -> None:
        """A worker: handle lanes, one message at a time, until the lanes are closed."""
        _IN_HANDLER.set(True)
        while True:
            try:
                lane = await run.lanes.get()
            except QueueClosed:
                return
            try:
                await self._lane(run, lane)
            except Exception as exc:  # never lose a worker (and its slot) to one message
                await self._rescue(run, lane, exc)

    async def _lane(self, run: _Run, lane: tuple[_Held, ...]) -> None:
        for held in lane:
            if run.stopping.is_set():
                return  # still held: released on the way out
            if await self._handle(run, held):
                continue
            rest = release_after_failure([h.message for h in lane], held.message)
            for later in lane[len(lane) - len(rest) :] if rest else ():
                await self._settle(run, later, visibility=0, counter="released")
            return

    async def _rescue(self, run: _Run, lane: tuple[_Held, ...], exc: Exception) -> None:
        """Handling or settling a message of ``lane`` raised what nothing expected (a bug, a
        value no policy foresaw, memory running out): the messages of the lane still held are
        released at once, unhandled and never deleted (the redrive policy counts the receive),
        and their slots are freed, so the worker takes the next lane."""
        with self._lock:
            left = [held for held in lane if held in run.held]
        logger.error(
            "SQS consumer of %s: handling message %s failed unexpectedly (%s); "
            "%d message(s) of its lane released",
            self.queue_url,
            ", ".join(held.message.message_id for held in lane[:5]),
            type(exc).__name__,
            len(left),
            exc_info=exc,
            extra={"queue_url": self.queue_url, "released": len(left)},
        )
        for held in left:
            try:
                await self._settle(run, held, visibility=0, counter="released")
            except Exception as again:
                logger.error(
                    "SQS consumer of %s: message %s could not be released",
                    self.queue_url,
                    held.message.message_id,
                    exc_info=again,
                    extra={"message_id": held.message.message_id},
                )

    async def _handle(self, run: _Run, held: _Held) -> bool:
        """Handle one message and settle it; True when its handlers all returned."""
        message = held.message
        event = message.event
        steps = self._steps(event.type) if event is not None else ()
        if event is None or not steps:
            reason = message.poison or f"no handler for event type {event.type!r:.80}"  # type: ignore[union-attr]
            logger.warning(
                "SQS message %s is poison (%s); left for the dead-letter queue",
                message.message_id,
                reason,
                extra={"message_id": message.message_id, "receive_count": message.receive_count},
            )
            action = after_poison(self._options, message, self._rng)
            await self._settle(run, held, visibility=action.visibility, counter="poison")
            return False
        token = set_current(derive_context(current_context(), event=event))
        try:
            for handler, call in steps:
                try:
                    await call(event)
                except Exception as exc:
                    report_handler_failure(event, handler, exc, self._on_error)
                    await self._failed(run, held, exc)
                    return False
        finally:
            reset_current(token)
        await self._settle(run, held, delete=True, counter="handled")
        return True

    async def _failed(self, run: _Run, held: _Held, exc: BaseException) -> None:
        message = held.message
        action = after_handler_failure(self._options, message, exc, self._rng)
        self._count("failed")
        dlq = self._options.dead_letter_queue_url
        if isinstance(action, DeadLetter) and dlq is not None:
            try:
                await self._client.call(
                    "SendMessage",
                    dead_letter_message(held.raw, message, dlq),
                    errors=_CallFailed,
                )
            except _CallFailed as failed:
                logger.error(
                    "SQS message %s could not be sent to the dead-letter queue (%s); "
                    "released for redelivery",
                    message.message_id,
                    failed.info.code,
                    extra={"message_id": message.message_id},
                )
            else:
                logger.warning(
                    "SQS message %s sent to the dead-letter queue: %s",
                    message.message_id,
                    action.reason,
                    extra={"message_id": message.message_id},
                )
                await self._settle(run, held, delete=True, counter="dead_lettered")
                return
            action = after_poison(self._options, message, self._rng)
        visibility = action.visibility if not isinstance(action, DeadLetter) else 0
        logger.info(
            "SQS message %s (receive %d) released for redelivery in %d s",
            message.message_id,
            message.receive_count,
            visibility,
            extra={"message_id": message.message_id, "visibility": visibility},
        )
        await self._settle(run, held, visibility=visibility, counter="retried")

    async def _settle(
        self,
        run: _Run,
        held: _Held,
        *,
        delete: bool = False,
        visibility: int = 0,
        counter: str,
    ) -> None:
        """The message is done here: acknowledge it (delete, or set its visibility) and free its
        slot. A message released already (a stop that did not wait) is left as it is."""
        with self._lock:
            if held not in run.held:
                return
            run.held.discard(held)
            self._counters.add(counter)
        message = held.message
        try:
            if message.receipt_handle:
                try:
                    await run.acks.put((_DELETE if delete else _VISIBILITY, message, visibility))
                except QueueClosed:
                    logger.info(
                        "SQS message %s finished after the consumer stopped; it will be "
                        "delivered again",
                        message.message_id,
                        extra={"message_id": message.message_id},
                    )
        finally:
            # No longer held: its slot is free whatever became of the acknowledgement.
            self._free(run, 1)

    # ----------------------------------------------------------------------- acknowledging

    async def _acknowledge(self, run: _Run) -> None:
        """Send deletes and visibility changes in batches until the queue of them is closed."""
        while True:
            try:
                first = await run.acks.get()
            except QueueClosed:
                return
            items = [first]
            while len(run.acks) and len(items) < 100:
                items.append(await run.acks.get())
            deletes = [message for kind, message, _ in items if kind == _DELETE]
            changes = [(message, seconds) for kind, message, seconds in items if kind != _DELETE]
            try:
                if deletes:
                    await self._delete(run, deletes)
                if changes:
                    async with self._visibility_lock:
                        await self._change_visibility(run, changes)
            except Exception as exc:  # never lose the acknowledger
                logger.error("SQS consumer acknowledgement failed", exc_info=exc)
            self._forget(run, [message for _, message, _ in items])

    def _forget(self, run: _Run, settled: list[ReceivedMessage]) -> None:
        """Drop the receipt handles of messages settled (deleted or not, released): ``handles``
        then holds only messages in flight, however many are released over a run. A handle a
        newer receive of the message stored stays: that copy is still in flight."""
        with self._lock:
            for message in settled:
                if run.handles.get(message.message_id) == message.receipt_handle:
                    del run.handles[message.message_id]

    def _latest(self, run: _Run, message: ReceivedMessage) -> ReceivedMessage:
        handle = run.handles.get(message.message_id)
        if handle is None or handle == message.receipt_handle:
            return message
        return _with_handle(message, handle)

    async def _entries(
        self,
        run: _Run,
        operation: str,
        items: list[ReceivedMessage],
        make: Callable[[list[ReceivedMessage]], list[Any]],
    ) -> BatchResult[ReceivedMessage]:
        """Send ``items`` in the batches ``make`` builds; retryable entry failures are sent again
        (core entry retry policy) and a refused receipt handle once more with a newer one."""
        attempts = self._entry_retry.start(time.monotonic())
        result: BatchResult[ReceivedMessage] = BatchResult()
        newer_tried = False
        while True:
            outcome: BatchResult[ReceivedMessage] = BatchResult()
            for batch in make(items):
                params = {"QueueUrl": self.queue_url, "Entries": list(batch.entries)}
                try:
                    answer = await self._call(operation, params)
                except _CallFailed as exc:
                    info = exc.info
                    outcome += batch.call_failed(
                        info.code, status=info.status_code, retryable=info.retryable
                    )
                else:
                    outcome += batch.result(answer)
            step = attempts.record(outcome, now=time.monotonic(), rng=self._rng)
            if isinstance(step, Finished):
                result = step.result
                if newer_tried or not result.failed:
                    return result
                # A handle refused for good may have been replaced by a newer receive.
                newer = [
                    latest
                    for latest in (self._latest(run, f.item) for f in result.failed)
                    if all(latest.receipt_handle != f.item.receipt_handle for f in result.failed)
                ]
                if not newer:
                    return result
                newer_tried = True
                done = BatchResult(result.succeeded)
                again = await self._entries(run, operation, newer, make)
                return done + again
            items = [self._latest(run, m) for m in step.items]
            await sleep(step.delay)

    async def _delete(self, run: _Run, messages: list[ReceivedMessage]) -> None:
        latest = [self._latest(run, m) for m in messages]
        result = await self._entries(run, "DeleteMessageBatch", latest, delete_batches)
        with self._lock:
            self._counters.add("deleted", len(result.succeeded))
            self._counters.add("delete_failed", len(result.failed))
            for message in result.succeeded:
                if run.handles.get(message.message_id) == message.receipt_handle:
                    del run.handles[message.message_id]
        if result.failed:
            logger.warning(
                "SQS consumer of %s: %s; those messages will be delivered again (handles %s)",
                self.queue_url,
                result.describe(),
                ", ".join(short_handle(f.item.receipt_handle) for f in result.failed[:5]),
                extra={"queue_url": self.queue_url, "delete_failed": len(result.failed)},
            )

    async def _change_visibility(
        self, run: _Run, changes: list[tuple[ReceivedMessage, int]]
    ) -> BatchResult[ReceivedMessage]:
        seconds = {id(message): value for message, value in changes}

        def make(items: list[ReceivedMessage]) -> list[Any]:
            return visibility_batches([(m, seconds.get(id(m), 0)) for m in items])

        latest = []
        for message, value in changes:
            current = self._latest(run, message)
            seconds[id(current)] = value
            latest.append(current)
        result = await self._entries(run, "ChangeMessageVisibilityBatch", latest, make)
        if result.failed:
            logger.info(
                "SQS consumer of %s: visibility change: %s",
                self.queue_url,
                result.describe(),
                extra={"queue_url": self.queue_url},
            )
        return result

    # --------------------------------------------------------------------------- heartbeat

    async def _beat(self, run: _Run, heartbeat: Heartbeat) -> None:
        """Extend the visibility of held messages before it runs out, until the run ends."""
        idle = max(0.05, heartbeat.fraction * min(heartbeat.visibility_timeout, heartbeat.period))
        while not run.beat_stop.is_set():
            now = time.monotonic()
            with self._lock:
                for held in run.held:
                    if not held.expired and heartbeat.expired(held.lease, now):
                        held.expired = True
                leases = [(held, held.lease) for held in run.held if not held.expired]
            due = heartbeat.extensions(leases, now)
            pause = idle
            if due:
                try:
                    async with self._visibility_lock:
                        with self._lock:
                            due = [item for item in due if item[0] in run.held]
                        result = await self._change_visibility(
                            run, [(held.message, value) for held, value, _ in due]
                        )
                except Exception as exc:
                    logger.error("SQS consumer heartbeat failed", exc_info=exc)
                    result = BatchResult()
                extended = {held.message.message_id for held, _, _ in due} - {
                    f.item.message_id for f in result.failed
                }
                with self._lock:
                    for held, _, lease in due:
                        if held.message.message_id in extended:
                            held.lease = lease
                    self._counters.add("extended", len(extended))
                if result.failed:
                    pause = min(idle, 0.5)
            with self._lock:
                next_at = heartbeat.next_check([h.lease for h in run.held if not h.expired])
            if next_at is not None:
                pause = min(pause, max(0.05, next_at - time.monotonic()))
            await run.beat_stop.wait(pause)


def _messages(answer: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    messages = answer.get("Messages")
    if not isinstance(messages, list):
        return []
    return [m if isinstance(m, Mapping) else {} for m in messages]


def _queue_visibility(answer: Mapping[str, Any]) -> int:
    attributes = answer.get("Attributes")
    value = attributes.get("VisibilityTimeout") if isinstance(attributes, Mapping) else None
    try:
        return max(0, int(value)) if value is not None else 30
    except (TypeError, ValueError):
        return 30


def _with_handle(message: ReceivedMessage, handle: str) -> ReceivedMessage:
    from dataclasses import replace

    return replace(message, receipt_handle=handle)
