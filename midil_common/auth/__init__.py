"""Inbound token verification and outbound credentials: the shared, I/O-free part.

The shells (``midil_sync``, ``midil_async``) wrap :class:`TokenVerifier` into ``JWTAuthorizer``,
``CognitoJWTAuthorizer`` and ``MultiIssuerAuthorizer``.
"""

from midil_common.auth.claims import TokenClaims
from midil_common.auth.cognito import (
    CognitoRules,
    check_cognito_claims,
    cognito_issuer,
    cognito_jwks_url,
    parse_user_pool_id,
)
from midil_common.auth.discovery import (
    DEFAULT_FETCH_TIMEOUT,
    DEFAULT_MAX_JWKS_SIZE,
    DiscoveryDocument,
    check_fetch_url,
    discovery_url,
    fetch_request,
    parse_discovery,
    parse_jwks_response,
    response_max_age,
)
from midil_common.auth.jwks_cache import Decision, Fetch, JWKSCache, Refuse, Use
from midil_common.auth.jws import ParsedToken, decode_payload, parse_token, unverified_issuer
from midil_common.auth.keys import SUPPORTED_ALGORITHMS, KeySet, VerificationKey, key_from_jwk
from midil_common.auth.permissions import PermissionPolicy
from midil_common.auth.policy import (
    DEFAULT_ALGORITHMS,
    VerificationPolicy,
    check_header,
    select_key,
    validate_claims,
    verify_signature,
    verify_token,
)
from midil_common.auth.protocols import AsyncAuthorizer, AsyncAuthProvider, Authorizer, AuthProvider
from midil_common.auth.remote_policy import RemotePermissionPolicy
from midil_common.auth.token_cache import CachedVerification, VerifiedTokenCache
from midil_common.auth.tokens import AccessToken
from midil_common.auth.verifier import RefreshRound, TokenVerifier

__all__ = [
    "DEFAULT_ALGORITHMS",
    "DEFAULT_FETCH_TIMEOUT",
    "DEFAULT_MAX_JWKS_SIZE",
    "SUPPORTED_ALGORITHMS",
    "AccessToken",
    "AsyncAuthProvider",
    "AsyncAuthorizer",
    "AuthProvider",
    "Authorizer",
    "CachedVerification",
    "CognitoRules",
    "Decision",
    "DiscoveryDocument",
    "Fetch",
    "JWKSCache",
    "KeySet",
    "ParsedToken",
    "PermissionPolicy",
    "RefreshRound",
    "Refuse",
    "RemotePermissionPolicy",
    "TokenClaims",
    "TokenVerifier",
    "Use",
    "VerificationKey",
    "VerificationPolicy",
    "VerifiedTokenCache",
    "check_cognito_claims",
    "check_fetch_url",
    "check_header",
    "cognito_issuer",
    "cognito_jwks_url",
    "decode_payload",
    "discovery_url",
    "fetch_request",
    "key_from_jwk",
    "parse_discovery",
    "parse_jwks_response",
    "parse_token",
    "parse_user_pool_id",
    "response_max_age",
    "select_key",
    "unverified_issuer",
    "validate_claims",
    "verify_signature",
    "verify_token",
]
