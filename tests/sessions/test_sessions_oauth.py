"""``OAuthClient`` against ``LocalIssuer`` and ``RemotePermissionChecker`` against a scripted
decision point, on both shells."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from midil_common.auth import AccessToken
from midil_common.auth.discovery import DiscoveryDocument
from midil_common.auth.oauth_flows import Introspection
from midil_common.errors import ConfigError, InvalidTokenError, TokenRequestError
from midil_common.http import RetryPolicy
from midil_common.testing import LocalIssuer


@pytest.fixture
def issuer(local_issuer_factory: Any) -> LocalIssuer:
    issuer: LocalIssuer = local_issuer_factory(audience="orders-api", password_grant=True)
    issuer.register_client("web", "web-s3cret", scopes=["orders:read", "orders:write"])
    issuer.register_user(
        "ada", "Passw0rd!", sub="user-ada", claims={"email": "ada@example.com", "name": "Ada"}
    )
    return issuer


def test_discovery_refresh_revoke_introspect_userinfo(shell: Any, issuer: LocalIssuer) -> None:
    run = shell.run
    client = shell.make("OAuthClient", issuer.url, "web", "web-s3cret")
    document = run(client.discover())
    assert isinstance(document, DiscoveryDocument)
    assert document.revocation_endpoint == issuer.revocation_url
    assert document.introspection_endpoint == issuer.introspection_url
    assert document.userinfo_endpoint == issuer.userinfo_url
    assert run(client.discover()) is document
    assert issuer.request_count("discovery") == 1

    tokens = run(client.password("ada", "Passw0rd!", scope="orders:read"))
    assert isinstance(tokens, AccessToken) and tokens.refresh_token and tokens.id_token
    assert tokens.scope == "orders:read"

    refreshed = run(client.refresh(tokens.refresh_token))
    assert refreshed.access_token != tokens.access_token
    assert refreshed.refresh_token == tokens.refresh_token

    info = run(client.userinfo(refreshed.access_token))
    assert info == {"sub": "user-ada", "email": "ada@example.com", "name": "Ada"}

    active = run(client.introspect(refreshed.access_token))
    assert isinstance(active, Introspection) and active.active
    assert active.sub == "user-ada" and active.client_id == "web"
    assert active.scopes == {"orders:read"}

    run(client.revoke(refreshed.refresh_token, token_type_hint="refresh_token"))
    assert not run(client.introspect(refreshed.refresh_token)).active
    # Revoking the refresh token revoked the access tokens issued from it too.
    gone = run(client.introspect(refreshed.access_token))
    assert not gone.active and gone.claims == {}
    with pytest.raises(TokenRequestError) as info_error:
        run(client.refresh(refreshed.refresh_token))
    assert info_error.value.error == "invalid_grant"
    with pytest.raises(InvalidTokenError):
        run(client.userinfo(refreshed.access_token))
    run(client.revoke("never-issued"))  # RFC 7009: an unknown token is no error


def test_client_credentials_and_token_errors(shell: Any, issuer: LocalIssuer) -> None:
    run = shell.run
    client = shell.make("OAuthClient", issuer.url, "web", "web-s3cret")
    token = run(client.client_credentials(["orders:read"]))
    assert token.scope == "orders:read" and token.expires_at is not None
    with pytest.raises(TokenRequestError) as info:
        run(client.client_credentials("admin"))
    assert info.value.error == "invalid_scope" and info.value.status_code == 400
    with pytest.raises(TokenRequestError) as info:
        run(client.password("ada", "wrong"))
    assert info.value.error == "invalid_grant" and "wrong" not in str(info.value)

    bad = shell.make("OAuthClient", issuer.url, "web", "not-the-secret")
    with pytest.raises(TokenRequestError) as info:
        run(bad.client_credentials())
    assert info.value.error == "invalid_client"
    assert info.value.error_description == "client authentication failed"
    assert "not-the-secret" not in str(info.value)

    public = shell.make("OAuthClient", issuer.url, "web")
    with pytest.raises(ConfigError):
        run(public.client_credentials())
    with pytest.raises(ConfigError):
        shell.make("OAuthClient", "http://example.com", "web")


# ------------------------------------------------------------------------- remote permissions


class DecisionPoint:
    """Answers POST /decide from ``answer`` (status, body) or hangs for ``hang`` seconds."""

    def __init__(self) -> None:
        self.answer: tuple[int, bytes] = (200, b'{"allowed": true}')
        self.hang = 0.0
        self.seen: list[tuple[str, dict[str, Any]]] = []
        self._release = threading.Event()
        point = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                point.seen.append((self.headers.get("Authorization", ""), body))
                if point.hang:
                    point._release.wait(point.hang)
                status, data = point.answer
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/decide"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@pytest.fixture
def decision_point() -> Iterator[DecisionPoint]:
    point = DecisionPoint()
    yield point
    point.stop()


def test_remote_permissions_fail_closed(
    shell: Any, decision_point: DecisionPoint, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="midil")
    run = shell.run
    http = shell.make("HttpClient", retry=RetryPolicy.no_retries())
    checker = shell.make("RemotePermissionChecker", http, decision_point.url, timeout=0.3)
    token_a, token_b = "token-aaa-SECRET", "token-bbb-SECRET"

    assert run(checker.check(token_a, "orders", "read")) is True
    assert decision_point.seen == [
        ("Bearer token-aaa-SECRET", {"resource": "orders", "action": "read"})
    ]
    # A positive answer is cached for the same token, resource and action only.
    assert run(checker.check(token_a, "orders", "read")) is True
    assert len(decision_point.seen) == 1
    assert run(checker.check(token_b, "orders", "read")) is True
    assert run(checker.check(token_a, "orders", "write")) is True
    assert len(decision_point.seen) == 3

    decision_point.answer = (200, b'{"allowed": false}')
    assert run(checker.check(token_a, "invoices", "read")) is False
    decision_point.answer = (403, b"{}")
    assert run(checker.check(token_a, "invoices", "read")) is False
    assert len(decision_point.seen) == 5  # denials are never cached

    for failure in [(500, b'{"allowed": true}'), (200, b"not json"), (200, b'{"ok": 1}')]:
        decision_point.answer = failure
        assert run(checker.check(token_a, "reports", "read")) is False
    decision_point.answer = (200, b'{"decision": "allow"}')
    decision_point.hang = 2.0
    assert run(checker.check(token_a, "slow", "read")) is False
    decision_point.hang = 0.0

    down = shell.make("RemotePermissionChecker", http, "http://127.0.0.1:9/decide")
    assert run(down.check(token_a, "orders", "read")) is False

    assert "failing closed" in caplog.text
    assert "SECRET" not in caplog.text
    assert "SECRET" not in repr(checker)
