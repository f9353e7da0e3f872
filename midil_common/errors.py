"""One exception tree for the whole SDK.

Both shells raise these classes, so a caller catches the same exception whether the kit used requests or
httpx, boto3 or aiobotocore. Third-party exceptions are chained (``raise ... from``), never leaked.
Messages never contain a token, a secret or a raw request body.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from midil_common.http.types import Response
    from midil_common.jsonapi.models import ErrorObject

__all__ = [
    "AuthError",
    "ChallengeRequired",
    "ClientError",
    "CodeMismatchError",
    "ConfigError",
    "ConnectError",
    "ConsumerError",
    "EventError",
    "ExpiredCodeError",
    "HTTPError",
    "HTTPStatusError",
    "InvalidAudienceError",
    "InvalidClaimError",
    "InvalidCredentialsError",
    "InvalidDocumentError",
    "InvalidEventError",
    "InvalidIssuerError",
    "InvalidQueryError",
    "InvalidResponseError",
    "InvalidSignatureError",
    "InvalidTokenError",
    "InvalidURLError",
    "JSONAPIError",
    "JWKSFetchError",
    "KeyNotFoundError",
    "MalformedTokenError",
    "MidilError",
    "MissingTokenError",
    "NotAcceptableError",
    "PasswordResetRequiredError",
    "PermissionDeniedError",
    "PublishError",
    "RateLimitError",
    "ResponseTooLargeError",
    "ScheduleConflictError",
    "SchedulerError",
    "ServerError",
    "SessionExpiredError",
    "TimeoutError",
    "TokenExpiredError",
    "TokenNotYetValidError",
    "TokenRequestError",
    "TooManyRedirectsError",
    "TooManyRequestsError",
    "TransportError",
    "UnsupportedAlgorithmError",
    "UnsupportedMediaTypeError",
    "UserAuthError",
    "UserExistsError",
    "UserNotConfirmedError",
    "UserNotFoundError",
    "UserPoolUnavailableError",
    "WeakPasswordError",
]


class MidilError(Exception):
    """Root of every exception the kit raises on purpose."""


class ConfigError(MidilError, ValueError):
    """Configuration is missing or invalid; the message names the setting (never its secret value)."""

    def __init__(self, message: str, *, variable: str | None = None) -> None:
        super().__init__(message)
        self.variable = variable


# --------------------------------------------------------------------------------------------- auth


class InvalidURLError(ConfigError):
    """A URL the kit refuses to connect to (see :func:`midil_common.http.urls.check_url`).

    Refused are URLs that HTTP libraries could read differently (a ``\\``, a control character or
    whitespace in the host part, user info, a bad port), so a credential meant for one host can never
    reach another. ``variable`` names the argument or setting that held it.
    """


class AuthError(MidilError):
    """Base of authentication and authorization failures."""


class MissingTokenError(AuthError):
    """A protected resource was asked for without a bearer token (401 without an ``error``)."""

    def __init__(self, message: str = "authentication is required") -> None:
        super().__init__(message)


class InvalidTokenError(AuthError):
    """The token was refused. Subclasses say why; the message never echoes the token."""


class MalformedTokenError(InvalidTokenError):
    """The token is not a well-formed compact JWS (segments, base64url, JSON, size)."""


class TokenExpiredError(InvalidTokenError):
    """The token's ``exp`` has passed (beyond the configured leeway)."""


class TokenNotYetValidError(InvalidTokenError):
    """The token's ``nbf`` or ``iat`` lies in the future (beyond the configured leeway)."""


class InvalidSignatureError(InvalidTokenError):
    """The signature does not verify with the issuer's key."""


class InvalidIssuerError(InvalidTokenError):
    """The ``iss`` claim is missing or is not the expected issuer."""


class InvalidAudienceError(InvalidTokenError):
    """The ``aud`` claim (or Cognito ``client_id``) does not name an accepted audience."""


class InvalidClaimError(InvalidTokenError):
    """A claim or header is missing, of the wrong type, or has a refused value."""

    def __init__(self, message: str, *, claim: str | None = None) -> None:
        super().__init__(message)
        self.claim = claim


class UnsupportedAlgorithmError(InvalidTokenError):
    """The token's ``alg`` is not on the allow-list, or does not fit the key."""


class KeyNotFoundError(InvalidTokenError):
    """No key of the issuer's key set matches the token's ``kid``."""


class JWKSFetchError(AuthError):
    """The issuer's discovery document or key set could not be fetched and no usable keys are cached."""


class TokenRequestError(AuthError):
    """A token endpoint refused or failed a request; carries the OAuth ``error`` fields, never secrets."""

    def __init__(
        self,
        message: str,
        *,
        error: str | None = None,
        error_description: str | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.error = error
        self.error_description = error_description
        self.status_code = status_code


class PermissionDeniedError(AuthError):
    """The caller is authenticated but lacks a scope, group or permission."""

    def __init__(
        self,
        message: str,
        *,
        required_scopes: Sequence[str] = (),
        permission: str | None = None,
    ) -> None:
        super().__init__(message)
        self.required_scopes = tuple(required_scopes)
        self.permission = permission


# ------------------------------------------------------------------------------------ user sessions


class UserAuthError(AuthError):
    """Base of the failures of user sign-up, login and session calls (Cognito user pools).

    ``code`` is the identity provider's error code (``NotAuthorizedException``, ...) or None;
    ``retryable`` says whether repeating the same call later may succeed. The message is the kit's
    own text: it never contains a password, a confirmation code or a token.
    """

    def __init__(self, message: str, *, code: str | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


class InvalidCredentialsError(UserAuthError):
    """Wrong user name or password (Cognito ``NotAuthorizedException`` on login)."""


class UserNotFoundError(InvalidCredentialsError):
    """The user does not exist (only when the pool reveals it; otherwise a plain
    :class:`InvalidCredentialsError`)."""


class UserNotConfirmedError(UserAuthError):
    """The user signed up but has not confirmed the registration code yet."""


class PasswordResetRequiredError(UserAuthError):
    """The user must reset the password (``forgot_password`` then ``reset_password``)."""


class UserExistsError(UserAuthError):
    """A user with this name or e-mail address exists already."""


class CodeMismatchError(UserAuthError):
    """The confirmation or reset code is wrong."""


class ExpiredCodeError(UserAuthError):
    """The confirmation or reset code has expired; ask for a new one."""


class WeakPasswordError(UserAuthError):
    """The new password breaks the pool's password policy; ``detail`` says which rule, when known."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        retryable: bool = False,
        detail: str | None = None,
    ) -> None:
        super().__init__(message, code=code, retryable=retryable)
        self.detail = detail


class SessionExpiredError(UserAuthError):
    """The session's tokens were revoked, signed out or expired: the user must log in again."""


class ChallengeRequired(UserAuthError):
    """Login needs another step: ``challenge`` (``NEW_PASSWORD_REQUIRED``, ``SMS_MFA``,
    ``SOFTWARE_TOKEN_MFA``, ...) answered through ``respond_to_challenge``.

    ``session`` is the provider's opaque challenge session (never shown in the message or repr),
    ``parameters`` the challenge parameters, ``username`` the user it is for.
    """

    def __init__(
        self,
        challenge: str,
        *,
        session: str | None = None,
        parameters: dict[str, str] | None = None,
        username: str | None = None,
    ) -> None:
        super().__init__(f"login needs the {challenge} challenge answered", code=challenge)
        self.challenge = challenge
        self.session = session
        self.parameters: dict[str, str] = dict(parameters or {})
        self.username = username

    def __repr__(self) -> str:
        return f"ChallengeRequired({self.challenge!r}, username={self.username!r})"


class TooManyRequestsError(UserAuthError):
    """Throttled or too many attempts; throttling is retried with backoff before this is raised."""


class UserPoolUnavailableError(UserAuthError):
    """The identity provider could not be reached or failed (after retries)."""


# --------------------------------------------------------------------------------------------- http


class HTTPError(MidilError):
    """Base of outbound HTTP failures."""


class HTTPStatusError(HTTPError):
    """The server answered with a status the caller treats as failure."""

    def __init__(
        self, message: str, *, response: Response, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.response = response
        self.status_code = response.status_code
        self.retry_after = retry_after


class ClientError(HTTPStatusError):
    """A 4xx answer."""


class RateLimitError(ClientError):
    """A 429 answer; ``retry_after`` holds the server's wish in seconds, or None."""


class ServerError(HTTPStatusError):
    """A 5xx answer."""


class TooManyRedirectsError(HTTPError):
    """A chain of redirects was longer than the client's ``max_redirects``."""

    def __init__(self, message: str, *, response: Response) -> None:
        super().__init__(message)
        self.response = response


class TransportError(HTTPError):
    """The exchange failed below HTTP (connection, timeout, protocol).

    ``request_sent`` is False only when the kit knows no byte of the request reached the server, which
    makes a retry safe for any method.
    """

    def __init__(self, message: str, *, request_sent: bool = True) -> None:
        super().__init__(message)
        self.request_sent = request_sent


class TimeoutError(TransportError, builtins.TimeoutError):
    """A connect, read, write or pool timeout; ``phase`` says which."""

    def __init__(self, message: str, *, phase: str = "read", request_sent: bool = True) -> None:
        TransportError.__init__(self, message, request_sent=request_sent)
        self.phase = phase

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ConnectError(TransportError):
    """The connection could not be established; nothing was sent."""

    def __init__(self, message: str, *, request_sent: bool = False) -> None:
        super().__init__(message, request_sent=request_sent)


class ResponseTooLargeError(TransportError):
    """The response body exceeded the configured size cap; reading stopped there."""


class InvalidResponseError(TransportError):
    """The server's answer broke HTTP in a way the kit will not act on (an unusable ``Location``,
    a malformed ``Content-Length``); repeating the request cannot help, so it is not retried."""


# ------------------------------------------------------------------------------------------ jsonapi


class JSONAPIError(MidilError):
    """Base of JSON:API failures; ``errors`` are JSON:API error objects, ``status`` the HTTP status."""

    default_status = 400

    def __init__(
        self,
        message: str,
        *,
        errors: Sequence[ErrorObject] = (),
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.errors: list[ErrorObject] = list(errors)
        self.status: int = status if status is not None else self.default_status


class InvalidDocumentError(JSONAPIError, ValueError):
    """A JSON:API document breaks the specification; each error points at the offending member."""


class InvalidQueryError(JSONAPIError):
    """A JSON:API query parameter is malformed or not allowed; errors carry ``source.parameter``."""


class UnsupportedMediaTypeError(JSONAPIError):
    """The request's ``Content-Type`` is not acceptable JSON:API (415)."""

    default_status = 415


class NotAcceptableError(JSONAPIError):
    """No media type in ``Accept`` can be served (406)."""

    default_status = 406


# ------------------------------------------------------------------------------------------- events


class EventError(MidilError):
    """Base of event publishing and consuming failures."""


class InvalidEventError(EventError, ValueError):
    """An event or message body is not a valid event."""


class PublishError(EventError):
    """Some events were not accepted; ``failed`` holds them so nothing is dropped silently."""

    def __init__(self, message: str, *, failed: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.failed: list[Any] = list(failed)


class SchedulerError(EventError):
    """An EventBridge Scheduler call failed: ``code`` is the service's error code."""

    def __init__(self, message: str, *, code: str | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


class ScheduleConflictError(SchedulerError):
    """A schedule of that name exists with another definition (``code`` ``ConflictException``);
    ``differences`` names the fields that differ."""

    def __init__(self, message: str, *, differences: tuple[str, ...] = ()) -> None:
        super().__init__(message, code="ConflictException")
        self.differences = differences


class ConsumerError(EventError):
    """A consumer could not receive, handle or acknowledge messages."""
