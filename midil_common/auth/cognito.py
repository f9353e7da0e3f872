"""AWS Cognito rules: pool ids, issuer and JWKS URLs, and the checks Cognito tokens need."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from midil_common.auth.claims import TokenClaims
from midil_common.errors import (
    ConfigError,
    InvalidAudienceError,
    InvalidClaimError,
    PermissionDeniedError,
)

__all__ = [
    "CognitoRules",
    "check_cognito_claims",
    "cognito_issuer",
    "cognito_jwks_url",
    "emulator_jwks_url",
    "parse_user_pool_id",
]

_POOL_ID = re.compile(r"([a-z]{2}(?:-gov)?-[a-z]+-\d)_[0-9A-Za-z]+")


def parse_user_pool_id(user_pool_id: str, region: str | None = None) -> str:
    """Check a pool id (``{region}_{id}``) and return its region; ``ConfigError`` when invalid."""
    match = _POOL_ID.fullmatch(user_pool_id) if isinstance(user_pool_id, str) else None
    if match is None:
        raise ConfigError(
            "the user pool id must look like 'eu-west-1_AbC123'", variable="cognito_user_pool_id"
        )
    if region is not None and region != match.group(1):
        raise ConfigError("the user pool id names another region", variable="region")
    return match.group(1)


def cognito_issuer(user_pool_id: str, region: str | None = None) -> str:
    """``https://cognito-idp.{region}.amazonaws.com/{pool}``."""
    region = parse_user_pool_id(user_pool_id, region)
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


def cognito_jwks_url(user_pool_id: str, region: str | None = None) -> str:
    """``{issuer}/.well-known/jwks.json``."""
    return cognito_issuer(user_pool_id, region) + "/.well-known/jwks.json"


def emulator_jwks_url(endpoint_url: str | None, user_pool_id: str) -> str | None:
    """``{endpoint_url}/{pool}/.well-known/jwks.json``, where a local Cognito emulator (moto,
    LocalStack) serves a pool's keys; None without an emulator (the keys are then Cognito's)."""
    if not endpoint_url:
        return None
    return f"{endpoint_url.rstrip('/')}/{user_pool_id}/.well-known/jwks.json"


@dataclass(frozen=True)
class CognitoRules:
    """What a Cognito token must carry beyond the generic policy.

    ``token_use`` must be ``access`` or ``id``; ``client_ids`` are checked against ``client_id``
    (access tokens; ``aud`` of id tokens is checked by the policy's audience); ``groups``, when
    given, require membership of at least one. An id token always names its app client in ``aud``
    (which RFC 7519 section 4.1.3 requires the recipient to check), so ``token_use="id"`` needs
    ``client_ids``: without them, construction raises ``ConfigError``.
    """

    token_use: str = "access"
    client_ids: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.token_use not in ("access", "id"):
            raise ConfigError("token_use must be 'access' or 'id'", variable="token_use")
        if self.token_use == "id" and not self.client_ids:
            raise ConfigError(
                "token_use='id' needs client_ids: an id token's 'aud' is the app client id, "
                "which must be checked",
                variable="client_ids",
            )

    @classmethod
    def build(
        cls,
        token_use: str = "access",
        client_ids: str | Iterable[str] | None = None,
        groups: str | Iterable[str] | None = None,
    ) -> CognitoRules:
        """Build rules from loose argument forms."""
        ids = (client_ids,) if isinstance(client_ids, str) else tuple(client_ids or ())
        grp = (groups,) if isinstance(groups, str) else tuple(groups or ())
        return cls(token_use=token_use, client_ids=frozenset(ids), groups=frozenset(grp))


def check_cognito_claims(claims: TokenClaims, rules: CognitoRules) -> None:
    """Check ``token_use``, ``client_id`` (access tokens) and required groups."""
    if claims.token_use != rules.token_use:
        raise InvalidClaimError(
            f"the token is not a Cognito {rules.token_use} token", claim="token_use"
        )
    if (
        rules.token_use == "access"
        and rules.client_ids
        and claims.client_id not in rules.client_ids
    ):
        raise InvalidAudienceError("the token was issued to another app client")
    if rules.groups and not (claims.groups & rules.groups):
        raise PermissionDeniedError("the user is in none of the required groups")
