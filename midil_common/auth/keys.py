"""Public keys from a JWKS, checked once and kept ready for verification.

A key is refused (and left out of the key set) when it is symmetric (``oct``: never HMAC with a key
from a JWKS), is not for signatures (``use``/``key_ops``), has an RSA modulus under 2048 bits, an
unknown curve, or an ``alg`` that does not fit its type. Private members of a JWK are ignored: only
the public ones are read.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from jwt.exceptions import InvalidKeyError

__all__ = [
    "ALGORITHMS_BY_KEY",
    "SUPPORTED_ALGORITHMS",
    "KeySet",
    "VerificationKey",
    "key_from_jwk",
]

logger = logging.getLogger("midil.auth")

_RSA_ALGS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
ALGORITHMS_BY_KEY: dict[tuple[str, str | None], frozenset[str]] = {
    ("RSA", None): _RSA_ALGS,
    ("EC", "P-256"): frozenset({"ES256"}),
    ("EC", "P-384"): frozenset({"ES384"}),
    ("EC", "P-521"): frozenset({"ES512"}),
    ("OKP", "Ed25519"): frozenset({"EdDSA"}),
    ("OKP", "Ed448"): frozenset({"EdDSA"}),
}
"""Which algorithms a key of each ``(kty, crv)`` may verify."""

SUPPORTED_ALGORITHMS = frozenset().union(*ALGORITHMS_BY_KEY.values())
"""Every algorithm an authorizer can be configured with (asymmetric only)."""

MIN_RSA_BITS = 2048


@dataclass(frozen=True, slots=True)
class VerificationKey:
    """One public key, prepared: ``key`` is the ``cryptography`` public key object."""

    kid: str | None
    kty: str
    crv: str | None
    algorithms: frozenset[str]
    key: Any = field(repr=False)


def _require_str(jwk: Mapping[str, Any], name: str) -> str:
    value = jwk.get(name)
    if type(value) is not str or not value:
        raise ValueError(f"member {name!r} is missing or not a string")
    return value


def key_from_jwk(jwk: Mapping[str, Any], *, min_rsa_bits: int = MIN_RSA_BITS) -> VerificationKey:
    """Check and prepare one JWK; raises ``ValueError`` saying why a key is refused."""
    if not isinstance(jwk, Mapping):
        raise ValueError("a key is not a JSON object")
    kty = jwk.get("kty")
    if kty == "oct":
        raise ValueError("symmetric keys are never accepted from a JWKS")
    kid = jwk.get("kid")
    if kid is not None and type(kid) is not str:
        raise ValueError("'kid' is not a string")
    use = jwk.get("use")
    if use is not None and use != "sig":
        raise ValueError("'use' is not 'sig'")
    ops = jwk.get("key_ops")
    if ops is not None and (type(ops) is not list or "verify" not in ops):
        raise ValueError("'key_ops' does not allow 'verify'")
    crv: str | None = None
    key: Any
    try:
        if kty == "RSA":
            public = {"kty": "RSA", "n": _require_str(jwk, "n"), "e": _require_str(jwk, "e")}
            key = RSAAlgorithm.from_jwk(public)
            if key.key_size < min_rsa_bits:
                raise ValueError(f"RSA key of {key.key_size} bits, under {min_rsa_bits}")
        elif kty == "EC":
            crv = _require_str(jwk, "crv")
            if ("EC", crv) not in ALGORITHMS_BY_KEY:
                raise ValueError("unsupported curve")
            x, y = _require_str(jwk, "x"), _require_str(jwk, "y")
            key = ECAlgorithm.from_jwk({"kty": "EC", "crv": crv, "x": x, "y": y})
        elif kty == "OKP":
            crv = _require_str(jwk, "crv")
            if ("OKP", crv) not in ALGORITHMS_BY_KEY:
                raise ValueError("unsupported curve")
            key = OKPAlgorithm.from_jwk({"kty": "OKP", "crv": crv, "x": _require_str(jwk, "x")})
        else:
            raise ValueError("unsupported key type")
    except (InvalidKeyError, TypeError, KeyError) as exc:
        raise ValueError(f"invalid {kty} key") from exc
    allowed = ALGORITHMS_BY_KEY[(str(kty), crv)]
    alg = jwk.get("alg")
    if alg is not None:
        if alg not in allowed:
            raise ValueError("'alg' does not fit the key type")
        allowed = frozenset({alg})
    return VerificationKey(kid=kid, kty=str(kty), crv=crv, algorithms=allowed, key=key)


@dataclass(frozen=True)
class KeySet:
    """Usable keys indexed by ``kid`` (keys without a ``kid`` sit under None)."""

    by_kid: dict[str | None, tuple[VerificationKey, ...]] = field(default_factory=dict)
    refused: int = 0
    """How many keys of the document were left out."""

    @classmethod
    def from_jwks(cls, document: Any, *, min_rsa_bits: int = MIN_RSA_BITS) -> KeySet:
        """Build a key set from a JWKS (a dict, or JSON bytes/str).

        Raises ``ValueError`` when the document is not a JWKS or holds no usable key.
        """
        if isinstance(document, (bytes, bytearray, str)):
            try:
                document = json.loads(document)
            except (ValueError, RecursionError) as exc:
                raise ValueError("the key set is not JSON") from exc
        if not isinstance(document, Mapping) or type(document.get("keys")) is not list:
            raise ValueError("the key set has no 'keys' list")
        by_kid: dict[str | None, list[VerificationKey]] = {}
        refused = 0
        for jwk in document["keys"]:
            try:
                key = key_from_jwk(jwk, min_rsa_bits=min_rsa_bits)
            except ValueError as exc:
                refused += 1
                logger.debug("JWK refused: %s", exc, extra={"reason": str(exc)})
                continue
            by_kid.setdefault(key.kid, []).append(key)
        if not by_kid:
            raise ValueError("the key set holds no usable key")
        return cls({k: tuple(v) for k, v in by_kid.items()}, refused)

    def __len__(self) -> int:
        return sum(len(v) for v in self.by_kid.values())

    def candidates(self, kid: str | None) -> tuple[VerificationKey, ...]:
        """Keys under ``kid``; for a token without ``kid``, the set's only key, if it has one."""
        if kid is None and None not in self.by_kid:
            return next(iter(self.by_kid.values())) if len(self) == 1 else ()
        return self.by_kid.get(kid, ())

    @property
    def kids(self) -> frozenset[str | None]:
        """Every ``kid`` in the set."""
        return frozenset(self.by_kid)
