"""Cognito user-pool flows without I/O: the requests of each operation, the reading of the answers,
and the mapping of Cognito's error codes to the kit's exceptions.

The shells' ``CognitoUserClient`` and ``UserSession`` send the :class:`CognitoCall` values built
here through their AWS client factory and hand the answers back to :func:`parse_auth_result` and
:func:`parse_user`; a failure comes back as an :class:`~midil_common.aws_errors.AWSErrorInfo` that
:func:`cognito_error` turns into a :class:`~midil_common.errors.UserAuthError` subclass with the
kit's own message (no password, code or token: Cognito and its emulators echo request values into
their messages, so those are only ever shown redacted, and only for password-policy and parameter
errors).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from midil_common.auth.cognito import parse_user_pool_id
from midil_common.auth.jws import decode_payload, parse_token
from midil_common.auth.oauth import lifetime_seconds
from midil_common.auth.users import (
    CodeDelivery,
    Registration,
    SessionTokens,
    User,
    attribute_list,
    attribute_map,
)
from midil_common.aws_errors import (
    INVALID_RESPONSE,
    THROTTLING_CODES,
    TRANSIENT_CODES,
    UNKNOWN_CODE,
    AWSErrorInfo,
    redact,
)
from midil_common.errors import (
    ChallengeRequired,
    CodeMismatchError,
    ConfigError,
    ExpiredCodeError,
    InvalidCredentialsError,
    MalformedTokenError,
    PasswordResetRequiredError,
    SessionExpiredError,
    TooManyRequestsError,
    UserAuthError,
    UserExistsError,
    UserNotConfirmedError,
    UserNotFoundError,
    UserPoolUnavailableError,
    WeakPasswordError,
)

__all__ = [
    "HEALTH_PROBE_TOKEN",
    "SERVICE",
    "CognitoApp",
    "CognitoCall",
    "ProbeAnswer",
    "Purpose",
    "cognito_error",
    "health_of",
    "parse_auth_result",
    "parse_delivery",
    "parse_registration",
    "parse_user",
    "secret_hash",
    "token_username",
]

Purpose = Literal["login", "refresh", "session", "change_password", "account", "code", "health"]
"""What a call is for, which decides how some errors read: ``NotAuthorizedException`` means a wrong
password at login but an ended session when a session's token was sent."""

HEALTH_PROBE_TOKEN = "midil-health-probe"
"""The refresh token of the health probe: invalid on purpose, so the pool answers it with
``NotAuthorizedException`` (the pool and app client exist) without touching any user."""

SERVICE = "cognito-idp"


def secret_hash(username: str, client_id: str, client_secret: str) -> str:
    """Cognito's ``SECRET_HASH``: base64 of HMAC-SHA256 keyed by the app client secret over
    ``username + client_id``."""
    digest = hmac.new(
        client_secret.encode("utf-8"), (username + client_id).encode("utf-8"), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def token_username(token: str) -> str | None:
    """The ``username`` (else ``cognito:username``, else ``sub``) of a Cognito token, read WITHOUT
    verifying it: only to compute the ``SECRET_HASH`` of a refresh, never to trust anyone."""
    try:
        claims = decode_payload(parse_token(token))
    except MalformedTokenError:
        return None
    for name in ("username", "cognito:username", "sub"):
        value = claims.get(name)
        if isinstance(value, str) and value:
            return value
    return None


@dataclass(frozen=True)
class CognitoCall:
    """One Cognito operation to send: its API name, parameters, what it is for, and the secret
    values it carries (redacted from any text of the answer)."""

    operation: str
    params: dict[str, Any] = field(repr=False)
    purpose: Purpose
    secrets: tuple[str, ...] = field(default=(), repr=False)
    username: str | None = None


@dataclass(frozen=True)
class CognitoApp:
    """A user pool's app client: builds each operation's request, with the ``SECRET_HASH`` when the
    client has a secret. The region comes from the pool id when not given."""

    user_pool_id: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    region: str | None = None

    def __post_init__(self) -> None:
        region = parse_user_pool_id(self.user_pool_id, self.region)
        object.__setattr__(self, "region", region)
        if not isinstance(self.client_id, str) or not self.client_id:
            raise ConfigError("client_id must be a non-empty string", variable="client_id")
        if self.client_secret is not None and not self.client_secret:
            raise ConfigError("client_secret must not be empty (or None)", variable="client_secret")

    def _hash(self, username: str) -> dict[str, str]:
        """The hash as an entry of ``AuthParameters`` or ``ChallengeResponses``."""
        if self.client_secret is None:
            return {}
        return {"SECRET_HASH": secret_hash(username, self.client_id, self.client_secret)}

    def _hash_param(self, username: str) -> dict[str, str]:
        """The hash as the top-level ``SecretHash`` parameter of ``SignUp``, ``ConfirmSignUp``,
        ``ResendConfirmationCode``, ``ForgotPassword`` and ``ConfirmForgotPassword``."""
        if self.client_secret is None:
            return {}
        return {"SecretHash": secret_hash(username, self.client_id, self.client_secret)}

    def _secrets(self, params: Mapping[str, Any], *values: str | None) -> tuple[str, ...]:
        """What to redact from the answer to a call sending ``params``: ``values``, the client
        secret and the hash ``params`` carry. The hash is read back from ``params`` rather than
        passed by each operation, so no operation that sends one can forget it: services echo it
        (``Value '...' at 'secretHash'``) like any other parameter, and with the user name it
        stands in for the client secret until that is rotated."""
        return tuple(v for v in (*values, self.client_secret, *_sent_hashes(params)) if v)

    # ---------------------------------------------------------------------------- sign-up

    def sign_up(self, email: str, password: str, attributes: Mapping[str, Any]) -> CognitoCall:
        """``SignUp``: the user name is the e-mail address, which is also the ``email``
        attribute unless ``attributes`` set it."""
        attrs = {"email": email, **attributes}
        params: dict[str, Any] = {
            "ClientId": self.client_id,
            "Username": email,
            "Password": password,
            "UserAttributes": attribute_list(attrs),
            **self._hash_param(email),
        }
        return CognitoCall("SignUp", params, "account", self._secrets(params, password), email)

    def confirm_sign_up(self, email: str, code: str) -> CognitoCall:
        """``ConfirmSignUp`` with the code the user received."""
        params = {
            "ClientId": self.client_id,
            "Username": email,
            "ConfirmationCode": code,
            **self._hash_param(email),
        }
        return CognitoCall("ConfirmSignUp", params, "code", self._secrets(params, code), email)

    def resend_confirmation(self, email: str) -> CognitoCall:
        """``ResendConfirmationCode``."""
        params = {"ClientId": self.client_id, "Username": email, **self._hash_param(email)}
        secrets = self._secrets(params)
        return CognitoCall("ResendConfirmationCode", params, "account", secrets, email)

    # ---------------------------------------------------------------------------- login

    def login(self, email: str, password: str) -> CognitoCall:
        """``InitiateAuth`` with ``USER_PASSWORD_AUTH``."""
        params = {
            "ClientId": self.client_id,
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": email, "PASSWORD": password, **self._hash(email)},
        }
        return CognitoCall("InitiateAuth", params, "login", self._secrets(params, password), email)

    def refresh(self, refresh_token: str, username: str | None) -> CognitoCall:
        """``InitiateAuth`` with ``REFRESH_TOKEN_AUTH``; with a client secret the ``SECRET_HASH``
        is computed over the user's Cognito user name (``username`` claim)."""
        auth: dict[str, str] = {"REFRESH_TOKEN": refresh_token}
        if self.client_secret is not None:
            if not username:
                raise SessionExpiredError(
                    "the session does not know its user name, which a refresh with an app client "
                    "secret needs; log in again"
                )
            auth.update(self._hash(username))
        params = {
            "ClientId": self.client_id,
            "AuthFlow": "REFRESH_TOKEN_AUTH",
            "AuthParameters": auth,
        }
        return CognitoCall(
            "InitiateAuth", params, "refresh", self._secrets(params, refresh_token), username
        )

    def respond_to_challenge(
        self, challenge: ChallengeRequired, answers: Mapping[str, str]
    ) -> CognitoCall:
        """``RespondToAuthChallenge``: ``answers`` are the challenge responses (``NEW_PASSWORD``,
        ``SMS_MFA_CODE``, ``SOFTWARE_TOKEN_MFA_CODE``, ...; names are upper-cased)."""
        username = challenge.username or challenge.parameters.get("USER_ID_FOR_SRP") or ""
        responses = {str(k).upper(): str(v) for k, v in answers.items()}
        responses.setdefault("USERNAME", username)
        responses.update(self._hash(responses["USERNAME"]))
        params: dict[str, Any] = {
            "ClientId": self.client_id,
            "ChallengeName": challenge.challenge,
            "ChallengeResponses": responses,
        }
        if challenge.session:
            params["Session"] = challenge.session
        secrets = self._secrets(params, challenge.session, *answers.values())
        return CognitoCall("RespondToAuthChallenge", params, "login", secrets, username)

    # ---------------------------------------------------------------------------- passwords

    def forgot_password(self, email: str) -> CognitoCall:
        """``ForgotPassword``: Cognito sends the user a reset code."""
        params = {"ClientId": self.client_id, "Username": email, **self._hash_param(email)}
        return CognitoCall("ForgotPassword", params, "account", self._secrets(params), email)

    def confirm_forgot_password(self, email: str, code: str, new_password: str) -> CognitoCall:
        """``ConfirmForgotPassword`` with the code and the new password."""
        params = {
            "ClientId": self.client_id,
            "Username": email,
            "ConfirmationCode": code,
            "Password": new_password,
            **self._hash_param(email),
        }
        secrets = self._secrets(params, code, new_password)
        return CognitoCall("ConfirmForgotPassword", params, "code", secrets, email)

    # ---------------------------------------------------------------------------- session

    def get_user(self, access_token: str) -> CognitoCall:
        """``GetUser``."""
        params = {"AccessToken": access_token}
        return CognitoCall("GetUser", params, "session", self._secrets(params, access_token))

    def update_user_attributes(
        self, access_token: str, attributes: Mapping[str, Any]
    ) -> CognitoCall:
        """``UpdateUserAttributes``."""
        if not attributes:
            raise ConfigError("update_profile needs at least one attribute")
        params = {"AccessToken": access_token, "UserAttributes": attribute_list(attributes)}
        return CognitoCall(
            "UpdateUserAttributes", params, "session", self._secrets(params, access_token)
        )

    def change_password(self, access_token: str, old: str, new: str) -> CognitoCall:
        """``ChangePassword``."""
        params = {"AccessToken": access_token, "PreviousPassword": old, "ProposedPassword": new}
        secrets = self._secrets(params, access_token, old, new)
        return CognitoCall("ChangePassword", params, "change_password", secrets)

    def global_sign_out(self, access_token: str) -> CognitoCall:
        """``GlobalSignOut``: every token of the user is revoked, on every device."""
        params = {"AccessToken": access_token}
        return CognitoCall("GlobalSignOut", params, "session", self._secrets(params, access_token))

    def revoke_token(self, refresh_token: str) -> CognitoCall:
        """``RevokeToken`` of a refresh token (and the access tokens issued from it)."""
        params = {"Token": refresh_token, "ClientId": self.client_id}
        if self.client_secret is not None:
            params["ClientSecret"] = self.client_secret
        return CognitoCall("RevokeToken", params, "session", self._secrets(params, refresh_token))

    def health_probe(self) -> CognitoCall:
        """A refresh with :data:`HEALTH_PROBE_TOKEN`: ``NotAuthorizedException`` proves the pool
        and the app client answer; ``ResourceNotFoundException`` that one of them is missing."""
        call = self.refresh(HEALTH_PROBE_TOKEN, "midil-health-probe")
        return CognitoCall(call.operation, call.params, "health", call.secrets)


def _sent_hashes(params: Mapping[str, Any]) -> tuple[str, ...]:
    """The ``SecretHash`` / ``SECRET_HASH`` values in ``params`` (top level, ``AuthParameters``
    or ``ChallengeResponses``)."""
    found = [params.get("SecretHash")]
    for name in ("AuthParameters", "ChallengeResponses"):
        nested = params.get(name)
        if isinstance(nested, Mapping):
            found.append(nested.get("SECRET_HASH"))
    return tuple(v for v in found if isinstance(v, str) and v)


# ------------------------------------------------------------------------------- answers


def parse_auth_result(
    answer: Mapping[str, Any], *, now: float, username: str | None = None
) -> SessionTokens:
    """The tokens of an ``InitiateAuth``/``RespondToAuthChallenge`` answer (``ExpiresIn`` made
    absolute with ``now``; one that is not finite, negative or over ten years is left out), or
    :class:`ChallengeRequired` when Cognito asks for another step."""
    result = answer.get("AuthenticationResult")
    if not isinstance(result, Mapping):
        challenge = answer.get("ChallengeName")
        if isinstance(challenge, str) and challenge:
            parameters = answer.get("ChallengeParameters")
            params = (
                {str(k): str(v) for k, v in parameters.items()}
                if isinstance(parameters, Mapping)
                else {}
            )
            session = answer.get("Session")
            raise ChallengeRequired(
                challenge,
                session=session if isinstance(session, str) else None,
                parameters=params,
                username=params.get("USER_ID_FOR_SRP") or params.get("USERNAME") or username,
            )
        raise UserAuthError("Cognito answered the login without tokens or a challenge")
    access = result.get("AccessToken")
    if not isinstance(access, str) or not access:
        raise UserAuthError("Cognito answered the login without an access token")
    # An ExpiresIn that is no finite number of seconds up to ten years (10**400, NaN, 1e300) is
    # ignored like OAuth's expires_in: the expiry then comes from the token's exp claim.
    expires_in = lifetime_seconds(result.get("ExpiresIn"))
    expires_at = None if expires_in is None else now + expires_in
    id_token = result.get("IdToken")
    refresh = result.get("RefreshToken")
    token_type = result.get("TokenType")
    return SessionTokens(
        access_token=access,
        id_token=id_token if isinstance(id_token, str) and id_token else None,
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        expires_at=expires_at,
        token_type=token_type if isinstance(token_type, str) and token_type else "Bearer",
        username=token_username(access) or username,
    )


def parse_delivery(answer: Mapping[str, Any]) -> CodeDelivery | None:
    """The ``CodeDeliveryDetails`` of an answer, if any."""
    details = answer.get("CodeDeliveryDetails")
    if not isinstance(details, Mapping):
        return None

    def text(name: str) -> str | None:
        value = details.get(name)
        return value if isinstance(value, str) and value else None

    return CodeDelivery(
        destination=text("Destination"),
        medium=text("DeliveryMedium"),
        attribute=text("AttributeName"),
    )


def parse_registration(answer: Mapping[str, Any]) -> Registration:
    """The :class:`Registration` of a ``SignUp`` answer."""
    sub = answer.get("UserSub")
    return Registration(
        user_id=sub if isinstance(sub, str) else "",
        confirmed=answer.get("UserConfirmed") is True,
        delivery=parse_delivery(answer),
    )


def parse_user(answer: Mapping[str, Any]) -> User:
    """The :class:`User` of a ``GetUser`` (or ``AdminGetUser``) answer."""
    attributes = answer.get("UserAttributes") or answer.get("Attributes") or []
    username = answer.get("Username")
    created = answer.get("UserCreateDate")
    modified = answer.get("UserLastModifiedDate")
    return User.from_attributes(
        attribute_map(attributes if isinstance(attributes, list) else []),
        username=username if isinstance(username, str) else None,
        created_at=created if isinstance(created, datetime) else None,
        updated_at=modified if isinstance(modified, datetime) else None,
    )


# -------------------------------------------------------------------------------- errors

_CODE_ERRORS: dict[str, tuple[type[UserAuthError], str]] = {
    "UserNotConfirmedException": (
        UserNotConfirmedError,
        "the user has not confirmed the registration yet",
    ),
    "UserNotFoundException": (UserNotFoundError, "no such user"),
    "PasswordResetRequiredException": (
        PasswordResetRequiredError,
        "the user must reset the password",
    ),
    "UsernameExistsException": (UserExistsError, "a user with this name exists already"),
    "AliasExistsException": (
        UserExistsError,
        "another user has this e-mail address or phone number",
    ),
    "CodeMismatchException": (CodeMismatchError, "the code is wrong"),
    "ExpiredCodeException": (ExpiredCodeError, "the code has expired; ask for a new one"),
    "TooManyFailedAttemptsException": (
        TooManyRequestsError,
        "too many failed attempts; wait before trying again",
    ),
    "CodeDeliveryFailureException": (UserAuthError, "the code could not be delivered"),
    "InvalidEmailRoleAccessPolicyException": (
        UserAuthError,
        "the pool cannot send e-mail (its e-mail configuration is refused)",
    ),
    "InvalidSmsRoleAccessPolicyException": (
        UserAuthError,
        "the pool cannot send text messages (its SMS role is refused)",
    ),
    "ResourceNotFoundException": (
        UserAuthError,
        "the user pool or app client does not exist (check user_pool_id, client_id, region)",
    ),
    "UnsupportedOperationException": (UserAuthError, "the user pool does not support this"),
    "UnsupportedTokenTypeException": (UserAuthError, "the token cannot be revoked"),
    "UserLambdaValidationException": (UserAuthError, "a pool trigger refused the request"),
    "UnexpectedLambdaException": (UserAuthError, "a pool trigger failed"),
    "InvalidLambdaResponseException": (UserAuthError, "a pool trigger answered invalidly"),
    "MFAMethodNotFoundException": (UserAuthError, "no MFA method is set up for the user"),
    "SoftwareTokenMFANotFoundException": (UserAuthError, "no authenticator app is set up"),
    "ForbiddenException": (UserAuthError, "the request was refused by the pool's web ACL"),
}
_SHOW_DETAIL = frozenset({"InvalidPasswordException", "InvalidParameterException"})


def cognito_error(info: AWSErrorInfo, call: CognitoCall) -> UserAuthError:
    """The kit exception for a failed Cognito ``call``: its own message, the Cognito ``code``,
    and whether it was retryable (throttling and outages are retried before this is raised)."""
    info = _without_echo(info, call)
    code = info.code
    what = _describe(call)
    if info.throttled:
        return TooManyRequestsError(
            f"Cognito is throttling {what}; try again later", code=code, retryable=True
        )
    if info.retryable:
        cause = (
            f"cannot reach Cognito ({info.transport})"
            if info.transport is not None
            else f"Cognito failed ({info.status_code or code})"
        )
        return UserPoolUnavailableError(f"{cause} during {what}", code=code, retryable=True)
    if code == INVALID_RESPONSE:
        return UserPoolUnavailableError(
            f"Cognito answered {what} with a response that cannot be read", code=code
        )
    if code == "NotAuthorizedException":
        return _not_authorized(info, call)
    if code == "InvalidPasswordException":
        detail = redact(info.message, call.secrets) or None
        message = "the password breaks the pool's password policy"
        return WeakPasswordError(
            message + (f": {detail}" if detail else ""), code=code, detail=detail
        )
    if code == "InvalidParameterException":
        detail = redact(info.message, call.secrets)
        return UserAuthError(
            f"Cognito refused a parameter of {what}" + (f": {detail}" if detail else ""),
            code=code,
        )
    known = _CODE_ERRORS.get(code)
    if known is not None:
        cls, message = known
        return cls(message, code=code)
    return UserAuthError(f"Cognito refused {what} ({code})", code=code)


_KNOWN_CODES = frozenset(
    {*_CODE_ERRORS, *_SHOW_DETAIL, "NotAuthorizedException", INVALID_RESPONSE}
) | (THROTTLING_CODES | TRANSIENT_CODES)


def _without_echo(info: AWSErrorInfo, call: CognitoCall) -> AWSErrorInfo:
    """``info`` with :data:`UNKNOWN_CODE` for a code of its own that quotes a value ``call``
    sent (a password, a code, a token): a hostile server can put it there, and the code reaches
    the message, the exception's ``code`` and the logs. Cognito's codes are kept whatever the
    password (one may well contain ``Exception``)."""
    if info.code in _KNOWN_CODES or not any(s in info.code for s in call.secrets):
        return info
    return replace(info, code=UNKNOWN_CODE)


def _not_authorized(info: AWSErrorInfo, call: CognitoCall) -> UserAuthError:
    text = info.message.lower()
    code = info.code
    if "attempts exceeded" in text:
        return TooManyRequestsError("too many failed attempts; wait before trying again", code=code)
    if "disabled" in text:
        return InvalidCredentialsError("the user is disabled", code=code)
    if call.purpose in ("refresh", "session") or (
        call.purpose == "change_password" and "token" in text
    ):
        return SessionExpiredError(
            "the session has ended (signed out, revoked or expired); log in again", code=code
        )
    if call.purpose == "change_password":
        return InvalidCredentialsError("the current password is wrong", code=code)
    if call.purpose == "health":
        return UserAuthError("the pool answered the health probe", code=code)
    return InvalidCredentialsError("wrong user name or password", code=code)


def _describe(call: CognitoCall) -> str:
    return f"{call.operation}" + (" (refresh)" if call.purpose == "refresh" else "")


class ProbeAnswer(Exception):
    """How the health probe's failure travels back to the shell (never raised to a caller)."""

    def __init__(self, info: AWSErrorInfo) -> None:
        super().__init__(info.code)
        self.info = info


def health_of(
    info: AWSErrorInfo | None,
) -> tuple[Literal["ok", "unavailable", "misconfigured"], str]:
    """The verdict of the health probe from its failure (None: it succeeded, which an invalid
    refresh token never should, but the pool answered)."""
    if info is None or info.code == "NotAuthorizedException":
        return "ok", "the user pool and app client answer"
    if info.code in ("ResourceNotFoundException", "InvalidParameterException"):
        return "misconfigured", f"the user pool or app client is unknown ({info.code})"
    if info.retryable or info.code == INVALID_RESPONSE:
        cause = info.transport or info.status_code or info.code
        return "unavailable", f"Cognito is unavailable ({cause})"
    return "misconfigured", f"the probe was refused ({info.code})"
