"""Context propagation in the adapters: the table of conftest.CONTEXT_CASES against Flask, Django
(sync and async stacks), DRF and FastAPI (async and sync endpoints); no leak between requests; the
user's log lines; the core decisions; opting out; and real servers whose views call another service
with ``HttpClient``."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import sys
import threading
import types
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import django_app.urls
import fastapi_app
import flask_app
import pytest
import requests
from asgiref.sync import async_to_sync
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import AsyncClient, Client, override_settings
from django.urls import path
from fastapi import FastAPI, WebSocket
from fastapi.testclient import TestClient
from flask import Flask
from pytest_httpserver import HTTPServer
from rest_framework.request import Request as DRFRequest
from rest_framework.views import APIView
from werkzeug import Request, Response

import midil_async
import midil_sync
from midil_common.adapters.context import (
    asgi_response_headers,
    request_context,
    request_context_from_asgi,
    request_context_from_environ,
    wsgi_response_headers,
)
from midil_common.events import ContextFilter, EventContext, current_context, event_context
from midil_common.testing import LocalIssuer

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
KEPT_ID = "caller-supplied-id-7"

FRAMEWORKS = ["flask", "flask_async", "django", "django_async", "drf", "fastapi", "fastapi_sync"]

Send = Callable[[str, dict[str, str]], tuple[int, list[str], bytes]]


# ---------------------------------------------------------------------------------- the test apps


def context_view_payload() -> dict[str, Any]:
    """What the ``/context`` views answer: the context they run in. They also log a line on
    ``tests.adapters.user`` (a user's own logger)."""
    context = current_context()
    logging.getLogger("tests.adapters.user").info("handled the request")
    return {
        "correlation_id": context.correlation_id,
        "trace_id": context.trace_id,
        "span_id": context.span_id,
        "traceparent": None if context.traceparent is None else context.traceparent.format(),
    }


def add_flask_routes(app: Flask) -> Flask:
    @app.get("/context")
    def context() -> Any:
        return context_view_payload()

    @app.get("/async/context")
    async def async_context() -> Any:
        await asyncio.sleep(0)
        return context_view_payload()

    return app


def add_fastapi_routes(app: FastAPI) -> FastAPI:
    @app.get("/context")
    async def context() -> dict[str, Any]:
        await asyncio.sleep(0)
        return context_view_payload()

    @app.get("/sync/context")
    def sync_context() -> dict[str, Any]:
        # A sync endpoint runs in a worker thread: it sees the context all the same.
        return context_view_payload()

    return app


def django_context(request: HttpRequest) -> HttpResponse:
    return JsonResponse(context_view_payload())


async def django_async_context(request: HttpRequest) -> HttpResponse:
    await asyncio.sleep(0)
    return JsonResponse(context_view_payload())


class DRFContext(APIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    def get(self, request: DRFRequest) -> HttpResponse:
        return JsonResponse(context_view_payload())


URLCONF = "tests_adapters_context_urls"
_urls = types.ModuleType(URLCONF)
_urls.urlpatterns = [  # type: ignore[attr-defined]
    path("context", django_context),
    path("async/context", django_async_context),
    path("api/context", DRFContext.as_view()),
    path("slash/", django_context),
    *django_app.urls.urlpatterns,
]
sys.modules[URLCONF] = _urls


@pytest.fixture(scope="module")
def authorizer(issuer: LocalIssuer) -> midil_sync.JWTAuthorizer:
    verifier = midil_sync.JWTAuthorizer(issuer.issuer, audience="articles-api")
    verifier.hydrate()
    return verifier


@pytest.fixture(scope="module")
def flask_application(authorizer: midil_sync.JWTAuthorizer) -> Flask:
    return add_flask_routes(flask_app.create_app(authorizer))


@pytest.fixture(scope="module")
def fastapi_client(issuer: LocalIssuer) -> Iterator[TestClient]:
    app = add_fastapi_routes(
        fastapi_app.create_app(midil_async.JWTAuthorizer(issuer.issuer, audience="articles-api"))
    )
    with TestClient(app) as running:
        yield running


@pytest.fixture
def django_configured(authorizer: midil_sync.JWTAuthorizer) -> Iterator[None]:
    with override_settings(
        ROOT_URLCONF=URLCONF, MIDIL={**settings.MIDIL, "AUTHORIZER": authorizer}
    ):
        yield


def _django_values(response: Any) -> list[str]:
    value = response.headers.get("X-Correlation-ID")
    return [] if value is None else [value]


@pytest.fixture(params=FRAMEWORKS)
def send(
    request: pytest.FixtureRequest,
    flask_application: Flask,
    fastapi_client: TestClient,
    django_configured: None,
) -> Send:
    """``send(path, headers) -> (status, X-Correlation-ID values, body)`` for one framework."""
    framework = str(request.param)

    def prefixed(path: str, prefix: str) -> str:
        return prefix + path if path.startswith(("/context", "/articles")) else path

    if framework.startswith("flask"):
        client = flask_application.test_client()
        prefix = "/async" if framework == "flask_async" else ""

        def flask_send(path: str, headers: dict[str, str]) -> tuple[int, list[str], bytes]:
            path = prefixed(path, prefix) if path.startswith("/context") else path
            resp = client.get(path, headers=headers)
            return resp.status_code, resp.headers.getlist("X-Correlation-ID"), resp.get_data()

        return flask_send
    if framework == "fastapi" or framework == "fastapi_sync":
        prefix = "/sync" if framework == "fastapi_sync" else ""

        def fastapi_send(path: str, headers: dict[str, str]) -> tuple[int, list[str], bytes]:
            path = prefixed(path, prefix) if path.startswith("/context") else path
            resp = fastapi_client.get(path, headers=headers)
            return resp.status_code, resp.headers.get_list("X-Correlation-ID"), resp.content

        return fastapi_send
    if framework == "django_async":

        async def aget(path: str, headers: dict[str, str]) -> Any:
            return await AsyncClient().get(path, headers=headers)

        def django_async_send(path: str, headers: dict[str, str]) -> tuple[int, list[str], bytes]:
            resp = async_to_sync(aget)(prefixed(path, "/async"), headers)
            return resp.status_code, _django_values(resp), resp.content

        return django_async_send
    prefix = "/api" if framework == "drf" else ""

    def django_send(path: str, headers: dict[str, str]) -> tuple[int, list[str], bytes]:
        resp = Client().get(prefixed(path, prefix), headers=headers)
        return resp.status_code, _django_values(resp), resp.content

    return django_send


# ------------------------------------------------------------------------------------ the table


def test_context_table(
    context_case: Any,
    send: Send,
    expect_context: Callable[..., str],
    context_headers_for: Callable[..., dict[str, str]],
) -> None:
    status, values, body = send(context_case.path, context_headers_for(context_case))
    expect_context(context_case, status, values, body)


def test_ids_differ_per_request_and_nothing_leaks(send: Send) -> None:
    seen = set()
    for _ in range(3):
        status, values, body = send("/context", {})
        assert status == 200 and json.loads(body)["correlation_id"] == values[0]
        seen.add(values[0])
        assert current_context().empty
    assert len(seen) == 3
    # A request after one with an id does not inherit it.
    send("/context", {"X-Correlation-ID": KEPT_ID, "traceparent": TRACEPARENT})
    _, values, body = send("/context", {})
    assert values[0] != KEPT_ID and json.loads(body)["trace_id"] != TRACEPARENT.split("-")[1]
    assert current_context().empty


def test_user_log_lines_carry_the_request_context(send: Send) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(correlation_id)s %(trace_id)s %(message)s"))
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("tests.adapters.user")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        status, values, _ = send(
            "/context", {"X-Correlation-ID": "log-123", "traceparent": TRACEPARENT}
        )
    finally:
        logger.removeHandler(handler)
    assert status == 200 and values == ["log-123"]
    trace_id = TRACEPARENT.split("-")[1]
    assert stream.getvalue().splitlines() == [f"log-123 {trace_id} handled the request"]


async def test_concurrent_async_requests_keep_their_own_context(
    fastapi_client: TestClient,
) -> None:
    """Many requests in flight at once on one event loop, each sees its own id."""
    import httpx

    app = fastapi_client.app
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        responses = await asyncio.gather(
            *(client.get("/context", headers={"X-Correlation-ID": f"task-{i}"}) for i in range(50))
        )
    for i, resp in enumerate(responses):
        assert resp.headers["X-Correlation-ID"] == f"task-{i}"
        assert resp.json()["correlation_id"] == f"task-{i}"
    assert current_context().empty


def test_concurrent_threads_keep_their_own_context(flask_application: Flask) -> None:
    results: dict[int, tuple[str, str]] = {}

    def worker(i: int) -> None:
        resp = flask_application.test_client().get(
            "/context", headers={"X-Correlation-ID": f"thread-{i}"}
        )
        results[i] = (resp.headers["X-Correlation-ID"], resp.get_json()["correlation_id"])

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: (f"thread-{i}", f"thread-{i}") for i in range(16)}


# ---------------------------------------------------------------------------- installation rules


def test_flask_context_without_authentication_and_opt_out(
    authorizer: midil_sync.JWTAuthorizer,
) -> None:
    from midil_sync.flask import MidilAuth, MidilContext

    plain = add_flask_routes(Flask("plain"))
    MidilContext(plain)
    MidilContext().init_app(plain)  # installing twice wraps once
    resp = plain.test_client().get("/context", headers={"X-Correlation-ID": KEPT_ID})
    assert resp.headers.getlist("X-Correlation-ID") == [KEPT_ID]
    assert resp.get_json()["correlation_id"] == KEPT_ID
    # Both extensions on one app: one context, one header.
    both = add_flask_routes(Flask("both"))
    MidilContext(both)
    MidilAuth(both, authorizer=authorizer)
    resp = both.test_client().get("/context", headers={"X-Correlation-ID": KEPT_ID})
    assert resp.headers.getlist("X-Correlation-ID") == [KEPT_ID]
    # Opting out: by argument or by configuration.
    for app, kwargs in [(Flask("off"), {"propagate_context": False}), (Flask("cfg"), {})]:
        app.config["MIDIL_PROPAGATE_CONTEXT"] = False
        MidilAuth(app, authorizer=authorizer, **kwargs)
        add_flask_routes(app)
        resp = app.test_client().get("/context", headers={"X-Correlation-ID": KEPT_ID})
        assert "X-Correlation-ID" not in resp.headers
        assert resp.get_json()["correlation_id"] is None


def test_flask_unhandled_error_still_carries_the_header(
    authorizer: midil_sync.JWTAuthorizer,
) -> None:
    from midil_sync.flask import MidilAuth

    app = Flask("boom")
    MidilAuth(app, authorizer=authorizer)

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    app.logger.disabled = True  # this app's own logger: the traceback is expected
    resp = app.test_client().get("/boom", headers={"X-Correlation-ID": KEPT_ID})
    assert resp.status_code == 500
    assert resp.headers["X-Correlation-ID"] == KEPT_ID


def test_django_context_middleware_first_covers_other_middleware(
    django_configured: None,
) -> None:
    """With ContextMiddleware first, a response made by a middleware before AuthMiddleware (here
    CommonMiddleware's redirect) carries the header, and only one header is set."""
    middleware = [
        "midil_sync.django.ContextMiddleware",
        "django.middleware.common.CommonMiddleware",
        "midil_sync.django.AuthMiddleware",
    ]
    with override_settings(MIDDLEWARE=middleware, APPEND_SLASH=True):
        client = Client()
        redirect = client.get("/slash", headers={"X-Correlation-ID": KEPT_ID})
        ok = client.get("/context", headers={"X-Correlation-ID": KEPT_ID})
        refused = client.get("/articles", headers={"X-Correlation-ID": "bad id"})
    assert redirect.status_code == 301
    assert redirect.headers["X-Correlation-ID"] == KEPT_ID
    assert ok.headers["X-Correlation-ID"] == json.loads(ok.content)["correlation_id"] == KEPT_ID
    assert refused.status_code == 401 and refused.headers["X-Correlation-ID"] != "bad id"
    # Without ContextMiddleware, AuthMiddleware propagates from where it stands: the redirect of a
    # middleware listed before it has no header.
    with override_settings(MIDDLEWARE=middleware[1:], APPEND_SLASH=True):
        outside = Client().get("/slash", headers={"X-Correlation-ID": KEPT_ID})
        inside = Client().get("/context", headers={"X-Correlation-ID": KEPT_ID})
    assert outside.status_code == 301 and "X-Correlation-ID" not in outside.headers
    assert inside.headers["X-Correlation-ID"] == KEPT_ID
    # Alone, ContextMiddleware needs no MIDIL settings at all.
    with override_settings(MIDDLEWARE=middleware[:1], MIDIL={}):
        alone = Client().get("/context", headers={"X-Correlation-ID": KEPT_ID})
    assert alone.headers["X-Correlation-ID"] == KEPT_ID


async def test_django_context_middleware_async_stack(django_configured: None) -> None:
    with override_settings(
        MIDDLEWARE=["midil_sync.django.ContextMiddleware", "midil_sync.django.AuthMiddleware"]
    ):
        resp = await AsyncClient().get("/async/context", headers={"X-Correlation-ID": KEPT_ID})
        refused = await AsyncClient().get("/async/articles", headers={"X-Correlation-ID": KEPT_ID})
    assert resp.headers["X-Correlation-ID"] == KEPT_ID
    assert json.loads(resp.content)["correlation_id"] == KEPT_ID
    assert refused.status_code == 401 and refused.headers["X-Correlation-ID"] == KEPT_ID
    assert current_context().empty


def test_django_opt_out(authorizer: midil_sync.JWTAuthorizer) -> None:
    with override_settings(
        ROOT_URLCONF=URLCONF,
        MIDIL={**settings.MIDIL, "AUTHORIZER": authorizer, "PROPAGATE_CONTEXT": False},
    ):
        resp = Client().get("/context", headers={"X-Correlation-ID": KEPT_ID})
    assert "X-Correlation-ID" not in resp.headers
    assert json.loads(resp.content)["correlation_id"] is None


def test_fastapi_installation_rules(issuer: LocalIssuer) -> None:
    from midil_async.fastapi import AuthMiddleware, ContextMiddleware, register_exception_handlers

    authorizer = midil_async.JWTAuthorizer(issuer.issuer, audience="articles-api")
    # The middleware alone.
    alone = add_fastapi_routes(FastAPI())
    alone.add_middleware(ContextMiddleware)
    # AuthMiddleware alone opens the context too, and its own 401 carries the header.
    auth_only = add_fastapi_routes(FastAPI())
    auth_only.add_middleware(AuthMiddleware, authorizer=authorizer, excluded_paths=["/context"])
    # Everything at once: register_exception_handlers adds ContextMiddleware once; one header.
    everything = add_fastapi_routes(FastAPI())
    register_exception_handlers(everything)
    register_exception_handlers(everything)
    everything.add_middleware(ContextMiddleware)
    everything.add_middleware(AuthMiddleware, authorizer=authorizer, excluded_paths=["/context"])
    assert sum(m.cls is ContextMiddleware for m in everything.user_middleware) == 2
    for app in (alone, auth_only, everything):
        with TestClient(app) as client:
            resp = client.get("/context", headers={"X-Correlation-ID": KEPT_ID})
            assert resp.headers.get_list("X-Correlation-ID") == [KEPT_ID]
            assert resp.json()["correlation_id"] == KEPT_ID
            if app is not alone:
                refused = client.get("/nowhere", headers={"X-Correlation-ID": KEPT_ID})
                assert refused.status_code == 401
                assert refused.headers.get_list("X-Correlation-ID") == [KEPT_ID]
    # Opting out.
    off = add_fastapi_routes(FastAPI())
    register_exception_handlers(off, propagate_context=False)
    off.add_middleware(
        AuthMiddleware, authorizer=authorizer, excluded_paths=["/context"], propagate_context=False
    )
    with TestClient(off) as client:
        resp = client.get("/context", headers={"X-Correlation-ID": KEPT_ID})
    assert "X-Correlation-ID" not in resp.headers and resp.json()["correlation_id"] is None


def test_fastapi_websocket_runs_in_a_context() -> None:
    from midil_async.fastapi import ContextMiddleware

    app = FastAPI()
    app.add_middleware(ContextMiddleware)

    @app.websocket("/ws")
    async def ws(socket: WebSocket) -> None:
        await socket.accept()
        await socket.send_json(context_view_payload())
        await socket.close()

    with (
        TestClient(app) as client,
        client.websocket_connect("/ws", headers={"X-Correlation-ID": KEPT_ID}) as socket,
    ):
        assert socket.receive_json()["correlation_id"] == KEPT_ID


# ------------------------------------------------------------------------------ the core decisions


def test_core_reads_headers_from_every_shape() -> None:
    tp = TRACEPARENT
    with request_context({"X-Correlation-ID": "a1", "TraceParent": tp}) as ctx:
        assert ctx.correlation_id == "a1" and ctx.trace_id == tp.split("-")[1]
    environ = {"HTTP_X_CORRELATION_ID": "a2", "HTTP_TRACEPARENT": tp}
    with request_context_from_environ(environ) as ctx:
        assert ctx.correlation_id == "a2" and ctx.trace_id == tp.split("-")[1]
        assert ctx.span_id != tp.split("-")[2]
    with request_context_from_environ({"HTTP_X_CORRELATION_ID": "a b"}) as ctx:
        assert ctx.correlation_id not in (None, "a b")
    with request_context_from_environ({}) as ctx:
        assert ctx.correlation_id and ctx.trace_id
    raw = [(b"host", b"x"), (b"x-correlation-id", b"a3"), (b"traceparent", tp.encode())]
    with request_context_from_asgi(raw) as ctx:
        assert ctx.correlation_id == "a3" and ctx.trace_id == tp.split("-")[1]
    # Sent twice: ambiguous, replaced.
    with request_context_from_asgi([(b"x-correlation-id", b"a"), (b"x-correlation-id", b"b")]) as c:
        assert c.correlation_id not in ("a", "b")
    with request_context_from_asgi([(b"x-correlation-id", "é".encode())]) as ctx:
        assert ctx.correlation_id != "é"
    assert current_context().empty


def test_core_sets_one_response_header() -> None:
    context = EventContext("used")
    headers = [("Content-Type", "text/plain"), ("x-correlation-id", "other")]
    assert wsgi_response_headers(headers, context) == [
        ("Content-Type", "text/plain"),
        ("X-Correlation-ID", "used"),
    ]
    raw = [(b"content-type", b"text/plain"), (b"X-Correlation-ID", b"other")]
    assert asgi_response_headers(raw, context) == [
        (b"content-type", b"text/plain"),
        (b"x-correlation-id", b"used"),
    ]
    assert wsgi_response_headers([], EventContext()) == []
    assert asgi_response_headers([], EventContext()) == []


# ------------------------------------------------------------------------ real servers, end to end


@pytest.fixture
def downstream() -> Iterator[tuple[HTTPServer, list[dict[str, str]]]]:
    """A service recording the headers of every request it receives."""
    seen: list[dict[str, str]] = []
    server = HTTPServer(host="127.0.0.1", threaded=True)

    def handler(request: Request) -> Response:
        seen.append(dict(request.headers))
        return Response('{"ok": true}', status=200, content_type="application/json")

    server.expect_request("/orders").respond_with_handler(handler)
    server.start()
    yield server, seen
    server.clear()
    server.stop()


def _flask_caller(url: str) -> Flask:
    from midil_sync.flask import MidilContext

    app = Flask("caller")
    MidilContext(app)
    client = midil_sync.HttpClient()

    @app.get("/call")
    def call() -> Any:
        assert client.get(url).status_code == 200
        return context_view_payload()

    app.extensions["test_client"] = client
    return app


def _fastapi_caller(url: str) -> FastAPI:
    from midil_async.fastapi import ContextMiddleware

    client = midil_async.HttpClient()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await client.aclose()

    app = FastAPI(lifespan=lifespan)
    app.add_middleware(ContextMiddleware)

    @app.get("/call")
    async def call() -> dict[str, Any]:
        assert (await client.get(url)).status_code == 200
        return context_view_payload()

    return app


def _django_caller(url: str) -> Any:
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


@contextlib.contextmanager
def _serve(
    framework: str, url: str, wsgi_server: Callable[..., Any], asgi_server: Callable[..., Any]
) -> Iterator[str]:
    if framework == "flask":
        app = _flask_caller(url)
        try:
            with wsgi_server(app) as base:
                yield base
        finally:
            app.extensions["test_client"].close()
    else:
        with asgi_server(_fastapi_caller(url)) as base:
            yield base


@pytest.mark.parametrize("framework", ["flask", "fastapi"])
def test_real_server_view_calls_a_service_with_the_request_context(
    framework: str,
    downstream: tuple[HTTPServer, list[dict[str, str]]],
    wsgi_server: Callable[..., Any],
    asgi_server: Callable[..., Any],
) -> None:
    server, seen = downstream
    with _serve(framework, server.url_for("/orders"), wsgi_server, asgi_server) as base:
        continued = requests.get(
            f"{base}/call",
            headers={"X-Correlation-ID": KEPT_ID, "traceparent": TRACEPARENT},
            timeout=10,
        )
        fresh = requests.get(f"{base}/call", headers={"X-Correlation-ID": "a b"}, timeout=10)
    assert continued.status_code == 200 and continued.headers["X-Correlation-ID"] == KEPT_ID
    view = continued.json()
    first = {k.lower(): v for k, v in seen[0].items()}
    assert first["x-correlation-id"] == KEPT_ID
    # The downstream call continues the incoming trace, its parent being the view's span.
    assert first["traceparent"] == f"00-{TRACEPARENT.split('-')[1]}-{view['span_id']}-01"
    second = {k.lower(): v for k, v in seen[1].items()}
    assert fresh.headers["X-Correlation-ID"] != "a b"
    assert second["x-correlation-id"] == fresh.headers["X-Correlation-ID"]
    assert second["traceparent"].split("-")[1] == fresh.json()["trace_id"]
    assert len(seen) == 2


def test_real_django_server_view_calls_a_service(
    authorizer: midil_sync.JWTAuthorizer,
    downstream: tuple[HTTPServer, list[dict[str, str]]],
    wsgi_server: Callable[..., Any],
) -> None:
    server, seen = downstream
    client = midil_sync.HttpClient()

    def call(request: HttpRequest) -> HttpResponse:
        assert client.get(server.url_for("/orders")).status_code == 200
        return JsonResponse(context_view_payload())

    urls = types.ModuleType("tests_adapters_context_call_urls")
    urls.urlpatterns = [path("call", call)]  # type: ignore[attr-defined]
    sys.modules[urls.__name__] = urls
    try:
        with (
            override_settings(
                ROOT_URLCONF=urls.__name__, MIDIL={**settings.MIDIL, "AUTHORIZER": authorizer}
            ),
            wsgi_server(_django_caller("")) as base,
        ):
            resp = requests.get(
                f"{base}/call",
                headers={"X-Correlation-ID": KEPT_ID, "traceparent": TRACEPARENT},
                timeout=10,
            )
    finally:
        del sys.modules[urls.__name__]
        client.close()
    assert resp.status_code == 200 and resp.headers["X-Correlation-ID"] == KEPT_ID
    got = {k.lower(): v for k, v in seen[0].items()}
    assert got["x-correlation-id"] == KEPT_ID
    assert got["traceparent"] == f"00-{TRACEPARENT.split('-')[1]}-{resp.json()['span_id']}-01"


def test_outside_a_request_the_test_thread_has_no_context() -> None:
    with event_context("outer"):
        pass
    assert current_context().empty
