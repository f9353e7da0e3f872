"""A hostile Cognito, on both shells: answers botocore cannot parse, absurd lifetimes and dates,
error codes that are huge, full of escapes or echo the password, and botocore's exception (whose
text quotes the request) kept out of the kit's exception chain."""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from midil_common.auth.cognito_flows import secret_hash
from midil_common.auth.jws import decode_payload, parse_token
from midil_common.aws_errors import AWSRetryPolicy
from midil_common.errors import MidilError, UserAuthError, UserPoolUnavailableError

from .conftest import FAST_RETRY, CognitoStandIn

PASSWORD = "Hunter2-Secret!pw"
JSON = "application/x-amz-json-1.1"


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception reachable from it by ``__cause__`` or ``__context__``."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or any(item is s for s in seen):
            continue
        seen.append(item)
        todo += [item.__cause__, item.__context__]
    return seen


def _shown(exc: BaseException) -> str:
    """Everything an application could print of ``exc``: message, repr, args and its chain."""
    return " ".join(f"{e} {e!r} {e.args} {getattr(e, 'code', '')}" for e in _chain(exc))


class RawCognito:
    """Answers every request on 127.0.0.1 with ``status`` and the raw bytes ``body`` (a body the
    stand-in's ``json.dumps`` could not even produce)."""

    def __init__(self) -> None:
        self.status = 200
        self.body = b"{}"
        raw = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(raw.status)
                self.send_header("Content-Type", JSON)
                self.send_header("Content-Length", str(len(raw.body)))
                self.end_headers()
                self.wfile.write(raw.body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.endpoint_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@pytest.fixture
def raw_cognito() -> Iterator[RawCognito]:
    server = RawCognito()
    yield server
    server.stop()


@pytest.fixture
def raw_client(shell: Any, raw_cognito: RawCognito, local_issuer: Any) -> Any:
    return shell.make(
        "CognitoUserClient",
        CognitoStandIn.POOL_ID,
        CognitoStandIn.CLIENT_ID,
        endpoint_url=raw_cognito.endpoint_url,
        authorizer=shell.make("JWTAuthorizer", local_issuer.url),
        retry=AWSRetryPolicy(max_attempts=1),
    )


DEEP_LIST = b"[" * 10000 + b"]" * 10000
DEEP_OBJECT = b'{"a":' * 10000 + b"1" + b"}" * 10000


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, b"[1, 2, 3]"),
        (400, b"[1, 2, 3]"),
        (200, DEEP_LIST),
        (400, DEEP_LIST),
        (200, DEEP_OBJECT),
        (200, b'{"AuthenticationResult": "not an object"}'),
        (200, b'{"AuthenticationResult": {"NewDeviceMetadata": ["a", "b"]}}'),
    ],
    ids=["list", "list-error", "deep-list", "deep-list-error", "deep-object", "str", "str-list"],
)
def test_unreadable_answer_is_a_kit_error(
    shell: Any,
    raw_cognito: RawCognito,
    raw_client: Any,
    caplog: pytest.LogCaptureFixture,
    status: int,
    body: bytes,
) -> None:
    caplog.set_level(logging.DEBUG, logger="midil")
    raw_cognito.status, raw_cognito.body = status, body
    started = time.monotonic()
    with pytest.raises(MidilError) as info:
        shell.run(raw_client.login("ada@example.com", PASSWORD))
    assert time.monotonic() - started < 2
    exc = info.value
    assert isinstance(exc, UserPoolUnavailableError)
    assert _chain(exc) == [exc]
    assert PASSWORD not in _shown(exc) and PASSWORD not in caplog.text
    # The readiness probe reports the same answer as an outage, not as a misconfiguration.
    health = shell.run(raw_client.health())
    assert health.status == "unavailable" and not health.ok


HOSTILE_EXPIRES_IN = [10**400, float("inf"), float("nan"), 1e300, -5, 5 * 365 * 86400]


@pytest.mark.parametrize(
    "expires_in",
    HOSTILE_EXPIRES_IN,
    ids=["400-digits", "inf", "nan", "1e300", "negative", "beyond-exp"],
)
def test_absurd_expires_in_never_outlives_the_token(
    shell: Any, standin: CognitoStandIn, local_issuer: Any, expires_in: float
) -> None:
    now = [time.time()]
    client = shell.make(
        "CognitoUserClient",
        CognitoStandIn.POOL_ID,
        CognitoStandIn.CLIENT_ID,
        endpoint_url=standin.endpoint_url,
        authorizer=shell.make("JWTAuthorizer", local_issuer.url),
        retry=FAST_RETRY,
        clock=lambda: now[0],
    )
    standin.login_ttl = expires_in
    session = shell.run(client.login("ada@example.com", PASSWORD))
    exp = decode_payload(parse_token(session.access_token))["exp"]
    assert session.expires_at is not None and session.expires_at <= exp
    # Once the token's own exp has passed, the session refreshes it instead of using it.
    now[0] = exp + 1
    shell.run(session.get_access_token())
    assert standin.count("InitiateAuth:REFRESH_TOKEN_AUTH") == 1


@pytest.mark.parametrize(
    ("updated_at", "expected"),
    [
        ("9" * 30, None),
        ("9" * 5000, None),
        ("\u00b9\u00b2\u00b3", None),
        ("1700000000", 1700000000),
    ],
    ids=["30-digits", "5000-digits", "superscripts", "valid"],
)
def test_hostile_updated_at_is_left_out(
    shell: Any,
    standin: CognitoStandIn,
    standin_client: Any,
    updated_at: str,
    expected: int | None,
) -> None:
    standin.script["GetUser"] = (
        200,
        {
            "Username": "ada",
            "UserAttributes": [
                {"Name": "sub", "Value": "sub-ada"},
                {"Name": "updated_at", "Value": updated_at},
            ],
        },
    )
    session = shell.run(standin_client.login("ada@example.com", PASSWORD))
    started = time.monotonic()
    user = shell.run(session.get_current_user())
    assert time.monotonic() - started < 2
    assert user.id == "sub-ada"
    if expected is None:
        assert user.updated_at is None
    else:
        assert user.updated_at is not None and user.updated_at.timestamp() == expected


ANSI = "Evil\x1b[31mRED\x1b[0m\nFAKE LOG LINE" + "A" * 100_000
PLAIN_PASSWORD = "Hunter2Secret"  # only characters an error code may hold


@pytest.mark.parametrize(
    ("status", "code", "password"),
    [
        (400, ANSI, PASSWORD),
        (400, f"Weird{PASSWORD}", PASSWORD),
        (400, f"Weird{PLAIN_PASSWORD}", PLAIN_PASSWORD),
        (500, f"Weird{PLAIN_PASSWORD}", PLAIN_PASSWORD),  # retried, so logged
        (400, "x" * 129, PASSWORD),
    ],
    ids=["ansi-100kb", "echoes-password", "echoes-plain-password", "retried-echo", "too-long"],
)
def test_hostile_error_code_stays_out_of_the_message(
    shell: Any,
    standin: CognitoStandIn,
    standin_client: Any,
    caplog: pytest.LogCaptureFixture,
    status: int,
    code: str,
    password: str,
) -> None:
    caplog.set_level(logging.DEBUG, logger="midil")
    standin.script["InitiateAuth"] = (status, {"__type": code, "message": "no"})
    with pytest.raises(UserAuthError) as info:
        shell.run(standin_client.login("ada@example.com", password))
    exc = info.value
    shown = _shown(exc)
    assert password not in shown and password not in caplog.text
    assert "\x1b" not in shown and "\n" not in str(exc) and "AAAAAAAAAA" not in shown
    assert len(str(exc)) < 300 and (exc.code is None or len(exc.code) <= 128)


def test_well_formed_unknown_code_is_kept(
    shell: Any, standin: CognitoStandIn, standin_client: Any
) -> None:
    standin.script["InitiateAuth"] = (400, {"__type": "BrandNewException", "message": "no"})
    with pytest.raises(UserAuthError) as info:
        shell.run(standin_client.login("ada@example.com", PASSWORD))
    assert info.value.code == "BrandNewException" and "BrandNewException" in str(info.value)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "NotAuthorizedException"),
        (400, "InvalidParameterException"),
        (400, "SomethingNewException"),
        (500, "InternalErrorException"),
    ],
)
def test_botocore_exception_not_in_the_chain(
    shell: Any, standin: CognitoStandIn, standin_client: Any, status: int, code: str
) -> None:
    standin.script["InitiateAuth"] = (status, {"__type": code, "message": f"bad {PASSWORD}"})
    with pytest.raises(UserAuthError) as info:
        shell.run(standin_client.login("ada@example.com", PASSWORD))
    exc = info.value
    assert exc.__cause__ is None and exc.__context__ is None
    assert PASSWORD not in _shown(exc)


CLIENT_SECRET = "app-client-Secret-value"
EMAIL = "ada@example.com"


def _echo_hash(body: dict[str, Any], code: str) -> tuple[int, dict[str, Any]]:
    """An error quoting the hash the request sent, as AWS validation errors quote a value."""
    nested = body.get("AuthParameters") or body.get("ChallengeResponses") or {}
    sent = body.get("SecretHash") or nested.get("SECRET_HASH")
    assert sent, "the request carried no hash"
    message = (
        f"1 validation error detected: Value '{sent}' at 'secretHash' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [\\w+=/]+"
    )
    return 400, {"__type": code, "message": message}


HASHED_CALLS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "register": ("SignUp", lambda c: c.register(EMAIL, PASSWORD)),
    "confirm_registration": ("ConfirmSignUp", lambda c: c.confirm_registration(EMAIL, "123456")),
    "resend_confirmation": ("ResendConfirmationCode", lambda c: c.resend_confirmation(EMAIL)),
    "login": ("InitiateAuth", lambda c: c.login(EMAIL, PASSWORD)),
    "forgot_password": ("ForgotPassword", lambda c: c.forgot_password(EMAIL)),
    "reset_password": (
        "ConfirmForgotPassword",
        lambda c: c.reset_password(EMAIL, "123456", PASSWORD),
    ),
}


@pytest.mark.parametrize("code", ["InvalidParameterException", "InvalidPasswordException"])
@pytest.mark.parametrize("call", sorted(HASHED_CALLS))
def test_echoed_secret_hash_is_redacted(
    shell: Any,
    standin: CognitoStandIn,
    local_issuer: Any,
    caplog: pytest.LogCaptureFixture,
    call: str,
    code: str,
) -> None:
    # The hash with the user name stands in for the client secret: it must be redacted like it.
    caplog.set_level(logging.DEBUG, logger="midil")
    client = shell.make(
        "CognitoUserClient",
        CognitoStandIn.POOL_ID,
        CognitoStandIn.CLIENT_ID,
        client_secret=CLIENT_SECRET,
        endpoint_url=standin.endpoint_url,
        authorizer=shell.make("JWTAuthorizer", local_issuer.url),
        retry=AWSRetryPolicy(max_attempts=1),
    )
    operation, invoke = HASHED_CALLS[call]
    standin.script[operation] = lambda body: _echo_hash(body, code)
    with pytest.raises(UserAuthError) as info:
        shell.run(invoke(client))
    _assert_hash_hidden(info.value, secret_hash(EMAIL, CognitoStandIn.CLIENT_ID, CLIENT_SECRET))
    assert CLIENT_SECRET not in caplog.text


def test_echoed_secret_hash_of_a_refresh_is_redacted(
    shell: Any, standin: CognitoStandIn, local_issuer: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="midil")
    client = shell.make(
        "CognitoUserClient",
        CognitoStandIn.POOL_ID,
        CognitoStandIn.CLIENT_ID,
        client_secret=CLIENT_SECRET,
        endpoint_url=standin.endpoint_url,
        authorizer=shell.make("JWTAuthorizer", local_issuer.url),
        retry=AWSRetryPolicy(max_attempts=1),
    )
    session = shell.run(client.login(EMAIL, PASSWORD))
    standin.script["InitiateAuth:REFRESH_TOKEN_AUTH"] = lambda body: _echo_hash(
        body, "InvalidParameterException"
    )
    with pytest.raises(UserAuthError) as info:
        shell.run(session.refresh())
    # The refresh's hash is over the Cognito user name the token carries.
    _assert_hash_hidden(info.value, secret_hash(EMAIL, CognitoStandIn.CLIENT_ID, CLIENT_SECRET))


def _assert_hash_hidden(exc: BaseException, hashed: str) -> None:
    detail = getattr(exc, "detail", None)
    formatted = "".join(traceback.format_exception(exc))
    assert "secretHash" in str(exc)  # the echo reached the message, with the value redacted
    for text in (str(exc), repr(exc), str(detail), _shown(exc), formatted):
        assert hashed not in text and CLIENT_SECRET not in text
