"""When to retry an HTTP request and how long to wait: a pure policy plus two small state objects.

:class:`RetryPolicy` is an immutable value. Its :meth:`RetryPolicy.decide` looks at one finished attempt
(a :class:`~midil_common.http.types.Response` or a
:class:`~midil_common.errors.TransportError`) and answers :class:`Retry` or :class:`Stop`; it never
sleeps and never reads the clock or a global random source, so it is tested with plain values.

Two pieces of state sit beside it, both owned by a client and driven by its shell:

- :class:`RetryBudget`, a token bucket per client (botocore's "standard" mode): every retry spends
  tokens, every answered request refunds a little, so a dependency that keeps failing does not get a
  retry storm. It is not thread-safe on purpose: the sync shell holds its lock around the call.
- :class:`Attempts`, the state of one request across its attempts (attempt number, start time, the
  single re-authentication after a 401). Never shared between requests.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from midil_common.errors import (
    ConfigError,
    InvalidResponseError,
    ResponseTooLargeError,
    TimeoutError,
    TransportError,
)
from midil_common.http.headers import parse_retry_after
from midil_common.http.types import Response, status_error

if TYPE_CHECKING:
    from midil_common.settings import HttpSettings, MidilSettings

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRY_AFTER_STATUSES",
    "RETRY_STATUSES",
    "Attempts",
    "Decision",
    "Outcome",
    "Random",
    "Reauthenticate",
    "Retry",
    "RetryBudget",
    "RetryPolicy",
    "Stop",
    "credentials_still_current",
]

logger = logging.getLogger("midil.http")

IDEMPOTENT_METHODS: frozenset[str] = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
"""Methods RFC 9110 calls idempotent: a repeat cannot do more harm than the first try."""

RETRY_STATUSES: frozenset[int] = frozenset({429, 502, 503, 504})
"""Statuses that mean "not now" rather than "no": retried by default. 500 is opt-in."""

RETRY_AFTER_STATUSES: frozenset[int] = frozenset({429, 503})
"""Statuses whose ``Retry-After`` the policy honours (RFC 9110 section 10.2.3)."""

# A client error other than these means the request itself is wrong; repeating it cannot help.
_NEVER_RETRIED_4XX_EXCEPT = frozenset({408, 429})

Outcome = Response | TransportError
"""What one attempt produced: a response (any status) or a transport failure."""


class Random(Protocol):
    """The part of :class:`random.Random` the policy uses, so tests can pass a fixed source."""

    def random(self) -> float:
        """A float in ``[0, 1)``."""


@dataclass(frozen=True, slots=True)
class Retry:
    """Try again after ``delay`` seconds.

    ``sleep`` is what the shell actually sleeps: ``delay``, or 0 when the policy's testing switch
    turned sleeping off.
    """

    delay: float
    reason: str
    sleep: float


@dataclass(frozen=True, slots=True)
class Stop:
    """Do not try again; the last outcome is final. ``reason`` says why (for logs and tests)."""

    reason: str
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class Reauthenticate:
    """The request got 401 with credentials from a provider: invalidate them and repeat once now."""

    reason: str = "unauthorized"


Decision = Retry | Stop


def credentials_still_current(
    used: Mapping[str, str] | None, current: Mapping[str, str] | None
) -> bool:
    """After a 401: should the provider be invalidated?

    Only when it would still hand out the credentials that were refused. When concurrent requests
    are refused together, the first one invalidates and fetches fresh credentials; the others then
    find them changed and simply repeat, so one refusal costs one token request, not one per request.
    """
    return dict(used or {}) == dict(current or {})


class RetryBudget:
    """A token bucket shared by every request of one client (botocore's standard retry quota).

    Not thread-safe: the shell calls it under its own lock (and the async shell from one event loop).
    """

    __slots__ = ("available", "capacity")

    def __init__(self, capacity: int) -> None:
        if capacity < 0:
            raise ConfigError("retry budget capacity must be >= 0")
        self.capacity = capacity
        self.available = capacity

    def withdraw(self, cost: int) -> bool:
        """Take ``cost`` tokens for a retry; False (and nothing taken) when there are not enough."""
        if cost > self.available:
            return False
        self.available -= cost
        return True

    def deposit(self, amount: int) -> None:
        """Give back ``amount`` tokens, never above the capacity."""
        self.available = min(self.capacity, self.available + amount)

    def __repr__(self) -> str:
        return f"RetryBudget({self.available}/{self.capacity})"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a client retries: safe by default, an immutable value shared freely between clients.

    Defaults follow urllib3, stamina and botocore: at most 4 attempts; exponential backoff with full
    jitter (0.1 s, x2, capped at 5 s); only idempotent methods (POST and PATCH only with an
    ``Idempotency-Key``), except that a failure before any byte was sent is retried for every method;
    statuses 429, 502, 503, 504; ``Retry-After`` honoured on 429 and 503 up to ``retry_after_max``
    (a longer wish stops retrying at once); an overall ``deadline`` over attempts and sleeps; a budget
    of ``budget_capacity`` tokens per client. ``sleep=False`` is the testing switch: decisions stay
    the same but the shell does not wait.
    """

    max_attempts: int = 4
    backoff_initial: float = 0.1
    backoff_multiplier: float = 2.0
    backoff_max: float = 5.0
    jitter: bool = True
    retry_statuses: Collection[int] = RETRY_STATUSES
    idempotent_methods: Collection[str] = IDEMPOTENT_METHODS
    respect_retry_after: bool = True
    retry_after_max: float = 60.0
    deadline: float | None = 30.0
    budget_capacity: int | None = 500
    budget_retry_cost: int = 5
    budget_timeout_cost: int = 10
    budget_success_refund: int = 1
    sleep: bool = True

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError("RetryPolicy.max_attempts must be >= 1")
        if self.backoff_initial < 0 or self.backoff_max < 0 or self.retry_after_max < 0:
            raise ConfigError("RetryPolicy delays must be >= 0")
        if self.backoff_multiplier < 1:
            raise ConfigError("RetryPolicy.backoff_multiplier must be >= 1")
        if self.deadline is not None and self.deadline <= 0:
            raise ConfigError("RetryPolicy.deadline must be > 0 or None")
        if self.budget_capacity is not None and self.budget_capacity < 0:
            raise ConfigError("RetryPolicy.budget_capacity must be >= 0 or None")
        # Normalised so that equal policies compare equal and lookups are case-insensitive.
        object.__setattr__(self, "retry_statuses", frozenset(int(s) for s in self.retry_statuses))
        object.__setattr__(
            self, "idempotent_methods", frozenset(m.upper() for m in self.idempotent_methods)
        )

    # ------------------------------------------------------------------------------ constructors

    @classmethod
    def no_retries(cls) -> RetryPolicy:
        """A policy that never retries (one attempt)."""
        return cls(max_attempts=1)

    @classmethod
    def from_settings(cls, settings: MidilSettings | HttpSettings | None = None) -> RetryPolicy:
        """The policy described by the ``http`` settings section (``MIDIL_HTTP__...``); like every
        ``from_settings`` of the kit it takes the whole settings (read from the environment when
        None), and also accepts the section itself."""
        from midil_common.settings import MidilSettings, load_settings

        if settings is None:
            settings = load_settings()
        if isinstance(settings, MidilSettings):
            settings = settings.http
        return cls(
            max_attempts=settings.max_attempts,
            backoff_initial=settings.backoff_initial,
            backoff_multiplier=settings.backoff_multiplier,
            backoff_max=settings.backoff_max,
            deadline=settings.deadline,
            retry_after_max=settings.retry_after_max,
            retry_statuses=frozenset(settings.retry_statuses),
            budget_capacity=settings.retry_budget,
        )

    def replace(self, **changes: object) -> RetryPolicy:
        """A copy with some fields changed, e.g. ``policy.replace(sleep=False)``."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def new_budget(self) -> RetryBudget | None:
        """A fresh budget for one client, or None when the budget is disabled."""
        if self.budget_capacity is None:
            return None
        return RetryBudget(self.budget_capacity)

    # --------------------------------------------------------------------------------- decisions

    def backoff(self, attempt: int, rng: Random) -> float:
        """The wait after failed attempt number ``attempt`` (1-based), with full jitter."""
        exponent = min(attempt - 1, 64)
        ceiling = min(self.backoff_max, self.backoff_initial * self.backoff_multiplier**exponent)
        return rng.random() * ceiling if self.jitter else ceiling

    def may_repeat(self, method: str, *, idempotency_key: bool = False) -> bool:
        """Whether a request that reached the server may be sent again."""
        return method.upper() in self.idempotent_methods or idempotency_key

    def decide(
        self,
        *,
        method: str,
        outcome: Outcome,
        attempt: int,
        elapsed: float,
        rng: Random,
        idempotency_key: bool = False,
        replayable: bool = True,
        budget: RetryBudget | None = None,
        now: float | None = None,
    ) -> Decision:
        """Retry or stop after attempt number ``attempt`` (1-based) produced ``outcome``.

        ``elapsed`` is the time since the first attempt started; ``now`` (Unix time) turns an HTTP-date
        ``Retry-After`` into seconds. ``budget`` is spent when the answer is :class:`Retry` and
        refunded when the outcome is an answer the policy does not retry.
        """
        retry_after: float | None = None
        if isinstance(outcome, TransportError):
            if isinstance(outcome, ResponseTooLargeError):
                return Stop("response_too_large")
            if isinstance(outcome, InvalidResponseError):
                return Stop("invalid_response")
            if isinstance(outcome, TimeoutError) and outcome.phase == "deadline":
                return Stop("deadline")
            if not replayable:
                return Stop("body_not_replayable")
            if outcome.request_sent and not self.may_repeat(
                method, idempotency_key=idempotency_key
            ):
                return Stop("method_not_retryable")
            timed_out = isinstance(outcome, TimeoutError)
            reason = "timeout" if timed_out else type(outcome).__name__
            cost = self.budget_timeout_cost if timed_out else self.budget_retry_cost
        else:
            status = outcome.status_code
            if status not in self.retry_statuses or (
                400 <= status < 500 and status not in _NEVER_RETRIED_4XX_EXCEPT
            ):
                if budget is not None and status < 500:
                    budget.deposit(self.budget_success_refund)
                return Stop("final_status")
            if not replayable:
                return Stop("body_not_replayable")
            if not self.may_repeat(method, idempotency_key=idempotency_key):
                return Stop("method_not_retryable")
            if self.respect_retry_after and status in RETRY_AFTER_STATUSES:
                retry_after = parse_retry_after(outcome.headers.get("retry-after"), now=now)
                if retry_after is not None and retry_after > self.retry_after_max:
                    return Stop("retry_after_too_long", retry_after)
            reason = f"status_{status}"
            cost = self.budget_retry_cost
        if attempt >= self.max_attempts:
            return Stop("attempts_exhausted", retry_after)
        delay = retry_after if retry_after is not None else self.backoff(attempt, rng)
        if self.deadline is not None and elapsed + delay >= self.deadline:
            return Stop("deadline", retry_after)
        if budget is not None and not budget.withdraw(cost):
            return Stop("budget_exhausted", retry_after)
        return Retry(delay=delay, reason=reason, sleep=delay if self.sleep else 0.0)


class Attempts:
    """The retry state of one request: which attempt this is, when it started, whether it re-authed.

    Created per request by the client; the shell feeds it each outcome through :meth:`step` and does
    what the answer says (sleep and resend, invalidate credentials and resend, or stop).
    """

    __slots__ = (
        "_budget",
        "_can_reauthenticate",
        "_reauthenticated",
        "attempt",
        "host",
        "idempotency_key",
        "method",
        "policy",
        "replayable",
        "started",
    )

    def __init__(
        self,
        policy: RetryPolicy,
        budget: RetryBudget | None,
        *,
        method: str,
        started: float,
        idempotency_key: bool = False,
        replayable: bool = True,
        can_reauthenticate: bool = False,
        host: str = "",
    ) -> None:
        self.policy = policy
        self.host = host
        self._budget = budget
        self.method = method
        self.started = started
        self.idempotency_key = idempotency_key
        self.replayable = replayable
        self._can_reauthenticate = can_reauthenticate
        self._reauthenticated = False
        self.attempt = 0

    def step(
        self, outcome: Outcome, *, now: float, rng: Random, wall: float | None = None
    ) -> Retry | Reauthenticate | Stop:
        """What to do after the latest attempt; ``now`` is the monotonic clock, ``wall`` Unix time."""
        if (
            isinstance(outcome, Response)
            and outcome.status_code == 401
            and self._can_reauthenticate
            and not self._reauthenticated
            and self.replayable
        ):
            # One repeat with fresh credentials; it does not count as a retry of the policy.
            self._reauthenticated = True
            return Reauthenticate()
        self.attempt += 1
        decision = self.policy.decide(
            method=self.method,
            outcome=outcome,
            attempt=self.attempt,
            elapsed=now - self.started,
            rng=rng,
            idempotency_key=self.idempotency_key,
            replayable=self.replayable,
            budget=self._budget,
            now=wall,
        )
        if isinstance(decision, Retry):
            logger.info(
                "retrying %s %s after attempt %d in %.3f s (%s)",
                self.method,
                self.host or "-",
                self.attempt,
                decision.delay,
                decision.reason,
                extra={
                    "http_method": self.method,
                    "host": self.host,
                    "attempt": self.attempt,
                    "delay": decision.delay,
                    "reason": decision.reason,
                },
            )
        elif decision.reason not in ("final_status",):
            logger.debug(
                "not retrying %s %s after attempt %d (%s)",
                self.method,
                self.host or "-",
                self.attempt,
                decision.reason,
                extra={"http_method": self.method, "host": self.host, "attempt": self.attempt},
            )
        return decision

    @property
    def deadline(self) -> float | None:
        """The monotonic instant the policy's deadline ends (None without one)."""
        if self.policy.deadline is None:
            return None
        return self.started + self.policy.deadline

    def remaining(self, now: float) -> float | None:
        """Seconds left before the policy's deadline (None without one): caps the next attempt."""
        if self.policy.deadline is None:
            return None
        return max(0.001, self.policy.deadline - (now - self.started))

    @staticmethod
    def finish(outcome: Outcome, *, raise_for_status: bool) -> Response:
        """The result of the request once the policy stopped: the response, or the error raised."""
        if isinstance(outcome, TransportError):
            raise outcome
        if raise_for_status:
            error = status_error(outcome)
            if error is not None:
                raise error
        return outcome
