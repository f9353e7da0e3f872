"""The core that both shells' authorizers drive: policy + JWKS cache + refresh rounds, no I/O.

A shell calls :meth:`TokenVerifier.check`; it returns the claims, or a :class:`Fetch` decision when
the key set must be fetched first. The shell then takes its lock, re-checks with
:meth:`TokenVerifier.needs_fetch`, drives a :class:`RefreshRound` (send each request it yields,
feed back the response or the ``TransportError``) and calls ``check(..., allow_fetch=False)``.

A key fetch has a total deadline (``fetch_deadline``, 5 s by default), not only per-read timeouts:
the shell computes it with :meth:`TokenVerifier.fetch_deadline_at` when a caller starts needing
keys, the round stamps it on every request it yields (``Request.deadline``, which the transports
enforce), and a caller that waits for another caller's fetch waits at most until its own deadline
(then :meth:`TokenVerifier.wait_timed_out` is the error). A caller whose :class:`Fetch` is
``servable`` does not wait at all for a fetch already in flight: the cached key serves it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from midil_common.auth.claims import TokenClaims
from midil_common.auth.discovery import (
    DEFAULT_FETCH_TIMEOUT,
    DEFAULT_MAX_JWKS_SIZE,
    check_fetch_url,
    check_issuer_url,
    discovery_url,
    fetch_request,
    parse_discovery,
    parse_jwks_response,
    retry_delay,
)
from midil_common.auth.jwks_cache import Fetch, JWKSCache, Refuse, Use
from midil_common.auth.jws import decode_payload, parse_token
from midil_common.auth.keys import KeySet
from midil_common.auth.policy import VerificationPolicy, check_header, validate_claims
from midil_common.auth.policy import verify_signature as _verify_signature
from midil_common.auth.token_cache import DEFAULT_TOKEN_CACHE_SIZE, VerifiedTokenCache
from midil_common.errors import ConfigError, JWKSFetchError, TransportError
from midil_common.errors import TimeoutError as TransportTimeoutError
from midil_common.http.types import Request, Response, Timeout
from midil_common.http.urls import url_host

__all__ = ["DEFAULT_FETCH_DEADLINE", "RefreshRound", "TokenVerifier"]

logger = logging.getLogger("midil.auth")

DEFAULT_FETCH_DEADLINE = 5.0
"""Seconds a whole key fetch (discovery and key set) may take, however slowly bytes arrive."""


class TokenVerifier:
    """Everything an authorizer decides, for one issuer.

    Args:
        policy: the verification policy.
        jwks_url: where the keys are; None means "from the issuer's discovery document".
        jwks: a JWKS dict seeding the keys for offline use (then nothing is ever fetched).
        cache: the JWKS cache state (defaults apply when None).
        token_cache_size: entries of the verified-token LRU (1024 by default; 0: off).
        extra_check: a further check on verified claims (the Cognito rules, say).
        timeout, max_jwks_size: limits of discovery and JWKS requests.
        fetch_deadline: seconds a whole fetch round may take (discovery and key set, retries
            included), and the longest a caller waits for a fetch another caller is running.
    """

    def __init__(
        self,
        policy: VerificationPolicy,
        *,
        jwks_url: str | None = None,
        jwks: Mapping[str, Any] | None = None,
        cache: JWKSCache | None = None,
        token_cache_size: int = DEFAULT_TOKEN_CACHE_SIZE,
        extra_check: Callable[[TokenClaims], None] | None = None,
        timeout: Timeout = DEFAULT_FETCH_TIMEOUT,
        max_jwks_size: int = DEFAULT_MAX_JWKS_SIZE,
        fetch_deadline: float = DEFAULT_FETCH_DEADLINE,
    ) -> None:
        if (
            type(fetch_deadline) not in (int, float)
            or not math.isfinite(fetch_deadline)
            or fetch_deadline <= 0
        ):
            raise ConfigError(
                "fetch_deadline must be a positive number of seconds", variable="fetch_deadline"
            )
        self.fetch_deadline = float(fetch_deadline)
        self.policy = policy
        self.cache = cache if cache is not None else JWKSCache()
        self.jwks_url = None if jwks_url is None else check_fetch_url(jwks_url, "jwks_url")
        if jwks is None:
            if jwks_url is None:
                check_issuer_url(policy.issuer)
        else:
            try:
                keys = KeySet.from_jwks(jwks)
            except ValueError as exc:
                raise ConfigError(
                    f"the jwks argument is unusable: {exc}", variable="jwks"
                ) from None
            self.cache.seed(keys, 0.0, static=True)
        self.token_cache = VerifiedTokenCache(token_cache_size) if token_cache_size > 0 else None
        self.extra_check = extra_check
        self.timeout = timeout
        self.max_jwks_size = max_jwks_size

    @property
    def issuer(self) -> str:
        """The expected ``iss``."""
        return self.policy.issuer

    @property
    def offline(self) -> bool:
        """True when the keys were seeded from a dict and are never fetched."""
        return self.cache.static

    def check(self, token: Any, now: float, *, allow_fetch: bool = True) -> TokenClaims | Fetch:
        """Verify ``token`` with cached keys, or say that the key set must be fetched first.

        Raises an ``InvalidTokenError`` subclass, or ``JWKSFetchError`` when keys are unavailable.
        """
        token_cache = self.token_cache
        policy = self.policy
        digest = b""
        if token_cache is not None and type(token) is str:
            digest = token_cache.digest(token)
            hit = token_cache.lookup(digest, now)
            if hit is not None and hit.policy is policy:
                # Only under the policy that checked the claims, and while the key set still hands
                # out the key that checked the signature: a refetch, a rotation or keys too stale
                # to serve mean a full verification.
                ready = self.cache.lookup(hit.kid, hit.alg, now, allow_fetch=allow_fetch)
                if ready.__class__ is Use and ready.key is hit.key:
                    return hit.claims
        parsed = parse_token(token, policy.max_token_size)
        check_header(parsed, policy)
        decision = self.cache.lookup(parsed.kid, parsed.alg, now, allow_fetch=allow_fetch)
        if decision.__class__ is Use:
            _verify_signature(parsed, decision.key)
            claims = validate_claims(decode_payload(parsed), policy, now)
            if self.extra_check is not None:
                self.extra_check(claims)
            if token_cache is not None and digest:
                token_cache.put(
                    digest,
                    claims,
                    policy.leeway,
                    kid=parsed.kid,
                    alg=parsed.alg,
                    key=decision.key,
                    policy=policy,
                    size=len(token),
                )
            return claims
        if isinstance(decision, Refuse):
            raise decision.error
        assert isinstance(decision, Fetch)
        return decision

    def needs_fetch(self, wanted: Fetch, now: float) -> bool:
        """Re-check under the shell's lock: is the fetch still wanted (no one else did it)?"""
        return isinstance(self.cache.lookup(wanted.kid, wanted.alg, now), Fetch)

    def fetch_deadline_at(self, mono: float) -> float:
        """The ``time.monotonic()`` instant by which a fetch wanted at ``mono`` must be over."""
        return mono + self.fetch_deadline

    def wait_timed_out(self) -> JWKSFetchError:
        """The error of a caller whose deadline passed while another caller's fetch ran."""
        return JWKSFetchError(
            "the issuer's keys are unavailable: no key set fetch finished within the fetch "
            f"deadline ({self.fetch_deadline:g} s)"
        )

    def refresh(
        self,
        wanted: Fetch | None,
        now: float,
        *,
        force: bool = False,
        deadline: float | None = None,
    ) -> RefreshRound:
        """Start a fetch round (discovery if needed, then the key set).

        ``deadline`` (a ``time.monotonic()`` instant, from :meth:`fetch_deadline_at`) goes on
        every request of the round.
        """
        return RefreshRound(self, wanted, force=force, deadline=deadline)


class RefreshRound:
    """One attempt to (re)load the key set: the requests to send, and what their outcomes mean.

    Drive it with ``while (request := round.next_request()) is not None``: sleep ``round.delay``,
    send, then :meth:`on_response` or :meth:`on_error`. ``round.error`` holds the failure, if any.
    Every request carries ``round.deadline``; a shell that can abandon the round when the deadline
    passes (a cancelled task) reports it with :meth:`expire`.
    """

    def __init__(
        self,
        verifier: TokenVerifier,
        wanted: Fetch | None,
        *,
        force: bool,
        deadline: float | None = None,
    ) -> None:
        self._verifier = verifier
        self.deadline = deadline
        self._wanted = wanted
        self._force = force
        self._attempt = 0
        self._request: Request | None = None
        self.delay = 0.0
        self.error: JWKSFetchError | None = None
        self.done = verifier.offline
        if verifier.offline and force:
            self.done = True

    def _url(self) -> tuple[str, bool]:
        v = self._verifier
        if v.jwks_url is not None:
            return v.jwks_url, False
        return discovery_url(v.policy.issuer), True

    def next_request(self) -> Request | None:
        """The next request to send, or None when the round is over."""
        if self.done:
            return None
        if self._request is None:
            url, _ = self._url()
            v = self._verifier
            request = fetch_request(url, timeout=v.timeout, max_size=v.max_jwks_size)
            if self.deadline is not None:
                request = replace(request, deadline=self.deadline)
            self._request = request
            self._attempt = 0
            self.delay = 0.0
        self._attempt += 1
        return self._request

    def on_response(self, response: Response, now: float) -> None:
        """Feed back the response to the request last returned."""
        v = self._verifier
        _, is_discovery = self._url()
        try:
            if is_discovery:
                doc = parse_discovery(response, v.policy.issuer)
                assert doc.jwks_uri is not None
                v.jwks_url = doc.jwks_uri
                self._request = None  # next: the key set
                return
            keys, max_age = parse_jwks_response(response)
        except JWKSFetchError as exc:
            self._fail(exc, now)
            return
        v.cache.fetched(keys, now, max_age=max_age, wanted=self._wanted)
        logger.info(
            "fetched the key set of issuer %s: %d keys (%d refused)",
            v.issuer,
            len(keys),
            keys.refused,
            extra={"issuer": v.issuer, "keys": len(keys), "refused_keys": keys.refused},
        )
        self.done = True

    def on_error(self, error: TransportError, now: float) -> None:
        """Feed back the transport error of the request last returned.

        A connection error gets one quick retry, unless the round's deadline has passed.
        """
        past_deadline = isinstance(error, TransportTimeoutError) and error.phase == "deadline"
        delay = None if past_deadline else retry_delay(error, self._attempt)
        if delay is not None:
            self.delay = delay
            return
        self._fail(JWKSFetchError(f"cannot fetch the {self._what()}: {error}"), now)

    def expire(self, now: float) -> None:
        """The deadline passed before the round was over (the shell abandoned it)."""
        if self.done:
            return
        deadline = self._verifier.fetch_deadline
        self._fail(
            JWKSFetchError(
                f"cannot fetch the {self._what()}: no complete answer within the fetch "
                f"deadline ({deadline:g} s)"
            ),
            now,
        )

    def _what(self) -> str:
        url, is_discovery = self._url()
        what = "discovery document" if is_discovery else "key set"
        return f"{what} from {url_host(url)}"

    def _fail(self, error: JWKSFetchError, now: float) -> None:
        logger.warning(
            "key set fetch for issuer %s failed: %s",
            self._verifier.issuer,
            error,
            extra={"issuer": self._verifier.issuer, "reason": str(error)},
        )
        self._verifier.cache.fetch_failed(str(error), now)
        self.error = error
        self.done = True
