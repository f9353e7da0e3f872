"""``OAuthClient``, ``CognitoUserClient`` and ``RemotePermissionChecker`` built from the environment
alone (``from_settings()``), on both shells, each then used against a real local server: the
``LocalIssuer``, moto's Cognito and a decision service on loopback."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from midil_common.errors import ConfigError, JWKSFetchError, TokenRequestError
from midil_common.testing import LocalIssuer
from midil_common.testing.aws import MotoServer

REGION = "us-east-1"
PASSWORD = "Passw0rd!settings"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ``MIDIL_...`` variable of the machine running the tests leaks into these."""
    for name in list(os.environ):
        if name.upper().startswith("MIDIL_"):
            monkeypatch.delenv(name)


# ----------------------------------------------------------------------------------- OAuthClient


@pytest.fixture
def issuer(local_issuer_factory: Any) -> LocalIssuer:
    issuer: LocalIssuer = local_issuer_factory(audience="orders-api", password_grant=True)
    issuer.register_client("web", "web-s3cret", scopes=["orders:read", "orders:write"])
    issuer.register_user("ada", "Passw0rd!", sub="user-ada", claims={"email": "ada@example.com"})
    return issuer


def test_oauth_client_from_settings_alone(
    shell: Any, issuer: LocalIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIDIL_AUTH__ISSUER", issuer.url)
    monkeypatch.setenv("MIDIL_SERVICE_AUTH__CLIENT_ID", "web")
    monkeypatch.setenv("MIDIL_SERVICE_AUTH__CLIENT_SECRET", "web-s3cret")
    monkeypatch.setenv("MIDIL_SERVICE_AUTH__AUTH_METHOD", "client_secret_post")
    run = shell.run
    client = shell.mod.OAuthClient.from_settings()
    shell._made.append(client)
    assert client.issuer == issuer.url and client.client_id == "web"
    assert "web-s3cret" not in repr(client)

    token = run(client.client_credentials(["orders:read"]))
    assert token.scope == "orders:read"
    record = issuer.token_requests[-1]
    assert record["client_id"] == "web" and record["auth_method"] == "client_secret_post"

    tokens = run(client.password("ada", "Passw0rd!"))
    assert run(client.userinfo(tokens.access_token))["sub"] == "user-ada"
    assert run(client.introspect(tokens.access_token)).active


def test_oauth_client_from_settings_takes_the_http_timeouts_and_retries(
    shell: Any, issuer: LocalIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``MIDIL_HTTP__READ_TIMEOUT`` bounds each token request, ``MIDIL_HTTP__MAX_ATTEMPTS`` their
    number: a hanging token endpoint fails in well under its 10 s default, after one attempt."""
    monkeypatch.setenv("MIDIL_AUTH__ISSUER", issuer.url)
    monkeypatch.setenv("MIDIL_SERVICE_AUTH__CLIENT_ID", "web")
    monkeypatch.setenv("MIDIL_SERVICE_AUTH__CLIENT_SECRET", "web-s3cret")
    monkeypatch.setenv("MIDIL_HTTP__READ_TIMEOUT", "0.3")
    monkeypatch.setenv("MIDIL_HTTP__MAX_ATTEMPTS", "1")
    client = shell.mod.OAuthClient.from_settings()
    shell._made.append(client)
    shell.run(client.discover())
    issuer.hang("token", 5.0)
    started = time.monotonic()
    with pytest.raises(TokenRequestError, match="cannot reach"):
        shell.run(client.client_credentials())
    assert time.monotonic() - started < 2.0
    assert issuer.request_count("token") == 1


def test_oauth_client_overrides_win(shell: Any, issuer: LocalIssuer) -> None:
    """Keyword overrides stand in for settings, so a missing one is no error then."""
    client = shell.mod.OAuthClient.from_settings(
        issuer=issuer.url, client_id="web", client_secret="web-s3cret"
    )
    shell._made.append(client)
    assert shell.run(client.client_credentials("orders:write")).scope == "orders:write"


# ----------------------------------------------------------------------------- CognitoUserClient


@pytest.fixture(scope="module")
def pool(moto_server: MotoServer) -> dict[str, Any]:
    """A moto pool signing in by e-mail, with a public app client and one with a secret."""
    admin = boto3.client("cognito-idp", **moto_server.client_kwargs(REGION))
    pool_id = admin.create_user_pool(
        PoolName=f"settings-{uuid.uuid4().hex[:6]}", UsernameAttributes=["email"]
    )["UserPool"]["Id"]
    public = admin.create_user_pool_client(
        UserPoolId=pool_id, ClientName="web", ExplicitAuthFlows=["USER_PASSWORD_AUTH"]
    )["UserPoolClient"]
    confidential = admin.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="backend",
        ExplicitAuthFlows=["USER_PASSWORD_AUTH"],
        GenerateSecret=True,
    )["UserPoolClient"]
    return {
        "admin": admin,
        "pool_id": pool_id,
        "public": public["ClientId"],
        "confidential": confidential["ClientId"],
        "secret": confidential["ClientSecret"],
        "endpoint_url": moto_server.endpoint_url,
    }


def _register_and_confirm(client: Any, shell: Any, pool: dict[str, Any]) -> str:
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    shell.run(client.register(email, PASSWORD))
    pool["admin"].admin_confirm_sign_up(UserPoolId=pool["pool_id"], Username=email)
    return email


def test_cognito_user_client_from_settings_alone(
    shell: Any, pool: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIDIL_AUTH__COGNITO_USER_POOL_ID", pool["pool_id"])
    monkeypatch.setenv("MIDIL_AUTH__REGION", REGION)
    monkeypatch.setenv("MIDIL_AUTH__CLIENT_IDS", pool["public"])
    monkeypatch.setenv("MIDIL_AUTH__COGNITO_ENDPOINT_URL", pool["endpoint_url"])
    run = shell.run
    client = shell.mod.CognitoUserClient.from_settings()
    shell._made.append(client)
    assert (client.user_pool_id, client.client_id, client.region) == (
        pool["pool_id"],
        pool["public"],
        REGION,
    )
    email = _register_and_confirm(client, shell, pool)
    session = run(client.login(email, PASSWORD))  # its tokens verified against moto's keys
    assert session.is_authenticated()
    assert run(session.get_current_user()).email == email

    # The API side, from the same settings: the keys come from the emulator too.
    authorizer = shell.mod.CognitoJWTAuthorizer.from_settings()
    shell._made.append(authorizer)
    claims = run(authorizer.verify(run(session.get_access_token())))
    assert claims.client_id == pool["public"] and claims.token_use == "access"
    run(session.logout())


def test_cognito_user_client_from_settings_sends_the_app_client_secret(
    shell: Any, pool: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto checks ``SECRET_HASH``: the login succeeds only with the secret of the settings."""
    monkeypatch.setenv("MIDIL_AUTH__COGNITO_USER_POOL_ID", pool["pool_id"])
    monkeypatch.setenv("MIDIL_AUTH__CLIENT_IDS", pool["confidential"])
    monkeypatch.setenv("MIDIL_AUTH__COGNITO_CLIENT_SECRET", pool["secret"])
    monkeypatch.setenv("MIDIL_AUTH__COGNITO_ENDPOINT_URL", pool["endpoint_url"])
    client = shell.mod.CognitoUserClient.from_settings()
    shell._made.append(client)
    assert pool["secret"] not in repr(client)
    email = _register_and_confirm(client, shell, pool)
    session = shell.run(client.login(email, PASSWORD))
    assert session.is_authenticated()
    shell.run(session.logout())


def test_cognito_user_client_from_settings_verifies_with_the_key_settings(
    shell: Any, pool: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``MIDIL_AUTH__JWKS_URL`` and ``__LEEWAY`` reach the authorizer the client makes: keys from a
    URL where none are served fail the login, as they must, rather than being ignored."""
    monkeypatch.setenv("MIDIL_AUTH__COGNITO_USER_POOL_ID", pool["pool_id"])
    monkeypatch.setenv("MIDIL_AUTH__CLIENT_IDS", pool["public"])
    monkeypatch.setenv("MIDIL_AUTH__COGNITO_ENDPOINT_URL", pool["endpoint_url"])
    monkeypatch.setenv("MIDIL_AUTH__LEEWAY", "7")
    good = shell.mod.CognitoUserClient.from_settings()
    shell._made.append(good)
    assert good.authorizer.verifier.policy.leeway == 7.0
    email = _register_and_confirm(good, shell, pool)

    nowhere = "http://127.0.0.1:9/jwks.json"  # the discard port: nothing listens there
    monkeypatch.setenv("MIDIL_AUTH__JWKS_URL", nowhere)
    client = shell.mod.CognitoUserClient.from_settings()
    shell._made.append(client)
    assert client.authorizer.verifier.jwks_url == nowhere
    with pytest.raises(JWKSFetchError):
        shell.run(client.login(email, PASSWORD))

    # An authorizer passed in is the caller's: the key settings are not laid over it.
    client = shell.mod.CognitoUserClient.from_settings(authorizer=good.authorizer)
    shell._made.append(client)
    session = shell.run(client.login(email, PASSWORD))
    assert session.is_authenticated()
    shell.run(session.logout())


def test_cognito_user_client_refuses_key_options_beside_an_authorizer(shell: Any) -> None:
    authorizer = shell.mod.CognitoJWTAuthorizer("us-east-1_abc", client_ids=["app"])
    shell._made.append(authorizer)
    with pytest.raises(ConfigError, match="jwks_url"):
        shell.mod.CognitoUserClient(
            "us-east-1_abc", "app", authorizer=authorizer, jwks_url="https://keys.example/jwks"
        )
    with pytest.raises(ConfigError, match="leeway"):
        shell.mod.CognitoUserClient("us-east-1_abc", "app", authorizer=authorizer, leeway=5)


# ------------------------------------------------------------------------ RemotePermissionChecker


class DecisionService:
    """Answers ``POST /decide``: allowed when the bearer token is ``good``."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []
        self.ports: list[int] = []  # the client's port of each request: a new one, a new connection
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                authorization = self.headers.get("Authorization", "")
                service.seen.append((authorization, body))
                service.ports.append(self.client_address[1])
                data = json.dumps({"allowed": authorization == "Bearer good"}).encode()
                self.send_response(200 if self.path == "/decide" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/decide"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@pytest.fixture
def decision_service() -> Iterator[DecisionService]:
    service = DecisionService()
    yield service
    service.stop()


def test_remote_permission_checker_from_settings_alone(
    shell: Any, decision_service: DecisionService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIDIL_AUTH__PERMISSIONS_URL", decision_service.url)
    run = shell.run
    checker = shell.mod.RemotePermissionChecker.from_settings()
    shell._made.append(checker)
    assert checker.url == decision_service.url
    assert run(checker.check("good", "orders", "read")) is True
    assert run(checker.check("bad", "orders", "read")) is False
    assert decision_service.seen == [
        ("Bearer good", {"resource": "orders", "action": "read"}),
        ("Bearer bad", {"resource": "orders", "action": "read"}),
    ]


def test_remote_permission_checker_closes_only_its_own_client(
    shell: Any, decision_service: DecisionService
) -> None:
    """The client ``from_settings`` made is the checker's to close (its pooled connection goes,
    so the next question opens another); one passed in is left open (its connection is reused)."""
    run = shell.run

    def close(checker: Any) -> None:
        run((getattr(checker, "aclose", None) or checker.close)())

    mine = shell.mod.RemotePermissionChecker.from_settings(url=decision_service.url, cache_ttl=0)
    shell._made.append(mine)
    assert run(mine.check("good", "orders", "read")) is True
    close(mine)
    assert run(mine.check("good", "orders", "read")) is True
    assert decision_service.ports[0] != decision_service.ports[1]

    http = shell.make("HttpClient")
    theirs = shell.mod.RemotePermissionChecker.from_settings(
        url=decision_service.url, http_client=http, cache_ttl=0
    )
    assert run(theirs.check("good", "orders", "read")) is True
    close(theirs)
    assert run(theirs.check("good", "orders", "read")) is True
    assert decision_service.ports[2] == decision_service.ports[3]


# ------------------------------------------------------------------------------ missing settings


@pytest.mark.parametrize(
    ("name", "environment", "variable"),
    [
        ("OAuthClient", {"MIDIL_SERVICE_AUTH__CLIENT_ID": "web"}, "MIDIL_AUTH__ISSUER"),
        (
            "OAuthClient",
            {
                "MIDIL_AUTH__ISSUER": "https://issuer.example",
                "MIDIL_SERVICE_AUTH__CLIENT_SECRET": "x",
            },
            "MIDIL_SERVICE_AUTH__CLIENT_ID",
        ),
        (
            "CognitoUserClient",
            {"MIDIL_AUTH__CLIENT_IDS": "app", "MIDIL_AUTH__COGNITO_CLIENT_SECRET": "x"},
            "MIDIL_AUTH__COGNITO_USER_POOL_ID",
        ),
        (
            "CognitoUserClient",
            {"MIDIL_AUTH__COGNITO_USER_POOL_ID": "us-east-1_Pool1"},
            "MIDIL_AUTH__CLIENT_IDS",
        ),
        ("RemotePermissionChecker", {}, "MIDIL_AUTH__PERMISSIONS_URL"),
    ],
)
def test_a_missing_setting_is_a_config_error_naming_its_variable(
    shell: Any,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    environment: dict[str, str],
    variable: str,
) -> None:
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as info:
        getattr(shell.mod, name).from_settings()
    assert info.value.variable == variable
    message = str(info.value)
    # The variable, and the fix: set it, or pass the argument it stands for.
    assert variable in message and "is not set" in message and "pass " in message
    assert "=x" not in message and "'x'" not in message  # no secret value


def test_a_bad_permissions_url_names_its_variable(
    shell: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIDIL_AUTH__PERMISSIONS_URL", "ftp://pdp.example/decide")
    with pytest.raises(ConfigError) as info:
        shell.mod.RemotePermissionChecker.from_settings()
    assert info.value.variable == "MIDIL_AUTH__PERMISSIONS_URL"
