"""What moto's Cognito cannot show, against a scripted stand-in speaking Cognito's JSON protocol:
every mapped error, challenges, ResendConfirmationCode, RevokeToken, throttling retries,
SECRET_HASH, and the single-flight refresh under 50 threads or 500 tasks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from typing import Any

import pytest

from midil_common.auth.cognito_flows import secret_hash
from midil_common.auth.users import CodeDelivery
from midil_common.errors import (
    ChallengeRequired,
    CodeMismatchError,
    ExpiredCodeError,
    InvalidCredentialsError,
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

from .conftest import CognitoStandIn

SECRET = "Hunter2-s3cret!"
CODE = "774411"


def _error(code: str, message: str, status: int = 400) -> tuple[int, dict[str, Any]]:
    return status, {"__type": code, "message": message}


# (operation scripted, what the client calls, Cognito's error, the kit's class)
CASES: list[tuple[str, str, str, type[UserAuthError]]] = [
    ("InitiateAuth", "login", "NotAuthorizedException", InvalidCredentialsError),
    ("InitiateAuth", "login", "UserNotFoundException", UserNotFoundError),
    ("InitiateAuth", "login", "UserNotConfirmedException", UserNotConfirmedError),
    ("InitiateAuth", "login", "PasswordResetRequiredException", PasswordResetRequiredError),
    ("SignUp", "register", "UsernameExistsException", UserExistsError),
    ("SignUp", "register", "InvalidPasswordException", WeakPasswordError),
    ("ConfirmSignUp", "confirm", "CodeMismatchException", CodeMismatchError),
    ("ConfirmSignUp", "confirm", "ExpiredCodeException", ExpiredCodeError),
    ("ConfirmForgotPassword", "reset", "CodeMismatchException", CodeMismatchError),
    ("ConfirmForgotPassword", "reset", "ExpiredCodeException", ExpiredCodeError),
    ("ConfirmForgotPassword", "reset", "InvalidPasswordException", WeakPasswordError),
    ("ForgotPassword", "forgot", "LimitExceededException", TooManyRequestsError),
    ("InitiateAuth", "login", "TooManyFailedAttemptsException", TooManyRequestsError),
    ("InitiateAuth", "login", "TooManyRequestsException", TooManyRequestsError),
    ("InitiateAuth", "login", "InternalErrorException", UserPoolUnavailableError),
    ("ResendConfirmationCode", "resend", "CodeDeliveryFailureException", UserAuthError),
    ("SignUp", "register", "InvalidParameterException", UserAuthError),
]


def _invoke(shell: Any, client: Any, what: str) -> Any:
    calls = {
        "login": lambda: client.login("ada@example.com", SECRET),
        "register": lambda: client.register("ada@example.com", SECRET),
        "confirm": lambda: client.confirm_registration("ada@example.com", CODE),
        "reset": lambda: client.reset_password("ada@example.com", CODE, SECRET),
        "forgot": lambda: client.forgot_password("ada@example.com"),
        "resend": lambda: client.resend_confirmation("ada@example.com"),
    }
    return shell.run(calls[what]())


@pytest.mark.parametrize(("operation", "what", "code", "expected"), CASES)
def test_each_mapped_error(
    shell: Any,
    standin: CognitoStandIn,
    standin_client: Any,
    caplog: pytest.LogCaptureFixture,
    operation: str,
    what: str,
    code: str,
    expected: type[UserAuthError],
) -> None:
    caplog.set_level(logging.DEBUG, logger="midil")
    # Services echo request values into their messages (moto echoes tokens): the kit never shows
    # them, except redacted in the password-policy and parameter details.
    status = 500 if code == "InternalErrorException" else 400
    sent = f"{SECRET} {CODE}" if what in ("confirm", "reset") else SECRET
    standin.script[operation] = _error(code, f"rejected {sent}: rule X", status)
    with pytest.raises(expected) as info:
        _invoke(shell, standin_client, what)
    exc = info.value
    assert type(exc) is expected or expected is UserAuthError
    assert exc.code == code
    assert exc.__cause__ is None and exc.__suppress_context__
    text = f"{exc} {exc!r} {exc.args} {getattr(exc, 'detail', '')}"
    assert SECRET not in text and CODE not in text
    assert SECRET not in caplog.text and CODE not in caplog.text
    if code in ("InvalidPasswordException", "InvalidParameterException"):
        assert "rule X" in str(exc) and "***" in str(exc)
    retried = code in (
        "LimitExceededException",
        "TooManyRequestsException",
        "InternalErrorException",
    )
    assert exc.retryable == retried
    assert standin.count(next(iter(k for k, _ in standin.bodies))) == (3 if retried else 1)


def test_refresh_refused_is_session_expired(
    shell: Any, standin: CognitoStandIn, standin_client: Any
) -> None:
    session = shell.run(standin_client.login("ada@example.com", SECRET))
    standin.script["InitiateAuth:REFRESH_TOKEN_AUTH"] = _error(
        "NotAuthorizedException", f"Refresh Token has been revoked {session.refresh_token}"
    )
    with pytest.raises(SessionExpiredError) as info:
        shell.run(session.refresh())
    assert session.refresh_token not in str(info.value)
    standin.script["GetUser"] = _error("NotAuthorizedException", "Access Token has been revoked")
    with pytest.raises(SessionExpiredError):
        shell.run(session.get_current_user())


def test_challenge_then_answer(shell: Any, standin: CognitoStandIn, standin_client: Any) -> None:
    standin.script["InitiateAuth:USER_PASSWORD_AUTH"] = (
        200,
        {
            "ChallengeName": "NEW_PASSWORD_REQUIRED",
            "Session": "opaque-challenge-session",
            "ChallengeParameters": {"USER_ID_FOR_SRP": "ada", "requiredAttributes": "[]"},
        },
    )
    with pytest.raises(ChallengeRequired) as info:
        shell.run(standin_client.login("ada@example.com", SECRET))
    challenge = info.value
    assert challenge.challenge == "NEW_PASSWORD_REQUIRED" and challenge.username == "ada"
    assert "opaque-challenge-session" not in f"{challenge} {challenge!r}"
    standin.script["RespondToAuthChallenge"] = lambda body: (
        200,
        {"AuthenticationResult": {**standin.tokens("ada", 3600), "RefreshToken": "rt-ada"}},
    )
    session = shell.run(
        standin_client.respond_to_challenge(challenge, NEW_PASSWORD="N3w-Passw0rd!")
    )
    assert session.username == "ada" and session.is_authenticated()
    sent = next(body for key, body in standin.bodies if key == "RespondToAuthChallenge")
    assert sent["Session"] == "opaque-challenge-session"
    assert sent["ChallengeResponses"] == {"NEW_PASSWORD": "N3w-Passw0rd!", "USERNAME": "ada"}


def test_resend_and_revoke_on_logout(
    shell: Any, standin: CognitoStandIn, standin_client: Any
) -> None:
    delivery = shell.run(standin_client.resend_confirmation("ada@example.com"))
    assert delivery == CodeDelivery(destination="a***@e***", medium="EMAIL", attribute="email")
    session = shell.run(standin_client.login("ada@example.com", SECRET))
    shell.run(session.logout())
    assert standin.count("GlobalSignOut") == 1 and standin.count("RevokeToken") == 1
    revoked = next(body for key, body in standin.bodies if key == "RevokeToken")
    assert revoked == {"Token": "rt-ada@example.com", "ClientId": CognitoStandIn.CLIENT_ID}
    assert not session.is_authenticated()


def test_secret_hash(shell: Any, standin: CognitoStandIn, local_issuer: Any) -> None:
    expected = base64.b64encode(
        hmac.new(b"app-secret", b"ada@example.comstandin-app", hashlib.sha256).digest()
    ).decode()
    assert secret_hash("ada@example.com", "standin-app", "app-secret") == expected
    client = shell.make(
        "CognitoUserClient",
        CognitoStandIn.POOL_ID,
        CognitoStandIn.CLIENT_ID,
        client_secret="app-secret",
        endpoint_url=standin.endpoint_url,
        authorizer=shell.make("JWTAuthorizer", local_issuer.url),
    )
    assert "app-secret" not in repr(client)
    session = shell.run(client.login("ada@example.com", SECRET))
    shell.run(session.refresh())
    login = next(b for k, b in standin.bodies if k == "InitiateAuth:USER_PASSWORD_AUTH")
    assert login["AuthParameters"]["SECRET_HASH"] == expected
    refresh = next(b for k, b in standin.bodies if k == "InitiateAuth:REFRESH_TOKEN_AUTH")
    # A refresh hashes the Cognito user name of the token (here the e-mail address).
    assert refresh["AuthParameters"]["SECRET_HASH"] == expected


def test_one_refresh_for_many_callers(
    shell: Any, standin: CognitoStandIn, standin_client: Any
) -> None:
    standin.login_ttl = 5  # within the 60 s refresh skew: the first use refreshes
    standin.refresh_delay = 0.2  # the refresh is in flight while every caller arrives
    session = shell.run(standin_client.login("ada@example.com", SECRET))
    first = session.access_token
    callers = 500 if shell.is_async else 50
    tokens = shell.many(callers, lambda i: session.get_access_token())
    assert standin.count("InitiateAuth:REFRESH_TOKEN_AUTH") == 1
    assert len(set(tokens)) == 1 and tokens[0] != first and isinstance(tokens[0], str)
    assert tokens[0] == session.access_token


def test_two_users_never_see_each_other(
    shell: Any, standin: CognitoStandIn, standin_client: Any
) -> None:
    ada = shell.run(standin_client.login("ada@example.com", SECRET))
    bob = shell.run(standin_client.login("bob@example.com", SECRET))
    sessions = {"ada@example.com": ada, "bob@example.com": bob}
    names = ["ada@example.com", "bob@example.com"] * 8

    def request(i: int) -> Any:
        return sessions[names[i]].get_current_user()

    users = shell.many(len(names), request)
    assert [u.email for u in users] == names
    assert ada.access_token != bob.access_token and ada.refresh_token != bob.refresh_token
    assert not hasattr(standin_client, "access_token")


def test_async_client_across_event_loops(standin: CognitoStandIn, local_issuer: Any) -> None:
    import asyncio

    import midil_async

    authorizer = midil_async.JWTAuthorizer(local_issuer.url)
    client = midil_async.CognitoUserClient(
        CognitoStandIn.POOL_ID,
        CognitoStandIn.CLIENT_ID,
        endpoint_url=standin.endpoint_url,
        authorizer=authorizer,
    )

    async def use() -> str | None:
        session = await client.login("ada@example.com", SECRET)
        return (await session.get_current_user()).email

    # Each run has its own loop: the AWS client of the first is closed when that loop shuts down.
    assert asyncio.run(use()) == "ada@example.com"
    assert asyncio.run(use()) == "ada@example.com"

    async def close() -> None:
        await client.aclose()
        await authorizer.aclose()

    asyncio.run(close())
