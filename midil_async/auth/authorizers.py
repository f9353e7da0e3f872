"""Inbound token verification: ``JWTAuthorizer``, ``CognitoJWTAuthorizer``,
``MultiIssuerAuthorizer``.

Every decision is the core's (:class:`~midil_common.auth.TokenVerifier`); this shell sends the
discovery and key set requests over the internal transport and runs each key fetch as one
``SingleFlight``, so that concurrent callers needing keys share a single fetch. A caller whose
cached key may still serve (the core's ``Fetch.servable``) never waits for a fetch in flight and
verifies with that key at once; a caller with no usable key waits for it at most until its own
fetch deadline. One source serves both shells: the sync module is generated from this one by
``scripts/unasync.py``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from midil_async._primitives import DeadlineExceeded, SingleFlight, gather, sleep, within
from midil_async._transport import Transport
from midil_common.auth.claims import TokenClaims
from midil_common.auth.discovery import DEFAULT_FETCH_TIMEOUT
from midil_common.auth.jwks_cache import Fetch
from midil_common.auth.jws import DEFAULT_MAX_TOKEN_SIZE
from midil_common.auth.policy import DEFAULT_ALGORITHMS
from midil_common.auth.presets import cognito_verifier, jwt_verifier, pick_by_issuer
from midil_common.auth.settings import cognito_kwargs, jwt_kwargs
from midil_common.auth.token_cache import DEFAULT_TOKEN_CACHE_SIZE
from midil_common.auth.verifier import DEFAULT_FETCH_DEADLINE, RefreshRound, TokenVerifier
from midil_common.errors import JWKSFetchError, TransportError
from midil_common.http.types import Timeout
from midil_common.settings import MidilSettings

__all__ = ["CognitoJWTAuthorizer", "JWTAuthorizer", "MultiIssuerAuthorizer"]


class _Shell:
    """The I/O and the single flight shared by the authorizers of this package."""

    _core: TokenVerifier

    def _start_shell(self) -> None:
        self._flight = SingleFlight()
        self._transport: Transport | None = None

    @property
    def issuer(self) -> str:
        """The expected ``iss``."""
        return self._core.issuer

    @property
    def verifier(self) -> TokenVerifier:
        """The core verifier (policy and cache state), for inspection."""
        return self._core

    async def verify(self, token: str) -> TokenClaims:
        """Verify ``token`` and return its claims, fetching the issuer's keys when needed.

        Raises an ``InvalidTokenError`` subclass for a refused token, ``JWKSFetchError`` when
        the keys cannot be fetched and none are cached.
        """
        result = self._core.check(token, time.time())
        if not isinstance(result, Fetch):
            return result
        await self._fetch(result)
        final = self._core.check(token, time.time(), allow_fetch=False)
        assert not isinstance(final, Fetch)
        return final

    def verify_cached(self, token: str) -> TokenClaims | None:
        """Verify with the keys already cached, without any I/O.

        Returns None when verification needs a key fetch (then call :meth:`verify`); raises
        like :meth:`verify` otherwise.
        """
        result = self._core.check(token, time.time())
        return None if isinstance(result, Fetch) else result

    async def hydrate(self) -> None:
        """Fetch discovery and keys now (at start-up); raises ``JWKSFetchError`` on failure."""
        core = self._core
        deadline = core.fetch_deadline_at(time.monotonic())
        try:
            error = await self._flight.run(
                lambda: self._refresh(
                    core.refresh(None, time.time(), force=True, deadline=deadline)
                ),
                deadline=deadline,
            )
        except DeadlineExceeded:
            raise core.wait_timed_out() from None
        if error is not None:
            raise error

    async def _fetch(self, wanted: Fetch) -> None:
        core = self._core
        deadline = core.fetch_deadline_at(time.monotonic())
        try:
            # A cached key that may serve never waits for a refresh another caller is running.
            await self._flight.run(
                lambda: self._refresh_if_needed(wanted, deadline),
                deadline=deadline,
                skip_if_busy=wanted.servable,
            )
        except DeadlineExceeded:
            raise core.wait_timed_out() from None

    async def _refresh_if_needed(self, wanted: Fetch, deadline: float) -> JWKSFetchError | None:
        # Another caller may have fetched while this one waited.
        if not self._core.needs_fetch(wanted, time.time()):
            return None
        return await self._refresh(self._core.refresh(wanted, time.time(), deadline=deadline))

    async def _refresh(self, round: RefreshRound) -> JWKSFetchError | None:
        """Drive ``round``, abandoning it (and its request) at its deadline."""
        try:
            return await within(self._drive(round), round.deadline)
        except DeadlineExceeded:
            round.expire(time.time())
            return round.error

    async def _drive(self, round: RefreshRound) -> JWKSFetchError | None:
        while (request := round.next_request()) is not None:
            if round.delay:
                await sleep(round.delay)
            if self._transport is None:
                self._transport = Transport()
            try:
                response = await self._transport.send(request)
            except TransportError as exc:
                round.on_error(exc, time.time())
                continue
            round.on_response(response, time.time())
        return round.error

    async def aclose(self) -> None:
        """Close the connections used for fetching keys."""
        transport, self._transport = self._transport, None
        if transport is not None:
            await transport.aclose()

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class JWTAuthorizer(_Shell):
    """Verifies JWT access or id tokens of one OpenID Connect issuer.

    Build it once and reuse it: the constructor does no network I/O. When ``jwks_url`` is not
    given it comes from ``{issuer}/.well-known/openid-configuration``. ``jwks=`` seeds the keys
    from a dict for offline use (then nothing is fetched).

    Args:
        issuer: the exact expected ``iss``.
        audience: accepted ``aud`` values; when set, tokens without ``aud`` are refused. When not
            set, tokens that carry ``aud`` are refused (RFC 7519 section 4.1.3), unless
            ``accept_any_audience`` is true.
        jwks_url: the key set URL (https, or http to a loopback host).
        algorithms: allowed algorithms (RS256 and ES256 by default; PS256, ES384, RS384, EdDSA
            and others are opt-in; ``none`` and HMAC are never allowed).
        leeway: clock skew allowed for ``exp``/``nbf``/``iat`` (0 to 300 seconds).
        required_claims: claims that must be present.
        token_type: expected header ``typ`` (``"at+jwt"`` for RFC 9068 access tokens).
        jwks: a JWKS dict for offline use.
        max_token_size: longer tokens are refused before any work.
        token_cache_size: entries of the verified-token cache (0: off). On by default: a
            hit answers exactly as a full verification would at that instant.
        cache_ttl: key freshness when the JWKS response gives no ``max-age``.
        cooldown: after a refetch that did not bring an unknown ``kid``, unknown kids are refused
            without fetching for this long.
        max_stale: how long cached keys keep serving while the issuer is unreachable.
        timeout: timeouts of discovery and JWKS requests (each read, connect, ...).
        fetch_deadline: seconds a whole key fetch (discovery and key set) may take however slowly
            the issuer answers, and the longest a caller with no usable key waits for a fetch
            another caller is running; callers whose cached keys may still serve never wait.
        accept_any_audience: accept tokens whatever their ``aud`` names, for an issuer whose
            tokens carry audiences this service does not check (off by default; cannot be
            combined with ``audience``). Prefer passing the ``audience`` the issuer mints.
    """

    def __init__(
        self,
        issuer: str,
        *,
        audience: str | Sequence[str] | None = None,
        jwks_url: str | None = None,
        algorithms: Sequence[str] = DEFAULT_ALGORITHMS,
        leeway: float = 0.0,
        required_claims: Sequence[str] = ("exp",),
        token_type: str | None = None,
        jwks: Mapping[str, Any] | None = None,
        max_token_size: int = DEFAULT_MAX_TOKEN_SIZE,
        token_cache_size: int = DEFAULT_TOKEN_CACHE_SIZE,
        cache_ttl: float = 600.0,
        cooldown: float = 10.0,
        max_stale: float = 86400.0,
        timeout: Timeout = DEFAULT_FETCH_TIMEOUT,
        accept_any_audience: bool = False,
        fetch_deadline: float = DEFAULT_FETCH_DEADLINE,
    ) -> None:
        self._core = jwt_verifier(
            issuer,
            audience=audience,
            jwks_url=jwks_url,
            algorithms=algorithms,
            leeway=leeway,
            required_claims=required_claims,
            token_type=token_type,
            jwks=jwks,
            max_token_size=max_token_size,
            token_cache_size=token_cache_size,
            cache_ttl=cache_ttl,
            cooldown=cooldown,
            max_stale=max_stale,
            timeout=timeout,
            accept_any_audience=accept_any_audience,
            fetch_deadline=fetch_deadline,
        )
        self._start_shell()

    async def __aenter__(self) -> JWTAuthorizer:
        return self

    @classmethod
    def from_settings(cls, settings: MidilSettings | None = None) -> JWTAuthorizer:
        """Build from the ``auth`` settings section, ``MIDIL_AUTH__...`` (read from the
        environment when None)."""
        return cls(**jwt_kwargs(settings))


class CognitoJWTAuthorizer(_Shell):
    """Verifies tokens of an AWS Cognito user pool.

    The issuer is ``https://cognito-idp.{region}.amazonaws.com/{pool}`` and the keys are at
    ``{issuer}/.well-known/jwks.json`` (``jwks_url`` overrides it, for a local emulator).
    ``token_use`` must be the configured one; access tokens have their ``client_id`` checked
    against ``client_ids``, id tokens their ``aud`` (so ``token_use="id"`` requires
    ``client_ids``: ``ConfigError`` without them); ``groups`` requires one of the groups.
    ``timeout`` and ``fetch_deadline`` bound key fetches as for :class:`JWTAuthorizer`.
    """

    def __init__(
        self,
        user_pool_id: str,
        region: str | None = None,
        *,
        client_ids: str | Sequence[str] | None = None,
        token_use: str = "access",
        groups: str | Sequence[str] | None = None,
        jwks_url: str | None = None,
        jwks: Mapping[str, Any] | None = None,
        leeway: float = 0.0,
        algorithms: Sequence[str] = ("RS256",),
        token_cache_size: int = DEFAULT_TOKEN_CACHE_SIZE,
        timeout: Timeout = DEFAULT_FETCH_TIMEOUT,
        fetch_deadline: float = DEFAULT_FETCH_DEADLINE,
    ) -> None:
        self._core, self.rules = cognito_verifier(
            user_pool_id,
            region,
            client_ids=client_ids,
            token_use=token_use,
            groups=groups,
            jwks_url=jwks_url,
            jwks=jwks,
            leeway=leeway,
            algorithms=algorithms,
            token_cache_size=token_cache_size,
            timeout=timeout,
            fetch_deadline=fetch_deadline,
        )
        self._start_shell()

    async def __aenter__(self) -> CognitoJWTAuthorizer:
        return self

    @classmethod
    def from_settings(cls, settings: MidilSettings | None = None) -> CognitoJWTAuthorizer:
        """Build from ``MIDIL_AUTH__COGNITO_USER_POOL_ID`` and the related settings (read from
        the environment when None)."""
        return cls(**cognito_kwargs(settings))


class MultiIssuerAuthorizer:
    """Routes each token to the authorizer of its ``iss`` (read unverified, only to route)."""

    def __init__(self, authorizers: Sequence[JWTAuthorizer | CognitoJWTAuthorizer]) -> None:
        self._by_issuer = {a.issuer: a for a in authorizers}
        self._max_size = max(
            (a.verifier.policy.max_token_size for a in authorizers), default=DEFAULT_MAX_TOKEN_SIZE
        )

    @property
    def issuers(self) -> tuple[str, ...]:
        """The accepted issuers."""
        return tuple(self._by_issuer)

    def _pick(self, token: str) -> JWTAuthorizer | CognitoJWTAuthorizer:
        return pick_by_issuer(self._by_issuer, token, self._max_size)

    async def verify(self, token: str) -> TokenClaims:
        """Verify ``token`` with the authorizer of its issuer."""
        return await self._pick(token).verify(token)

    def verify_cached(self, token: str) -> TokenClaims | None:
        """Like :meth:`JWTAuthorizer.verify_cached`, with the authorizer of the token's issuer."""
        return self._pick(token).verify_cached(token)

    async def hydrate(self) -> None:
        """Fetch every issuer's keys now."""
        await gather(*(a.hydrate() for a in self._by_issuer.values()))

    async def aclose(self) -> None:
        """Close every authorizer."""
        for authorizer in self._by_issuer.values():
            await authorizer.aclose()

    async def __aenter__(self) -> MultiIssuerAuthorizer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
