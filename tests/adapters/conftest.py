"""Shared fixtures of the adapter tests: a LocalIssuer, its tokens, the behaviour table, servers."""

from __future__ import annotations

import contextlib
import json
import pathlib
import socket
import sys
import threading
import time
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
    within: float | None = None
    """Seconds the answer must take at most, from building the headers (a linear-time bound)."""


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
    # JSON's "\ud800" is a lone surrogate: every adapter refuses it as the document it is in,
    # rather than accept it and fail to write the response (a 500).
    Case(
        "lone_surrogate_in_an_attribute",
        400,
        method="POST",
        token="write",
        headers={"Content-Type": JSONAPI},
        body=b'{"data":{"type":"articles","attributes":{"title":"\\ud800"}}}',
        code="invalid_document",
    ),
    # Servers pass a folded header's line break through; a regex that stops at it used to backtrack
    # over every space, quadratically (tens of seconds here).
    Case(
        "folded_header_after_many_spaces",
        401,
        token=None,
        authorization="Bearer" + " " * 50_000 + "x\n y",
        challenge=INVALID,
        code="invalid_token",
        within=3.0,
    ),
]


# ------------------------------------------------------------------- the settings table

SETTINGS_ENV = {
    "MIDIL_AUTH__REALM": "from-env",
    "MIDIL_JSONAPI__MAX_PAGE_SIZE": "5",
    "MIDIL_JSONAPI__DEFAULT_PAGE_SIZE": "3",
    "MIDIL_JSONAPI__MAX_INCLUDE_DEPTH": "1",
}
"""The environment of every row of :data:`SETTINGS_CASES`."""

ENV_REALM = 'Bearer realm="from-env"'


@dataclass(frozen=True)
class SettingsCase:
    """One row of the settings table every adapter must pass, under :data:`SETTINGS_ENV`.

    The app reads its realm and JSON:API limits from the environment, or, with ``explicit``, is
    given its own (realm ``articles``, ``max_page_size=50``, ``max_include_depth=3``), which win.
    A 200 answers ``{"data": [], "meta": {"page_size": ...}}``.
    """

    name: str
    status: int
    path: str = "/articles"
    token: str | None = "read"
    explicit: bool = False
    challenge: str | None = None
    code: str | None = None
    source: Mapping[str, str] | None = None
    page_size: int | None = None
    authorization: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


SETTINGS_CASES = [
    SettingsCase(
        "no_token_realm_from_env", 401, token=None, challenge=ENV_REALM, code="missing_token"
    ),
    SettingsCase(
        "bad_token_realm_from_env",
        401,
        token="expired",
        challenge=ENV_REALM + ', error="invalid_token", error_description="*',
        code="token_expired",
    ),
    SettingsCase(
        "missing_scope_realm_from_env",
        403,
        token="noscope",
        challenge=ENV_REALM + ', error="insufficient_scope", error_description="the token lacks'
        ' the scopes: articles:read", scope="articles:read"',
        code="insufficient_scope",
    ),
    SettingsCase(
        "page_size_above_max_page_size",
        400,
        path="/articles?page[size]=6",
        source={"parameter": "page[size]"},
    ),
    SettingsCase(
        "page_limit_above_max_page_size",
        400,
        path="/articles?page[offset]=0&page[limit]=6",
        source={"parameter": "page[limit]"},
    ),
    SettingsCase("page_size_at_max_page_size", 200, path="/articles?page[size]=5", page_size=5),
    SettingsCase("default_page_size", 200, page_size=3),
    SettingsCase(
        "include_deeper_than_max_include_depth",
        400,
        path="/articles?include=author.friends",
        source={"parameter": "include"},
    ),
    SettingsCase("include_at_max_include_depth", 200, path="/articles?include=author"),
    SettingsCase(
        "explicit_realm_wins",
        401,
        token=None,
        explicit=True,
        challenge=REALM,
        code="missing_token",
    ),
    SettingsCase(
        "explicit_max_page_size_wins",
        200,
        path="/articles?page[size]=6",
        explicit=True,
        page_size=6,
    ),
    SettingsCase(
        "explicit_max_include_depth_wins",
        200,
        path="/articles?include=author.friends",
        explicit=True,
    ),
    SettingsCase("default_page_size_with_explicit_max", 200, explicit=True, page_size=3),
]


def check_settings_case(
    case: SettingsCase,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    tokens: Mapping[str, str],
) -> None:
    """Assert one response against its settings row (the behaviour table's checks, plus the
    page size the view saw)."""
    check(case, status, headers, body, tokens)  # type: ignore[arg-type]
    if case.page_size is not None:
        assert json.loads(body)["meta"]["page_size"] == case.page_size, body[:300]


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Mapping[str, str]:
    """:data:`SETTINGS_ENV` set in the environment (and nothing else ``MIDIL_...``)."""
    import os

    for name in list(os.environ):
        if name.upper().startswith("MIDIL_"):
            monkeypatch.delenv(name)
    for name, value in SETTINGS_ENV.items():
        monkeypatch.setenv(name, value)
    return SETTINGS_ENV


@pytest.fixture
def expect_settings(tokens: dict[str, str]) -> Callable[..., None]:
    return lambda case, status, headers, body: check_settings_case(
        case, status, headers, body, tokens
    )


# ------------------------------------------------------------------- the context propagation table

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
KEPT_ID = "req-42.abc_DEF:1/x"


@dataclass(frozen=True)
class ContextCase:
    """One row of the context-propagation table every adapter must pass.

    ``path`` is the app's ``/context`` view (no token needed; it answers with the context it runs
    in) or an ``/articles`` path refused by the auth or JSON:API layer. ``kept``: the response's
    ``X-Correlation-ID`` is the one sent; otherwise a new valid id, never the one sent.
    """

    name: str
    status: int
    path: str = "/context"
    token: str | None = None
    correlation_id: str | None = None
    traceparent: str | None = None
    kept: bool = False
    continued: bool = False
    """The view's trace id is the incoming ``traceparent``'s (with a new span id)."""


CONTEXT_CASES = [
    ContextCase("valid_id_kept", 200, correlation_id=KEPT_ID, kept=True),
    ContextCase("absent_id_generated", 200),
    ContextCase("control_characters_replaced", 200, correlation_id="bad\x01id\x7f"),
    ContextCase("too_long_replaced", 200, correlation_id="a" * 129),
    ContextCase("spaces_replaced", 200, correlation_id="two words"),
    ContextCase("ten_thousand_characters_replaced", 200, correlation_id="x" * 10_000),
    ContextCase("repeated_value_replaced", 200, correlation_id="one,two"),
    ContextCase(
        "traceparent_continued",
        200,
        correlation_id=KEPT_ID,
        traceparent=TRACEPARENT,
        kept=True,
        continued=True,
    ),
    ContextCase(
        "invalid_traceparent_replaced",
        200,
        traceparent="00-00000000000000000000000000000000-b7ad6b7169203331-01",
    ),
    ContextCase("garbage_traceparent_replaced", 200, traceparent="x" * 10_000),
    ContextCase("401_no_token", 401, path="/articles", correlation_id=KEPT_ID, kept=True),
    ContextCase("401_invalid_id_replaced", 401, path="/articles", correlation_id="bad\x01id"),
    ContextCase(
        "401_bad_token",
        401,
        path="/articles",
        token="expired",
        correlation_id=KEPT_ID,
        traceparent=TRACEPARENT,
        kept=True,
    ),
    ContextCase(
        "403_missing_scope",
        403,
        path="/articles",
        token="noscope",
        correlation_id=KEPT_ID,
        kept=True,
    ),
    ContextCase(
        "400_bad_query",
        400,
        path="/articles?sort=nope",
        token="read",
        correlation_id=KEPT_ID,
        kept=True,
    ),
    ContextCase("400_generated", 400, path="/articles?sort=nope", token="read"),
    ContextCase("404_not_found", 404, path="/nowhere", correlation_id=KEPT_ID, kept=True),
    ContextCase(
        "200_protected", 200, path="/articles", token="read", correlation_id=KEPT_ID, kept=True
    ),
]


def context_headers(case: ContextCase, tokens: Mapping[str, str]) -> dict[str, str]:
    headers = {"Accept": JSONAPI}
    if case.token is not None:
        headers["Authorization"] = f"Bearer {tokens[case.token]}"
    if case.correlation_id is not None:
        headers["X-Correlation-ID"] = case.correlation_id
    if case.traceparent is not None:
        headers["traceparent"] = case.traceparent
    return headers


def check_context(case: ContextCase, status: int, values: list[str], body: bytes) -> str:
    """Assert one response against its row; ``values`` are all its ``X-Correlation-ID`` values.
    Returns the id the response carries."""
    from midil_common.events import current_context, valid_correlation_id

    assert status == case.status, (case.name, status, body[:300])
    assert len(values) == 1, values
    answered = values[0]
    assert valid_correlation_id(answered) == answered, answered
    if case.kept:
        assert answered == case.correlation_id
    elif case.correlation_id is not None:
        # Replaced, and never echoed anywhere in the response.
        assert answered != case.correlation_id
        assert case.correlation_id.encode() not in body
    if case.traceparent is not None and not case.continued:
        assert case.traceparent.encode() not in body
    if case.path == "/context":
        seen = json.loads(body)
        assert seen["correlation_id"] == answered, seen
        trace_id, span_id = seen["trace_id"], seen["span_id"]
        assert len(trace_id) == 32 and int(trace_id, 16) and len(span_id) == 16 and int(span_id, 16)
        if case.continued:
            assert case.traceparent is not None
            assert trace_id == case.traceparent.split("-")[1]
            assert span_id != case.traceparent.split("-")[2]
            assert seen["traceparent"].endswith("-01")
        elif case.traceparent is not None:
            assert trace_id not in case.traceparent
    # Nothing stays behind in the caller's context.
    assert current_context().empty
    return answered


@pytest.fixture
def expect_context() -> Callable[..., str]:
    return check_context


@pytest.fixture
def context_headers_for(tokens: dict[str, str]) -> Callable[[ContextCase], dict[str, str]]:
    return lambda case: context_headers(case, tokens)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "context_case" in metafunc.fixturenames:
        metafunc.parametrize("context_case", CONTEXT_CASES, ids=[c.name for c in CONTEXT_CASES])
    if "settings_case" in metafunc.fixturenames:
        metafunc.parametrize("settings_case", SETTINGS_CASES, ids=[c.name for c in SETTINGS_CASES])
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


_SENT_AT: dict[str, float] = {}
"""When :func:`request_headers` built each row's headers, for rows with a ``within`` bound."""


def request_headers(case: Case, tokens: Mapping[str, str]) -> dict[str, str]:
    _SENT_AT[case.name] = time.perf_counter()
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
    if getattr(case, "within", None) is not None:
        elapsed = time.perf_counter() - _SENT_AT.pop(case.name)
        assert elapsed < case.within, (case.name, elapsed)
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


@pytest.fixture(scope="session")
def asgi_server() -> Callable[..., Any]:
    return serve_asgi


@pytest.fixture(scope="session")
def wsgi_server() -> Callable[..., Any]:
    return serve_wsgi
