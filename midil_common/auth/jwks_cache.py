"""The JWKS cache as a pure state object shared by both shells.

The shell asks :meth:`JWKSCache.lookup` what to do for a token's ``kid`` and gets one of
:class:`Use` (a key), :class:`Fetch` (go and fetch the key set, then ask again) or :class:`Refuse`
(an error to raise). It reports the outcome of a fetch with :meth:`JWKSCache.fetched` or
:meth:`JWKSCache.fetch_failed`. Rules:

- keys are fresh for a soft TTL (default 10 minutes, or the response's ``max-age`` within bounds);
- a stale key triggers a refresh; while that refresh is in flight, and when it fails, the last good
  keys keep serving for up to ``max_stale`` seconds after they went stale (stale-while-revalidate
  and stale-if-error, RFC 5861): the :class:`Fetch` decision says so with ``servable``, and the
  shells let such a caller verify with the cached key instead of waiting for another caller's
  refresh; failed fetches are retried at most once per ``failure_backoff``;
- an unknown ``kid`` triggers one refetch; when that refetch does not bring the ``kid``, the
  issuer enters a cooldown (default 10 seconds) during which unknown kids are refused at once,
  and the ``kid`` is remembered as unknown for ``negative_ttl`` seconds;
- a key set seeded for offline use (``static``) is never refetched.
"""

from __future__ import annotations

from dataclasses import dataclass

from midil_common.auth.keys import KeySet, VerificationKey
from midil_common.errors import (
    AuthError,
    ConfigError,
    JWKSFetchError,
    KeyNotFoundError,
    UnsupportedAlgorithmError,
)

__all__ = ["Decision", "Fetch", "JWKSCache", "Refuse", "Use"]


@dataclass(frozen=True, slots=True)
class Use:
    """Verify with this key."""

    key: VerificationKey


@dataclass(frozen=True, slots=True)
class Fetch:
    """Fetch the key set (for ``kid``), report the outcome, then look up again.

    ``servable`` is True when a cached key for this ``kid`` and ``alg`` may still be served (stale,
    within ``max_stale``): a caller need not wait for a refresh another caller has in flight, as a
    lookup with ``allow_fetch=False`` hands it that key.
    """

    kid: str | None
    alg: str = ""
    servable: bool = False


@dataclass(frozen=True, slots=True)
class Refuse:
    """Raise this error."""

    error: AuthError


Decision = Use | Fetch | Refuse

_NEGATIVE_CACHE_MAX = 4096


class JWKSCache:
    """Keys of one issuer, with TTL, cooldown, negative cache and stale-if-error (no I/O, no locks).

    Args:
        ttl: freshness of fetched keys when the response gives no ``max-age``.
        min_ttl, max_ttl: bounds applied to a response's ``max-age``.
        cooldown: after a refetch that did not bring a wanted ``kid``, unknown kids are refused at
            once for this long.
        negative_ttl: how long a ``kid`` a refetch did not bring is remembered as unknown.
        max_stale: how long stale keys keep serving while refreshes fail.
        failure_backoff: at most one fetch attempt per this many seconds after a failure.
    """

    def __init__(
        self,
        *,
        ttl: float = 600.0,
        min_ttl: float = 60.0,
        max_ttl: float = 86400.0,
        cooldown: float = 10.0,
        negative_ttl: float = 60.0,
        max_stale: float = 86400.0,
        failure_backoff: float = 10.0,
    ) -> None:
        for name, value in (
            ("ttl", ttl),
            ("cooldown", cooldown),
            ("max_stale", max_stale),
            ("failure_backoff", failure_backoff),
            ("negative_ttl", negative_ttl),
        ):
            if value < 0:
                raise ConfigError(f"{name} must not be negative", variable=name)
        self.ttl = ttl
        self.min_ttl = min(min_ttl, ttl)
        self.max_ttl = max(max_ttl, ttl)
        self.cooldown = cooldown
        self.negative_ttl = negative_ttl
        self.max_stale = max_stale
        self.failure_backoff = failure_backoff
        self.keys: KeySet | None = None
        self.static = False
        self.fresh_until = 0.0
        self.fetched_at: float | None = None
        self.cooldown_until = float("-inf")
        self.retry_not_before = float("-inf")
        self.last_error: str | None = None
        self.generation = 0
        """Counts successful fetches and seeds."""
        self.failures = 0
        """Consecutive failed fetches."""
        self._unknown: dict[str | None, float] = {}
        self._ready: dict[tuple[str | None, str], Use] = {}

    # ------------------------------------------------------------------------------ decisions

    def lookup(
        self, kid: str | None, alg: str, now: float, *, allow_fetch: bool = True
    ) -> Decision:
        """What to do for a token with this ``kid`` and ``alg`` at ``now``.

        With ``allow_fetch=False`` (after a fetch round), a :class:`Fetch` becomes a refusal.
        """
        keys = self.keys
        if keys is not None and (self.static or now < self.fresh_until):
            # The hot path: a fresh key already chosen for this kid and alg.
            ready = self._ready.get((kid, alg))
            if ready is not None:
                return ready
        if keys is None:
            if allow_fetch and not self.static and now >= self.retry_not_before:
                return Fetch(kid, alg)
            return Refuse(JWKSFetchError(self._unavailable()))
        candidates = keys.candidates(kid)
        if candidates:
            key = next((k for k in candidates if alg in k.algorithms), None)
            if key is None:
                return Refuse(
                    UnsupportedAlgorithmError("the token's algorithm does not fit the issuer's key")
                )
            if self.static or now < self.fresh_until:
                use = Use(key)
                if len(self._ready) < _NEGATIVE_CACHE_MAX:
                    self._ready[(kid, alg)] = use
                return use
            if allow_fetch and now >= self.retry_not_before:
                return Fetch(kid, alg, now < self.fresh_until + self.max_stale)
            if now < self.fresh_until + self.max_stale:
                return Use(key)
            return Refuse(JWKSFetchError(self._unavailable()))
        if self.static or not allow_fetch:
            return Refuse(KeyNotFoundError("no key of the issuer matches the token's 'kid'"))
        until = self._unknown.get(kid)
        if until is not None and now < until:
            return Refuse(KeyNotFoundError("the token's 'kid' is unknown to the issuer"))
        if now < self.cooldown_until or now < self.retry_not_before:
            return Refuse(KeyNotFoundError("no key of the issuer matches the token's 'kid'"))
        return Fetch(kid, alg)

    def _unavailable(self) -> str:
        reason = f": {self.last_error}" if self.last_error else ""
        return f"the issuer's keys are unavailable{reason}"

    # ------------------------------------------------------------------------------ outcomes

    def seed(self, keys: KeySet, now: float, *, static: bool = True) -> None:
        """Install keys from a dict (offline use); ``static`` keys never expire or refetch."""
        self.static = static
        self._install(keys, now, None)

    def fetched(
        self,
        keys: KeySet,
        now: float,
        *,
        max_age: float | None = None,
        wanted: Fetch | None = None,
    ) -> None:
        """A fetch brought ``keys``; ``max_age`` from the response; ``wanted`` the decision that
        asked for the fetch (its ``kid`` is remembered as unknown when the keys lack it)."""
        self._install(keys, now, max_age)
        if wanted is not None and not keys.candidates(wanted.kid):
            self.cooldown_until = now + self.cooldown
            self._remember_unknown(wanted.kid, now)

    def fetch_failed(self, reason: str, now: float) -> None:
        """A fetch failed (``reason`` is safe to show: no token, no secret)."""
        self.failures += 1
        self.last_error = reason
        self.retry_not_before = now + self.failure_backoff

    def _install(self, keys: KeySet, now: float, max_age: float | None) -> None:
        ttl = self.ttl if max_age is None else min(max(max_age, self.min_ttl), self.max_ttl)
        self._ready = {}
        self.keys = keys
        self.fetched_at = now
        self.fresh_until = now + ttl
        self.failures = 0
        self.last_error = None
        self.retry_not_before = float("-inf")
        self.generation += 1
        for kid in [k for k in self._unknown if keys.candidates(k)]:
            del self._unknown[kid]

    def _remember_unknown(self, kid: str | None, now: float) -> None:
        if len(self._unknown) >= _NEGATIVE_CACHE_MAX:
            self._unknown = {k: t for k, t in self._unknown.items() if t > now}
            if len(self._unknown) >= _NEGATIVE_CACHE_MAX:
                self._unknown.clear()
        self._unknown[kid] = now + self.negative_ttl
