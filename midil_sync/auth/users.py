# Generated from midil_async/auth/users.py by scripts/unasync.py: do not edit by hand.
# Change the async module and run `make unasync`.
"""User sign-up, login and sessions against an Amazon Cognito user pool: ``CognitoUserClient`` and
``UserSession``.

The client holds configuration and connections, never a user's tokens: :meth:`~CognitoUserClient.login`
returns a :class:`UserSession` holding one user's tokens, so one client serves every user of a web
application at once and no user can see another's tokens. Every request and every reading of an
answer is the core's (:mod:`midil_common.auth.cognito_flows`); this module sends them through the
shell's AWS client factory, verifies the tokens Cognito returns with the authorizer, and runs each
session's refresh as one ``SingleFlight`` shared by concurrent callers. One source serves both
shells: the sync module is generated from this one by ``scripts/unasync.py``.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from midil_common.auth.cognito import emulator_jwks_url
from midil_common.auth.cognito_flows import (
    SERVICE,
    CognitoApp,
    CognitoCall,
    ProbeAnswer,
    cognito_error,
    health_of,
    parse_auth_result,
    parse_delivery,
    parse_registration,
    parse_user,
)
from midil_common.auth.settings import cognito_user_client_kwargs, refuse_key_options_beside
from midil_common.auth.users import (
    DEFAULT_REFRESH_SKEW,
    CodeDelivery,
    HealthStatus,
    Registration,
    SessionTokens,
    User,
    needs_refresh,
    session_expiry,
)
from midil_common.aws_errors import AWS_RETRY_POLICY, AWSRetryPolicy
from midil_common.errors import (
    ChallengeRequired,
    SessionExpiredError,
    TokenExpiredError,
    UserAuthError,
)
from midil_sync._aws import AWSClient
from midil_sync._primitives import SingleFlight, StateLock
from midil_sync.auth.authorizers import CognitoJWTAuthorizer

if TYPE_CHECKING:
    from midil_common.auth.protocols import Authorizer
    from midil_common.settings import MidilSettings

__all__ = ["CognitoUserClient", "UserSession"]

logger = logging.getLogger("midil.auth")

_ONE_ATTEMPT = AWSRetryPolicy(max_attempts=1)


class CognitoUserClient:
    """Sign-up, login and password flows of one Cognito user pool app client.

    Build one per application and share it: it holds the configuration and the AWS connection,
    never a user's tokens. The user operations of Cognito need no AWS credentials (they are sent
    unsigned), only the pool and app client ids.

    Args:
        user_pool_id: ``{region}_{id}``; the region comes from it unless ``region`` is given.
        client_id: the app client id.
        client_secret: the app client secret, when it has one (``SECRET_HASH`` is then sent).
        region: the pool's region (checked against the pool id).
        endpoint_url: another endpoint, e.g. a local emulator (moto, LocalStack).
        authorizer: verifies the access tokens Cognito returns before they are trusted. By default
            a ``CognitoJWTAuthorizer`` for the pool and ``client_id``, fetching keys from
            ``{endpoint_url}/{user_pool_id}/.well-known/jwks.json`` when ``endpoint_url`` is set
            (where moto and LocalStack serve them). An emulator whose tokens carry another ``iss``
            than ``https://cognito-idp.{region}.amazonaws.com/{pool}`` needs a ``JWTAuthorizer``
            for that issuer here.
        jwks_url: where the default authorizer fetches the pool's keys, when neither AWS nor
            ``endpoint_url`` serves them (``ConfigError`` beside ``authorizer``).
        leeway: clock skew the default authorizer allows for ``exp``/``nbf``/``iat``, in seconds
            (``ConfigError`` beside ``authorizer``).
        refresh_skew: a session refreshes its access token this many seconds before it expires.
        revoke_on_logout: also revoke the refresh token (``RevokeToken``) on logout; a pool or
            emulator without token revocation is tolerated.
        retry: how throttling and outages are retried (three attempts by default).
        clock: Unix time, injectable for tests.
    """

    def __init__(
        self,
        user_pool_id: str,
        client_id: str,
        *,
        client_secret: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        authorizer: Authorizer | None = None,
        jwks_url: str | None = None,
        leeway: float = 0.0,
        refresh_skew: float = DEFAULT_REFRESH_SKEW,
        revoke_on_logout: bool = True,
        retry: AWSRetryPolicy = AWS_RETRY_POLICY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._app = CognitoApp(user_pool_id, client_id, client_secret, region)
        self._aws = AWSClient(
            SERVICE,
            region=self._app.region,
            endpoint_url=endpoint_url,
            unsigned=True,
            retry=retry,
        )
        self._owns_authorizer = authorizer is None
        if authorizer is None:
            authorizer = CognitoJWTAuthorizer(
                user_pool_id,
                self._app.region,
                client_ids=[client_id],
                jwks_url=jwks_url or emulator_jwks_url(endpoint_url, user_pool_id),
                leeway=leeway,
            )
        else:
            refuse_key_options_beside(jwks_url=jwks_url, leeway=leeway)
        self._authorizer: Authorizer = authorizer
        self.refresh_skew = refresh_skew
        self.revoke_on_logout = revoke_on_logout
        self.clock = clock

    @classmethod
    def from_settings(
        cls, settings: MidilSettings | None = None, **overrides: Any
    ) -> CognitoUserClient:
        """A client configured by the ``auth`` section (read from the environment when None):
        ``MIDIL_AUTH__COGNITO_USER_POOL_ID``, ``__REGION``, the first of ``__CLIENT_IDS``,
        ``__COGNITO_CLIENT_SECRET``, ``__COGNITO_ENDPOINT_URL``, and for the authorizer it makes
        ``__JWKS_URL`` and ``__LEEWAY``. Keyword ``overrides``
        (``client_id=``, ``authorizer=``, ``retry=``, ...) win and stand in for missing settings;
        a required setting missing raises ``ConfigError`` naming its variable."""
        return cls(**cognito_user_client_kwargs(settings, overrides))

    @property
    def user_pool_id(self) -> str:
        """The user pool id."""
        return self._app.user_pool_id

    @property
    def client_id(self) -> str:
        """The app client id."""
        return self._app.client_id

    @property
    def region(self) -> str | None:
        """The pool's region."""
        return self._app.region

    @property
    def authorizer(self) -> Authorizer:
        """The authorizer that verifies the tokens of new and refreshed sessions."""
        return self._authorizer

    def __repr__(self) -> str:
        secret = ", client_secret='***'" if self._app.client_secret else ""
        return (
            f"CognitoUserClient({self._app.user_pool_id!r}, {self._app.client_id!r}{secret}, "
            f"region={self._app.region!r})"
        )

    # ---------------------------------------------------------------------------- sign-up

    def register(self, email: str, password: str, **attributes: Any) -> Registration:
        """Sign up a user named by ``email`` (also its ``email`` attribute), with more attributes
        (``given_name="Ada"``, ``custom:plan="pro"`` through ``**{...}``). Cognito sends a
        confirmation code unless a trigger confirms the user."""
        answer = self._send(self._app.sign_up(email, password, attributes))
        registration = parse_registration(answer)
        logger.info(
            "registered user %s", registration.user_id, extra={"user_id": registration.user_id}
        )
        return registration

    def confirm_registration(self, email: str, code: str) -> None:
        """Confirm a sign-up with the code the user received."""
        self._send(self._app.confirm_sign_up(email, code))

    def resend_confirmation(self, email: str) -> CodeDelivery | None:
        """Send the confirmation code again; where it went."""
        return parse_delivery(self._send(self._app.resend_confirmation(email)))

    # ---------------------------------------------------------------------------- login

    def login(self, email: str, password: str, *, logout_on_exit: bool = False) -> UserSession:
        """Log a user in (``USER_PASSWORD_AUTH``); the session holds its verified tokens.

        Raises ``InvalidCredentialsError``, ``UserNotConfirmedError``,
        ``PasswordResetRequiredError``, or ``ChallengeRequired`` when Cognito asks for another
        step (answer it with :meth:`respond_to_challenge`).
        """
        call = self._app.login(email, password)
        return self._open(self._send(call), call, logout_on_exit)

    def respond_to_challenge(
        self, challenge: ChallengeRequired, *, logout_on_exit: bool = False, **answers: str
    ) -> UserSession:
        """Answer the challenge of a login (``NEW_PASSWORD="..."``, ``SMS_MFA_CODE="..."``,
        ``SOFTWARE_TOKEN_MFA_CODE="..."``); a session, or the next ``ChallengeRequired``."""
        call = self._app.respond_to_challenge(challenge, answers)
        return self._open(self._send(call), call, logout_on_exit)

    def session_from_tokens(
        self,
        access_token: str,
        refresh_token: str | None = None,
        id_token: str | None = None,
        *,
        logout_on_exit: bool = False,
    ) -> UserSession:
        """Rebuild a session a web application stored. The access token is verified first; an
        expired one is refreshed at once when a refresh token is given."""
        tokens = SessionTokens(
            access_token=access_token, refresh_token=refresh_token, id_token=id_token
        )
        try:
            tokens = self._verified(tokens)
        except TokenExpiredError:
            if refresh_token is None:
                raise
            session = UserSession(self, tokens, logout_on_exit=logout_on_exit)
            session.refresh()
            return session
        return UserSession(self, tokens, logout_on_exit=logout_on_exit)

    # ---------------------------------------------------------------------------- passwords

    def forgot_password(self, email: str) -> CodeDelivery | None:
        """Ask Cognito to send the user a password reset code; where it went."""
        return parse_delivery(self._send(self._app.forgot_password(email)))

    def reset_password(self, email: str, code: str, new_password: str) -> None:
        """Set a new password with the reset code."""
        self._send(self._app.confirm_forgot_password(email, code, new_password))

    # ---------------------------------------------------------------------------- health

    def health(self) -> HealthStatus:
        """Whether the pool and app client answer (for readiness probes); never raises for an
        outage. One unauthenticated request with a deliberately invalid refresh token."""
        call = self._app.health_probe()
        started = time.monotonic()
        try:
            self._aws.call(call.operation, call.params, errors=ProbeAnswer, retry=_ONE_ATTEMPT)
            status, detail = health_of(None)
        except ProbeAnswer as answer:
            status, detail = health_of(answer.info)
        except Exception as exc:  # a probe reports, it does not raise
            status, detail = "unavailable", f"the probe failed ({type(exc).__name__})"
        return HealthStatus.of(status, detail, time.monotonic() - started)

    # ---------------------------------------------------------------------------- internals

    def _send(self, call: CognitoCall, *, retry: AWSRetryPolicy | None = None) -> dict[str, Any]:
        return self._aws.call(
            call.operation,
            call.params,
            errors=lambda info: cognito_error(info, call),
            retry=retry,
        )

    def _open(self, answer: dict[str, Any], call: CognitoCall, logout_on_exit: bool) -> UserSession:
        tokens = parse_auth_result(answer, now=self.clock(), username=call.username)
        tokens = self._verified(tokens)
        logger.info("user %s logged in", tokens.username, extra={"username": tokens.username})
        return UserSession(self, tokens, logout_on_exit=logout_on_exit)

    def _verified(self, tokens: SessionTokens) -> SessionTokens:
        """``tokens`` once the authorizer accepted the access token, with the user name of its
        claims and an expiry no later than their ``exp``."""
        claims = self._authorizer.verify(tokens.access_token)
        return tokens.model_copy(
            update={
                "username": claims.username or tokens.username or claims.sub,
                "expires_at": session_expiry(tokens.expires_at, claims.exp),
            }
        )

    def _refreshed(self, tokens: SessionTokens) -> SessionTokens:
        if not tokens.refresh_token:
            raise SessionExpiredError("the session has no refresh token; log in again")
        call = self._app.refresh(tokens.refresh_token, tokens.username)
        answer = self._send(call)
        newer = self._verified(
            parse_auth_result(answer, now=self.clock(), username=tokens.username)
        )
        return tokens.refreshed(newer)

    def _sign_out(self, tokens: SessionTokens, access_token: str | None) -> None:
        if access_token is not None:
            with contextlib.suppress(SessionExpiredError):  # signed out already
                self._send(self._app.global_sign_out(access_token))
        if self.revoke_on_logout and tokens.refresh_token:
            try:
                self._send(self._app.revoke_token(tokens.refresh_token), retry=_ONE_ATTEMPT)
            except UserAuthError as exc:
                # A pool without token revocation: the global sign-out above ended the session.
                logger.info(
                    "the refresh token was not revoked (%s)", exc.code, extra={"code": exc.code}
                )

    # ---------------------------------------------------------------------------- lifecycle

    def close(self) -> None:
        """Close the AWS connection (and the default authorizer's)."""
        self._aws.close()
        if self._owns_authorizer:
            closer = getattr(self._authorizer, "close", None)
            if closer is not None:
                closer()

    def __enter__(self) -> CognitoUserClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class UserSession:
    """One user's tokens and what the user can do with them.

    Made by ``CognitoUserClient.login`` (or ``session_from_tokens``, ``respond_to_challenge``).
    :meth:`get_access_token` refreshes the access token when it is about to expire, once for all
    concurrent callers. Used as a context manager it logs the user out on exit when
    ``logout_on_exit`` is true. The token strings never appear in its ``repr``.
    """

    def __init__(
        self, client: CognitoUserClient, tokens: SessionTokens, *, logout_on_exit: bool = False
    ) -> None:
        self._client = client
        self._tokens: SessionTokens | None = tokens
        self._flight = SingleFlight()
        self._state_lock = StateLock()
        self.logout_on_exit = logout_on_exit

    def __repr__(self) -> str:
        tokens = self._tokens
        if tokens is None:
            return "UserSession(logged out)"
        return f"UserSession(username={tokens.username!r}, expires_at={tokens.expires_at!r})"

    # ---------------------------------------------------------------------------- tokens

    @property
    def tokens(self) -> SessionTokens | None:
        """The current tokens (to store and rebuild the session later), None once logged out."""
        return self._tokens

    @property
    def access_token(self) -> str | None:
        """The current access token (maybe close to expiry: prefer :meth:`get_access_token`)."""
        return None if self._tokens is None else self._tokens.access_token

    @property
    def id_token(self) -> str | None:
        """The current id token."""
        return None if self._tokens is None else self._tokens.id_token

    @property
    def refresh_token(self) -> str | None:
        """The refresh token."""
        return None if self._tokens is None else self._tokens.refresh_token

    @property
    def expires_at(self) -> float | None:
        """When the access token expires (Unix time)."""
        return None if self._tokens is None else self._tokens.expires_at

    @property
    def username(self) -> str | None:
        """The user's Cognito user name."""
        return None if self._tokens is None else self._tokens.username

    def is_authenticated(self) -> bool:
        """True while the session is not logged out and holds an unexpired access token or a
        refresh token (no request is sent)."""
        tokens = self._tokens
        if tokens is None:
            return False
        if tokens.refresh_token:
            return True
        return tokens.expires_at is None or tokens.expires_at > self._client.clock()

    def _current(self) -> SessionTokens:
        tokens = self._tokens
        if tokens is None:
            raise SessionExpiredError("the session was logged out; log in again")
        return tokens

    def get_access_token(self) -> str:
        """A valid access token: the current one, or a refreshed one when it expires within the
        client's ``refresh_skew`` (one refresh for all concurrent callers)."""
        tokens = self._current()
        if not needs_refresh(tokens, self._client.clock(), self._client.refresh_skew):
            return tokens.access_token
        refreshed = self._flight.run(self._refresh_unless_fresh)
        assert refreshed is not None
        return refreshed.access_token

    def refresh(self) -> None:
        """Refresh the tokens now (callers arriving meanwhile share this refresh).

        Raises ``SessionExpiredError`` when the refresh token was revoked or has expired.
        """
        self._flight.run(self._refresh_now)

    def _refresh_unless_fresh(self) -> SessionTokens:
        # Re-checked inside the flight: the run this caller waited for may have refreshed already.
        tokens = self._current()
        if not needs_refresh(tokens, self._client.clock(), self._client.refresh_skew):
            return tokens
        return self._refresh_now()

    def _refresh_now(self) -> SessionTokens:
        tokens = self._client._refreshed(self._current())
        with self._state_lock:
            if self._tokens is None:  # logged out while the refresh ran
                raise SessionExpiredError("the session was logged out; log in again")
            self._tokens = tokens
        logger.debug("refreshed the session of %s", tokens.username)
        return tokens

    # ---------------------------------------------------------------------------- the user

    def get_current_user(self) -> User:
        """The user's profile (``GetUser``)."""
        token = self.get_access_token()
        return parse_user(self._client._send(self._client._app.get_user(token)))

    def update_profile(self, **attributes: Any) -> User:
        """Change attributes (``given_name="Ada"``); the updated profile."""
        token = self.get_access_token()
        self._client._send(self._client._app.update_user_attributes(token, attributes))
        return self.get_current_user()

    def change_password(self, old_password: str, new_password: str) -> None:
        """Change the password; ``InvalidCredentialsError`` when ``old_password`` is wrong,
        ``WeakPasswordError`` when the new one breaks the pool's policy."""
        token = self.get_access_token()
        self._client._send(self._client._app.change_password(token, old_password, new_password))

    def logout(self) -> None:
        """Sign the user out everywhere (``GlobalSignOut``) and revoke the refresh token where the
        pool allows it; the session forgets its tokens. Logging out twice does nothing."""
        tokens = self._tokens
        if tokens is None:
            return
        try:
            access: str | None = self.get_access_token()
        except SessionExpiredError:
            access = None
        self._client._sign_out(tokens, access)
        with self._state_lock:
            self._tokens = None
        logger.info("user %s logged out", tokens.username, extra={"username": tokens.username})

    # ---------------------------------------------------------------------------- lifecycle

    def __enter__(self) -> UserSession:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.logout_on_exit:
            self.logout()
