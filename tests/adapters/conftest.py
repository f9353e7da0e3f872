"""Shared fixtures of the adapter tests: a LocalIssuer, its tokens, the behaviour table, servers."""

from __future__ import annotations

import contextlib
import json
import pathlib
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from midil_common.testing import LocalIssuer

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
if str(EXAMPLES) not in sys.path:
    # The example apps (flask_app, fastapi_app, django_app) are what the tests exercise.
    sys.path.insert(0, str(EXAMPLES))

import django  # noqa: E402
from django.conf import settings  # noqa: E402

if not settings.configured:
    # Configured once per process, from the example project's own settings module.
    from django_app import settings as example_settings

    settings.configure(
        **{
            name: getattr(example_settings, name)
            for name in dir(example_settings)
            if name.isupper()
        }
    )
    django.setup()

AUDIENCE = "articles-api"
JSONAPI = "application/vnd.api+json"
REALM = 'Bearer realm="articles"'
CREATE_BODY = b'{"data":{"type":"articles","attributes":{"title":"New"}}}'


@dataclass(frozen=True)
class Case:
    """One row of the behaviour table every adapter must pass."""

    name: str
    status: int
    method: str = "GET"
    path: str = "/articles"
    token: str | None = "read"
    authorization: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    challenge: str | None = None
    """Exact WWW-Authenticate, or a prefix when it ends with ``*``; None: header must be absent."""
    code: str | None = None
    source: Mapping[str, str] | None = None
    down: bool = False


INVALID = REALM + ', error="invalid_token", error_description="*'

CASES = [
    Case("no_token", 401, token=None, challenge=REALM, code="missing_token"),
    Case(
        "malformed_header",
        401,
        token=None,
        authorization="Bearer",
        challenge=REALM
        + ', error="invalid_token", error_description="the Authorization header names Bearer'
        ' but carries no token"',
        code="invalid_token",
    ),
    Case(
        "two_tokens",
        401,
        token=None,
        authorization="Bearer abc def",
        challenge=REALM + ', error="invalid_token", error_description="the access token is not a'
        ' single well-formed token"',
        code="invalid_token",
    ),
    Case(
        "wrong_scheme",
        401,
        token=None,
        authorization="Basic dXNlcjpwYXNz",
        challenge=REALM,
        code="missing_token",
    ),
    Case("expired", 401, token="expired", challenge=INVALID, code="token_expired"),
    Case("wrong_audience", 401, token="wrong_aud", challenge=INVALID, code="invalid_token"),
    Case("bad_signature", 401, token="tampered", challenge=INVALID, code="invalid_token"),
    Case("valid", 200),
    Case(
        "missing_scope",
        403,
        token="noscope",
        challenge=REALM + ', error="insufficient_scope", error_description="the token lacks the'
        ' scopes: articles:read", scope="articles:read"',
        code="insufficient_scope",
    ),
    Case(
        "read_scope_cannot_write",
        403,
        method="POST",
        headers={"Content-Type": JSONAPI},
        body=CREATE_BODY,
        challenge=REALM + ', error="insufficient_scope", error_description="the token lacks the'
        ' scopes: articles:write", scope="articles:write"',
        code="insufficient_scope",
    ),
    Case(
        "valid_scope",
        201,
        method="POST",
        token="write",
        headers={"Content-Type": JSONAPI},
        body=CREATE_BODY,
    ),
    Case("bad_sort", 400, path="/articles?sort=nope", source={"parameter": "sort"}),
    Case(
        "unknown_include", 400, path="/articles?include=comments", source={"parameter": "include"}
    ),
    Case(
        "page_too_large", 400, path="/articles?page[size]=500", source={"parameter": "page[size]"}
    ),
    Case(
        "wrong_content_type",
        415,
        method="POST",
        token="write",
        headers={"Content-Type": "application/json"},
        body=CREATE_BODY,
    ),
    Case(
        "accept_unsupported_ext",
        406,
        headers={"Accept": JSONAPI + '; ext="https://example.com/ext/none"'},
    ),
    Case("issuer_down", 503, down=True, code="issuer_unavailable"),
]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" in metafunc.fixturenames:
        metafunc.parametrize("case", CASES, ids=[c.name for c in CASES])
    if "get_case" in metafunc.fixturenames:
        rows = [c for c in CASES if c.method == "GET"]
        metafunc.parametrize("get_case", rows, ids=[c.name for c in rows])


@pytest.fixture(scope="session")
def issuer() -> Iterator[LocalIssuer]:
    with LocalIssuer(audience=AUDIENCE) as running:
        yield running


@pytest.fixture(scope="session")
def tokens(issuer: LocalIssuer) -> dict[str, str]:
    return {
        "read": issuer.mint(scope="articles:read"),
        "write": issuer.mint(scope="articles:read articles:write"),
        "noscope": issuer.mint(scope="profile"),
        "expired": issuer.mint(scope="articles:read", expires_in=-600),
        "wrong_aud": issuer.mint(scope="articles:read", aud="another-api"),
        "tampered": issuer.mint(scope="articles:read", tamper=True),
        "editor": issuer.mint(scope="profile", claims={"cognito:groups": ["editors"]}),
    }


@pytest.fixture(scope="session")
def dead_url() -> str:
    """A loopback URL where nothing listens (connection refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/jwks.json"


def request_headers(case: Case, tokens: Mapping[str, str]) -> dict[str, str]:
    headers = {"Accept": JSONAPI, **case.headers}
    if case.authorization is not None:
        headers["Authorization"] = case.authorization
    elif case.token is not None:
        headers["Authorization"] = f"Bearer {tokens[case.token]}"
    return headers


def check(
    case: Case, status: int, headers: Mapping[str, str], body: bytes, tokens: Mapping[str, str]
) -> None:
    """Assert one response against its row; ``headers`` must be case-insensitive."""
    assert status == case.status, (case.name, status, body[:300])
    challenge = headers.get("WWW-Authenticate")
    if case.challenge is None:
        assert challenge is None, challenge
    elif case.challenge.endswith("*"):
        assert challenge is not None and challenge.startswith(case.challenge[:-1]), challenge
        assert challenge.endswith('"')
    else:
        assert challenge == case.challenge
    content_type = headers.get("Content-Type", "")
    text = body.decode()
    for token in tokens.values():
        assert token not in text and (challenge is None or token not in challenge)
    if status >= 400:
        assert content_type == JSONAPI, content_type
        doc = json.loads(body)
        assert set(doc) <= {"errors", "jsonapi", "meta", "links"}
        assert doc["errors"] and all(e["status"] == str(status) for e in doc["errors"]), doc
        if case.code is not None:
            assert doc["errors"][0]["code"] == case.code, doc
        if case.source is not None:
            assert doc["errors"][0]["source"] == dict(case.source), doc
    else:
        assert content_type.startswith(JSONAPI), content_type
        doc = json.loads(body)
        assert "data" in doc


@pytest.fixture
def expect(tokens: dict[str, str]) -> Callable[..., None]:
    return lambda case, status, headers, body: check(case, status, headers, body, tokens)


@pytest.fixture
def headers_for(tokens: dict[str, str]) -> Callable[[Case], dict[str, str]]:
    return lambda case: request_headers(case, tokens)


@contextlib.contextmanager
def serve_asgi(app: Any, *, lifespan: str = "on") -> Iterator[str]:
    """Run ``app`` under uvicorn on a free loopback port in a thread; yields its base URL."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan=lifespan, access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started or not thread.is_alive():
                break
            threading.Event().wait(0.01)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@contextlib.contextmanager
def serve_wsgi(app: Any) -> Iterator[str]:
    """Run a WSGI ``app`` under werkzeug's threaded server on loopback; yields its base URL."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            return None

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


@pytest.fixture
def asgi_server() -> Callable[..., Any]:
    return serve_asgi


@pytest.fixture
def wsgi_server() -> Callable[..., Any]:
    return serve_wsgi
