"""``OAuthClient`` on both shells against a hostile issuer on loopback: server text that echoes a
credential in any encoding never carries it into an error, and the endpoints a discovery document
names are held to the https rule of its ``jwks_uri`` before a credential is sent to them."""

from __future__ import annotations

import json
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus

import pytest

from midil_common.errors import TokenRequestError, TransportError

SECRET = "cl!ent s3cret/+="
PASSWORD = "p@ss w0rd!&x/"
REFRESH = "refresh-tok/en+=="
TOKEN = "opaque tok/en+=&"
ACCESS = "access tok/en+="

Handler = Callable[[str, str, dict[str, str], bytes], tuple[int, dict[str, Any]]]


def forms(value: str) -> set[str]:
    """The forms a server may echo a credential in: as is, form-encoded, percent-encoded."""
    return {value, quote_plus(value), quote(value, safe="")}


class HostileIssuer:
    """An issuer on 127.0.0.1 whose discovery document is ``document(url)`` and whose every other
    path answers ``handler(method, path, headers, body)``; ``hits`` records the paths asked."""

    def __init__(self, handler: Handler, document: Callable[[str], dict[str, Any]]) -> None:
        self.hits: list[str] = []
        outer = self

        class Server(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                outer.hits.append(self.path)
                if self.path.endswith("/.well-known/openid-configuration"):
                    status, doc = 200, document(outer.url)
                else:
                    status, doc = handler(self.command, self.path, dict(self.headers), body)
                data = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Server)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def local_document(url: str) -> dict[str, Any]:
    return {
        "issuer": url,
        "jwks_uri": f"{url}/jwks",
        "token_endpoint": f"{url}/token",
        "revocation_endpoint": f"{url}/revoke",
        "introspection_endpoint": f"{url}/introspect",
        "userinfo_endpoint": f"{url}/userinfo",
    }


def echo(
    method: str, path: str, headers: dict[str, str], body: bytes
) -> tuple[int, dict[str, Any]]:
    """An endpoint that copies what it got into its error, the way a careless server logs it: the
    body as sent, each field decoded and percent-encoded, and the Authorization header."""
    fields = parse_qsl(body.decode(), keep_blank_values=True)
    decoded = " ".join(f"{k}={v}" for k, v in fields)
    encoded = " ".join(f"{k}={quote(v, safe='')}" for k, v in fields)
    auth = headers.get("Authorization", "")
    description = f"got {body.decode()} | {decoded} | {encoded} | {auth}"
    return 400, {"error": f"invalid_request {encoded}", "error_description": description}


@pytest.fixture
def make_issuer() -> Iterator[Callable[..., HostileIssuer]]:
    started: list[HostileIssuer] = []

    def make(handler: Handler = echo, document: Any = local_document) -> HostileIssuer:
        issuer = HostileIssuer(handler, document)
        started.append(issuer)
        return issuer

    yield make
    for issuer in started:
        issuer.stop()


def chain_text(exc: BaseException) -> str:
    """Everything a caller or a log handler can see of ``exc``: the formatted traceback with its
    chained causes, and the attributes of each exception in the chain."""
    parts = ["".join(traceback.format_exception(exc))]
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts.append(repr(current.args))
        parts.append(repr(vars(current)))
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


CALLS: dict[str, tuple[Callable[[Any], Any], set[str]]] = {
    "password": (lambda c: c.password("ada", PASSWORD), forms(PASSWORD)),
    "refresh": (lambda c: c.refresh(REFRESH), forms(REFRESH)),
    "revoke": (lambda c: c.revoke(TOKEN), forms(TOKEN)),
    "introspect": (lambda c: c.introspect(TOKEN), forms(TOKEN)),
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_echoed_credentials_are_redacted_in_every_encoding(
    shell: Any, make_issuer: Callable[..., HostileIssuer], call: str
) -> None:
    issuer = make_issuer()
    client = shell.make("OAuthClient", issuer.url, "web", SECRET, retry=None)
    send, secrets = CALLS[call]
    with pytest.raises(TokenRequestError) as info:
        shell.run(send(client))
    assert info.value.status_code == 400
    # The server did echo the credential: the redaction, not a quiet server, keeps it out.
    assert "***" in str(info.value)
    seen = chain_text(info.value)
    for secret in secrets | forms(SECRET):
        assert secret not in seen, f"{secret!r} leaked"


@pytest.mark.parametrize("status", [400, 500])
def test_userinfo_errors_redact_the_access_token(
    shell: Any, make_issuer: Callable[..., HostileIssuer], status: int
) -> None:
    def userinfo(
        method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        bearer = headers.get("Authorization", "").removeprefix("Bearer ")
        shown = " ".join(sorted(forms(bearer)))
        return status, {"error": f"bad {bearer}", "error_description": f"token {shown}"}

    issuer = make_issuer(userinfo)
    client = shell.make("OAuthClient", issuer.url, "web", SECRET, retry=None)
    with pytest.raises(TokenRequestError) as info:
        shell.run(client.userinfo(ACCESS))
    assert info.value.status_code == status and "***" in str(info.value)
    seen = chain_text(info.value)
    for secret in forms(ACCESS):
        assert secret not in seen, f"{secret!r} leaked"


ENDPOINTS: dict[str, Callable[[Any], Any]] = {
    "token_endpoint": lambda c: c.client_credentials(),
    "revocation_endpoint": lambda c: c.revoke(TOKEN),
    "introspection_endpoint": lambda c: c.introspect(TOKEN),
    "userinfo_endpoint": lambda c: c.userinfo(ACCESS),
}


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_plain_http_endpoint_of_another_host_gets_no_credentials(
    shell: Any, make_issuer: Callable[..., HostileIssuer], name: str
) -> None:
    # 192.0.2.1 is TEST-NET-1: were a request sent, it would fail to connect (a TransportError
    # chained under the TokenRequestError) instead of being refused before sending.
    def document(url: str) -> dict[str, Any]:
        return {**local_document(url), name: "http://192.0.2.1/oauth"}

    issuer = make_issuer(document=document)
    client = shell.make("OAuthClient", issuer.url, "web", SECRET, retry=None, timeout=1.0)
    started = time.monotonic()
    with pytest.raises(TokenRequestError) as info:
        shell.run(ENDPOINTS[name](client))
    assert time.monotonic() - started < 5
    message = str(info.value)
    assert name in message and "https" in message
    assert not isinstance(info.value.__cause__, TransportError)
    assert not isinstance(info.value.__context__, TransportError)
    seen = chain_text(info.value)
    for secret in forms(SECRET) | forms(TOKEN) | forms(ACCESS):
        assert secret not in seen
    # Only the discovery document was fetched, from the issuer itself.
    assert issuer.hits == ["/.well-known/openid-configuration"]


def test_loopback_http_endpoints_stay_usable(
    shell: Any, make_issuer: Callable[..., HostileIssuer]
) -> None:
    def token(
        method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        return 200, {"access_token": "at", "token_type": "Bearer", "expires_in": 60}

    def document(url: str) -> dict[str, Any]:
        # Another loopback spelling than the issuer's: local development keeps working.
        return {**local_document(url), "token_endpoint": url.replace("127.0.0.1", "localhost")}

    issuer = make_issuer(token, document)
    client = shell.make("OAuthClient", issuer.url, "web", SECRET, retry=None)
    assert shell.run(client.client_credentials()).access_token == "at"
