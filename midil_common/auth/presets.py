"""How each authorizer's core is wired, decided once for both shells.

``JWTAuthorizer`` and ``CognitoJWTAuthorizer`` in ``midil_sync`` and ``midil_async`` only pass their
arguments here and drive the returned :class:`TokenVerifier`; ``MultiIssuerAuthorizer`` routes with
:func:`pick_by_issuer`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from midil_common.auth.cognito import (
    CognitoRules,
    check_cognito_claims,
    cognito_issuer,
    cognito_jwks_url,
)
from midil_common.auth.discovery import DEFAULT_FETCH_TIMEOUT
from midil_common.auth.jwks_cache import JWKSCache
from midil_common.auth.jws import DEFAULT_MAX_TOKEN_SIZE, unverified_issuer
from midil_common.auth.policy import DEFAULT_ALGORITHMS, VerificationPolicy
from midil_common.auth.token_cache import DEFAULT_TOKEN_CACHE_SIZE
from midil_common.auth.verifier import DEFAULT_FETCH_DEADLINE, TokenVerifier
from midil_common.errors import InvalidIssuerError
from midil_common.http.types import Timeout

__all__ = ["cognito_verifier", "jwt_verifier", "pick_by_issuer"]

T = TypeVar("T")


def jwt_verifier(
    issuer: str,
    *,
    audience: str | Iterable[str] | None = None,
    jwks_url: str | None = None,
    algorithms: Iterable[str] = DEFAULT_ALGORITHMS,
    leeway: float = 0.0,
    required_claims: Iterable[str] = ("exp",),
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
) -> TokenVerifier:
    """The core of ``JWTAuthorizer``: the policy, the JWKS cache and the verifier (no I/O)."""
    policy = VerificationPolicy.build(
        issuer,
        audience=audience,
        accept_any_audience=accept_any_audience,
        algorithms=algorithms,
        leeway=leeway,
        required_claims=required_claims,
        token_type=token_type,
        max_token_size=max_token_size,
    )
    return TokenVerifier(
        policy,
        jwks_url=jwks_url,
        jwks=jwks,
        cache=JWKSCache(ttl=cache_ttl, cooldown=cooldown, max_stale=max_stale),
        token_cache_size=token_cache_size,
        timeout=timeout,
        fetch_deadline=fetch_deadline,
    )


def cognito_verifier(
    user_pool_id: str,
    region: str | None = None,
    *,
    client_ids: str | Iterable[str] | None = None,
    token_use: str = "access",
    groups: str | Iterable[str] | None = None,
    jwks_url: str | None = None,
    jwks: Mapping[str, Any] | None = None,
    leeway: float = 0.0,
    algorithms: Iterable[str] = ("RS256",),
    token_cache_size: int = DEFAULT_TOKEN_CACHE_SIZE,
    timeout: Timeout = DEFAULT_FETCH_TIMEOUT,
    fetch_deadline: float = DEFAULT_FETCH_DEADLINE,
) -> tuple[TokenVerifier, CognitoRules]:
    """The core of ``CognitoJWTAuthorizer`` and its Cognito rules.

    Id tokens carry the app client in ``aud``, so the client ids become the policy's audience;
    access tokens carry it in ``client_id``, checked by the rules after the generic policy.
    """
    rules = CognitoRules.build(token_use, client_ids, groups)
    policy = VerificationPolicy.build(
        cognito_issuer(user_pool_id, region),
        audience=rules.client_ids if rules.token_use == "id" else None,
        algorithms=algorithms,
        leeway=leeway,
    )
    verifier = TokenVerifier(
        policy,
        jwks_url=jwks_url or cognito_jwks_url(user_pool_id, region),
        jwks=jwks,
        token_cache_size=token_cache_size,
        extra_check=lambda claims: check_cognito_claims(claims, rules),
        timeout=timeout,
        fetch_deadline=fetch_deadline,
    )
    return verifier, rules


def pick_by_issuer(by_issuer: Mapping[str, T], token: str, max_token_size: int) -> T:
    """The entry of ``by_issuer`` for the token's ``iss``, read unverified and only to route.

    Raises ``InvalidIssuerError`` for an issuer that is not accepted, ``MalformedTokenError`` for a
    token that cannot be read.
    """
    chosen = by_issuer.get(unverified_issuer(token, max_token_size))
    if chosen is None:
        raise InvalidIssuerError("the token's issuer is not accepted")
    return chosen
