"""The verification policy (RFC 8725), as pure functions of token, keys, policy and ``now``.

Order of checks: structure and size, header (``alg`` on the allow-list and never ``none`` or HMAC,
``crit``, ``typ``), key choice (the key must fit the algorithm), signature, then claims (``iss``
exact, ``exp``/``nbf``/``iat`` with an explicit leeway, ``aud`` against the configured audience,
and without one a token carrying ``aud`` refused (RFC 7519 section 4.1.3) unless the policy says
``accept_any_audience``, required claims, claim types). ``jku``, ``x5u``, ``x5c`` and ``jwk`` headers are never read:
keys come only from the configured key set.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jwt.algorithms import Algorithm, get_default_algorithms

from midil_common.auth.claims import TokenClaims
from midil_common.auth.jws import DEFAULT_MAX_TOKEN_SIZE, ParsedToken, decode_payload, parse_token
from midil_common.auth.keys import SUPPORTED_ALGORITHMS, KeySet, VerificationKey
from midil_common.errors import (
    ConfigError,
    InvalidAudienceError,
    InvalidClaimError,
    InvalidIssuerError,
    InvalidSignatureError,
    KeyNotFoundError,
    TokenExpiredError,
    TokenNotYetValidError,
    UnsupportedAlgorithmError,
)

__all__ = [
    "DEFAULT_ALGORITHMS",
    "MAX_LEEWAY",
    "VerificationPolicy",
    "check_header",
    "select_key",
    "validate_claims",
    "verify_parsed",
    "verify_signature",
    "verify_token",
]

DEFAULT_ALGORITHMS = ("RS256", "ES256")
MAX_LEEWAY = 300.0

# PyJWT's algorithm objects do the signature check over ``cryptography``; no crypto of ours.
_ALGORITHM_OBJECTS: dict[str, Algorithm] = {
    name: obj for name, obj in get_default_algorithms().items() if name in SUPPORTED_ALGORITHMS
}


def _str_tuple(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


@dataclass(frozen=True)
class VerificationPolicy:
    """What a token must satisfy to be accepted for one issuer.

    Args:
        issuer: the exact expected ``iss``.
        audience: accepted ``aud`` values; when set, a token without ``aud`` is refused. When
            empty, a token that carries ``aud`` is refused (RFC 7519 section 4.1.3: a token
            naming audiences is only for a recipient that finds itself among them).
        accept_any_audience: the explicit opt-out of that refusal, for issuers whose tokens name
            audiences this service does not check; cannot be combined with ``audience``.
        algorithms: the allow-list (asymmetric only; ``none`` and ``HS*`` are refused here).
        leeway: clock skew allowed for ``exp``, ``nbf`` and ``iat``, in seconds (0 to 300).
        required_claims: claims that must be present (``exp`` by default).
        token_type: when set, the header ``typ`` must equal it (``at+jwt`` for RFC 9068), with or
            without the ``application/`` prefix, case-insensitively.
        max_token_size: tokens longer than this are refused before any work.
    """

    issuer: str
    audience: tuple[str, ...] = ()
    algorithms: frozenset[str] = frozenset(DEFAULT_ALGORITHMS)
    leeway: float = 0.0
    required_claims: tuple[str, ...] = ("exp",)
    token_type: str | None = None
    max_token_size: int = DEFAULT_MAX_TOKEN_SIZE
    accept_any_audience: bool = False
    _audience_set: frozenset[str] = field(init=False, repr=False, compare=False)

    @classmethod
    def build(
        cls,
        issuer: str,
        *,
        audience: str | Iterable[str] | None = None,
        algorithms: Iterable[str] = DEFAULT_ALGORITHMS,
        leeway: float = 0.0,
        required_claims: Iterable[str] = ("exp",),
        token_type: str | None = None,
        max_token_size: int = DEFAULT_MAX_TOKEN_SIZE,
        accept_any_audience: bool = False,
    ) -> VerificationPolicy:
        """Build a policy from the loose argument forms the authorizers accept."""
        return cls(
            issuer=issuer,
            audience=_str_tuple(audience),
            algorithms=frozenset(_str_tuple(algorithms)),
            leeway=float(leeway),
            required_claims=_str_tuple(required_claims),
            token_type=token_type,
            max_token_size=max_token_size,
            accept_any_audience=accept_any_audience,
        )

    def __post_init__(self) -> None:
        if not isinstance(self.issuer, str) or not self.issuer:
            raise ConfigError("the issuer must be a non-empty string", variable="issuer")
        if not self.algorithms:
            raise ConfigError("at least one algorithm must be allowed", variable="algorithms")
        refused = sorted(self.algorithms - SUPPORTED_ALGORITHMS)
        if refused:
            raise ConfigError(
                f"algorithms {refused} are not allowed: only asymmetric algorithms "
                f"{sorted(SUPPORTED_ALGORITHMS)} (never 'none' or HMAC with a JWKS)",
                variable="algorithms",
            )
        if not 0.0 <= self.leeway <= MAX_LEEWAY:
            raise ConfigError(
                f"leeway must be within 0 and {MAX_LEEWAY} seconds", variable="leeway"
            )
        if type(self.accept_any_audience) is not bool:
            raise ConfigError(
                "accept_any_audience must be True or False", variable="accept_any_audience"
            )
        if self.accept_any_audience and self.audience:
            raise ConfigError(
                "accept_any_audience cannot be combined with an audience: pass one or the other",
                variable="accept_any_audience",
            )
        if self.max_token_size < 64:
            raise ConfigError("max_token_size is too small", variable="max_token_size")
        object.__setattr__(self, "_audience_set", frozenset(self.audience))
        if self.token_type is not None:
            object.__setattr__(self, "token_type", _normal_typ(self.token_type))


def _normal_typ(value: str) -> str:
    value = value.lower()
    return value[12:] if value.startswith("application/") else value


def check_header(parsed: ParsedToken, policy: VerificationPolicy) -> None:
    """Header rules: allowed ``alg``, no unknown ``crit``, the expected ``typ``."""
    if parsed.alg not in policy.algorithms:
        raise UnsupportedAlgorithmError("the token's algorithm is not allowed")
    header = parsed.header
    if "crit" in header:
        # No JWS extension is understood, so any critical one means the token is refused.
        raise InvalidClaimError("the token names critical header extensions", claim="crit")
    if policy.token_type is not None:
        typ = header.get("typ")
        if type(typ) is not str or _normal_typ(typ) != policy.token_type:
            raise InvalidClaimError("the token's 'typ' is not the expected type", claim="typ")
    elif "typ" in header and type(header["typ"]) is not str:
        raise InvalidClaimError("the header 'typ' is not a string", claim="typ")


def select_key(parsed: ParsedToken, keys: KeySet) -> VerificationKey:
    """The key of ``keys`` that verifies this token: same ``kid`` and fitting the algorithm."""
    candidates = keys.candidates(parsed.kid)
    if not candidates:
        raise KeyNotFoundError("no key of the issuer matches the token's 'kid'")
    for key in candidates:
        if parsed.alg in key.algorithms:
            return key
    raise UnsupportedAlgorithmError("the token's algorithm does not fit the issuer's key")


def verify_signature(parsed: ParsedToken, key: VerificationKey) -> None:
    """Check the signature with PyJWT's algorithm object over ``cryptography``."""
    if parsed.alg not in key.algorithms:
        raise UnsupportedAlgorithmError("the token's algorithm does not fit the issuer's key")
    if not parsed.signature:
        raise InvalidSignatureError("the token has no signature")
    try:
        ok = _ALGORITHM_OBJECTS[parsed.alg].verify(parsed.signing_input, key.key, parsed.signature)
    except (ValueError, TypeError) as exc:
        raise InvalidSignatureError("the signature does not verify") from exc
    if not ok:
        raise InvalidSignatureError("the signature does not verify")


def _number(payload: Mapping[str, Any], name: str) -> float | None:
    value = payload.get(name)
    if value is None:
        if name in payload:
            raise InvalidClaimError(f"claim {name!r} must be a number", claim=name)
        return None
    if type(value) is int or (type(value) is float and math.isfinite(value)):
        return value
    raise InvalidClaimError(f"claim {name!r} must be a number", claim=name)


def validate_claims(
    payload: Mapping[str, Any], policy: VerificationPolicy, now: float
) -> TokenClaims:
    """Check ``iss``, times, ``aud`` and required claims of a signature-checked payload.

    The payload dict becomes the claims' ``raw``: hand over a dict nothing else holds.
    """
    for name in policy.required_claims:
        if name not in payload:
            raise InvalidClaimError(f"the token has no {name!r} claim", claim=name)
    get = payload.get
    iss = get("iss")
    if iss != policy.issuer or type(iss) is not str:
        raise InvalidIssuerError("the token's issuer is not the expected one")
    # Integer times (the usual case) need no further check; the rest go through _number.
    exp = get("exp")
    if type(exp) is not int and (exp is not None or "exp" in payload):
        exp = _number(payload, "exp")
    iat = get("iat")
    if type(iat) is not int and (iat is not None or "iat" in payload):
        iat = _number(payload, "iat")
    nbf = get("nbf")
    if type(nbf) is not int and (nbf is not None or "nbf" in payload):
        nbf = _number(payload, "nbf")
    leeway = policy.leeway
    if exp is not None and now >= exp + leeway:
        raise TokenExpiredError("the token has expired")
    if nbf is not None and nbf > now + leeway:
        raise TokenNotYetValidError("the token is not valid yet")
    if iat is not None and iat > now + leeway:
        raise TokenNotYetValidError("the token was issued in the future")
    aud = get("aud")
    if policy.audience:
        if type(aud) is str:
            ok = aud in policy._audience_set
        elif type(aud) is list:
            ok = any(type(a) is str and a in policy._audience_set for a in aud)
        else:
            ok = False
        if not ok:
            raise InvalidAudienceError("the token is not meant for this audience")
    elif (aud is not None or "aud" in payload) and not policy.accept_any_audience:
        # RFC 7519 section 4.1.3: no configured audience can identify this service in ``aud``.
        raise InvalidAudienceError("the token names an audience but none is configured to check it")
    raw = payload if type(payload) is dict else dict(payload)
    return TokenClaims._from_checked(raw, iss, aud, exp, iat, nbf)


def verify_parsed(
    parsed: ParsedToken, key: VerificationKey, policy: VerificationPolicy, now: float
) -> TokenClaims:
    """Signature, then claims, of a token whose header passed :func:`check_header`."""
    verify_signature(parsed, key)
    return validate_claims(decode_payload(parsed), policy, now)


def verify_token(token: Any, keys: KeySet, policy: VerificationPolicy, now: float) -> TokenClaims:
    """Verify ``token`` against ``keys`` under ``policy`` at time ``now``: the whole policy, pure.

    Raises an ``InvalidTokenError`` subclass saying why; messages never contain the token.
    """
    parsed = parse_token(token, policy.max_token_size)
    check_header(parsed, policy)
    return verify_parsed(parsed, select_key(parsed, keys), policy, now)
