"""``require_permission`` with a ``RemotePermissionPolicy``, in every framework, against a real
decision service on loopback (pytest-httpserver on 127.0.0.1) and real application servers.

The service decides by resource: ``allowed`` (``{"allowed": true}``), ``denied`` (``{"allowed":
false}``), ``refused`` (403), ``broken`` (500), ``garbled`` (200, not JSON) and ``slow`` (answers
after the checker's timeout). Every framework answers the same table: an allow is a 200, anything
else a 403 ``insufficient_scope`` JSON:API error naming the permission (failing closed, never a 500
or 503), a missing or bad token a 401 without asking the service. The service receives the
request's own bearer token, at the configured URL only, and no log record carries it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug import Request as WRequest
from werkzeug import Response as WResponse

import midil_async
import midil_sync
from midil_common.adapters import refuse_unless, remote_policy
from midil_common.auth import PermissionPolicy
from midil_common.auth.remote_policy import RemotePermissionPolicy
from midil_common.errors import ConfigError, PermissionDeniedError
from midil_common.testing import LocalIssuer

JSONAPI = "application/vnd.api+json"
REALM = 'Bearer realm="articles"'
AUDIENCE = "articles-api"
RESOURCES = ("allowed", "denied", "refused", "broken", "garbled", "slow")
TIMEOUT = 0.5
"""The checkers' timeout; the service's ``slow`` answer takes ``SLOW`` seconds."""
SLOW = 1.5


# ----------------------------------------------------------------------------- the decision service


@dataclass(frozen=True)
class Asked:
    path: str
    authorization: str | None
    resource: str
    action: str


class DecisionService:
    """The handler of the loopback policy decision point, recording what it was asked."""

    def __init__(self) -> None:
        self.asked: list[Asked] = []
        self.slow_started = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, request: WRequest) -> WResponse:
        body = json.loads(request.get_data())
        resource = body["resource"]
        with self._lock:
            self.asked.append(
                Asked(request.path, request.headers.get("Authorization"), resource, body["action"])
            )
        if resource == "slow":
            self.slow_started.set()
            time.sleep(SLOW)
            return _json({"allowed": True})
        if resource == "allowed":
            return _json({"allowed": True})
        if resource == "refused":
            return _json({"allowed": False}, status=403)
        if resource == "broken":
            return _json({"error": "boom"}, status=500)
        if resource == "garbled":
            return WResponse("<html>yes</html>", status=200, content_type="text/html")
        return _json({"allowed": False})

    def reset(self) -> None:
        with self._lock:
            self.asked.clear()
        self.slow_started.clear()


def _json(doc: Any, status: int = 200) -> WResponse:
    return WResponse(json.dumps(doc), status=status, content_type="application/json")


@pytest.fixture(scope="module")
def pdp() -> Iterator[tuple[HTTPServer, DecisionService]]:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    service = DecisionService()
    server.expect_request("/decide", method="POST").respond_with_handler(service)
    server.start()
    try:
        yield server, service
    finally:
        server.clear()
        server.stop()


@pytest.fixture
def service(pdp: tuple[HTTPServer, DecisionService]) -> Iterator[DecisionService]:
    server, handler = pdp
    server.clear_log()
    handler.reset()
    yield handler
    # Only the configured URL was ever called.
    assert all(req.path == "/decide" and req.method == "POST" for req, _ in server.log)


@pytest.fixture(scope="module")
def decide_url(pdp: tuple[HTTPServer, DecisionService]) -> str:
    return pdp[0].url_for("/decide")


# ------------------------------------------------------------------------------ checker probes


class Probe:
    """A sync checker around a ``RemotePermissionChecker``: records the calling thread, and
    raises on ``exploding`` with the token in its message (which must reach no log)."""

    def __init__(self, inner: midil_sync.RemotePermissionChecker) -> None:
        self.inner = inner
        self.threads: list[int] = []

    def check(self, token: str, resource: str, action: str) -> bool:
        self.threads.append(threading.get_ident())
        if resource == "exploding":
            raise RuntimeError(f"checker bug while holding {token}")
        return self.inner.check(token, resource, action)


class AsyncProbe:
    """:class:`Probe` for the async checker."""

    def __init__(self, inner: midil_async.RemotePermissionChecker) -> None:
        self.inner = inner
        self.threads: list[int] = []

    async def check(self, token: str, resource: str, action: str) -> bool:
        self.threads.append(threading.get_ident())
        if resource == "exploding":
            raise RuntimeError(f"checker bug while holding {token}")
        return await self.inner.check(token, resource, action)


@dataclass(frozen=True)
class Servers:
    """The conftest's loopback servers: ``wsgi(app)`` and ``asgi(app, lifespan=...)``."""

    wsgi: Callable[..., Any]
    asgi: Callable[..., Any]


@pytest.fixture(scope="module")
def servers(wsgi_server: Callable[..., Any], asgi_server: Callable[..., Any]) -> Servers:
    return Servers(wsgi=wsgi_server, asgi=asgi_server)


@dataclass
class Served:
    base: str
    probe: Probe | AsyncProbe


# ------------------------------------------------------------------------ the apps, one per variant


def _ok_body() -> dict[str, Any]:
    return {"meta": {"ok": True, "thread": threading.get_ident()}}


@contextlib.contextmanager
def sync_checker(url: str) -> Iterator[midil_sync.RemotePermissionChecker]:
    with midil_sync.HttpClient() as http:
        yield midil_sync.RemotePermissionChecker(http, url, timeout=TIMEOUT, cache_ttl=0)


@contextlib.contextmanager
def serve_flask(
    issuer: LocalIssuer, url: str, servers: Servers, *, async_views: bool, from_extension: bool
) -> Iterator[Served]:
    from flask import Flask

    from midil_sync.flask import MidilAuth, require_permission

    with sync_checker(url) as checker:
        policy = RemotePermissionPolicy(checker)
        probe = Probe(checker)
        probed = RemotePermissionPolicy(probe)
        authorizer = midil_sync.JWTAuthorizer(issuer.issuer, audience=AUDIENCE)
        app = Flask(f"remote-{async_views}-{from_extension}")
        MidilAuth(
            app,
            authorizer=authorizer,
            realm="articles",
            policy=policy if from_extension else None,
            excluded_paths=["/health"],
        )

        def add(path: str, resource: str, chosen: Any) -> None:
            if async_views:

                async def view() -> Any:
                    return _ok_body()

            else:

                def view() -> Any:
                    return _ok_body()

            app.add_url_rule(
                path,
                endpoint=path,
                view_func=require_permission(resource, "read", policy=chosen)(view),
            )

        for resource in RESOURCES:
            add(f"/{resource}", resource, None if from_extension else policy)
        add("/exploding", "exploding", probed)
        add("/probed", "allowed", probed)
        app.add_url_rule("/health", endpoint="health", view_func=lambda: {"ok": True})
        with servers.wsgi(app) as base:
            yield Served(base, probe)


@contextlib.contextmanager
def serve_django(
    issuer: LocalIssuer, url: str, servers: Servers, *, asgi: bool, drf: bool
) -> Iterator[Served]:
    from django.conf import settings
    from django.core.asgi import get_asgi_application
    from django.core.wsgi import get_wsgi_application
    from django.http import JsonResponse
    from django.test import override_settings
    from django.urls import path
    from rest_framework.response import Response
    from rest_framework.views import APIView

    from midil_sync.django import require_permission
    from midil_sync.django.drf import HasPermission

    with sync_checker(url) as checker:
        policy = RemotePermissionPolicy(checker)
        probe = Probe(checker)
        probed = RemotePermissionPolicy(probe)
        authorizer = midil_sync.JWTAuthorizer(issuer.issuer, audience=AUDIENCE)

        def function_view(resource: str, chosen: Any) -> Any:
            if asgi:

                async def aview(request: Any) -> Any:
                    return JsonResponse(_ok_body())

                return require_permission(resource, "read", policy=chosen)(aview)

            def view(request: Any) -> Any:
                return JsonResponse(_ok_body())

            return require_permission(resource, "read", policy=chosen)(view)

        def drf_view(resource: str, chosen: Any) -> Any:
            class View(APIView):
                permission_classes = [HasPermission.require(resource, "read", policy=chosen)]

                def get(self, request: Any) -> Response:
                    return Response(_ok_body())

            return View.as_view()

        make = drf_view if drf else function_view
        # The ASGI variant takes its policy from MIDIL["PERMISSION_POLICY"], the others from the
        # decorator or the DRF permission class.
        patterns = [
            path(resource, make(resource, None if asgi else policy)) for resource in RESOURCES
        ]
        patterns += [path("exploding", make("exploding", probed))]
        patterns += [path("probed", make("allowed", probed))]

        async def health(request: Any) -> Any:
            return JsonResponse({"ok": True})

        patterns += [path("health", health)]

        class Urls:
            urlpatterns = patterns

        midil = {**settings.MIDIL, "AUTHORIZER": authorizer}
        if asgi:
            midil["PERMISSION_POLICY"] = policy
        with override_settings(ROOT_URLCONF=Urls, MIDIL=midil):
            app = get_asgi_application() if asgi else get_wsgi_application()
            server = servers.asgi(app, lifespan="off") if asgi else servers.wsgi(app)
            with server as base:
                yield Served(base, probe)


@contextlib.contextmanager
def serve_fastapi(
    issuer: LocalIssuer, url: str, servers: Servers, *, middleware: bool
) -> Iterator[Served]:
    from fastapi import Depends, FastAPI

    from midil_async.fastapi import (
        Authenticated,
        AuthMiddleware,
        register_exception_handlers,
        require_permission,
    )

    http = midil_async.HttpClient()
    checker = midil_async.RemotePermissionChecker(http, url, timeout=TIMEOUT, cache_ttl=0)
    policy = RemotePermissionPolicy(checker)
    probe = AsyncProbe(checker)
    probed = RemotePermissionPolicy(probe)
    authorizer = midil_async.JWTAuthorizer(issuer.issuer, audience=AUDIENCE)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await http.aclose()

    app = FastAPI(lifespan=lifespan)
    if middleware:
        # The middleware verifies; the dependency reads the claims it left and the app's policy.
        app.add_middleware(
            AuthMiddleware, authorizer=authorizer, realm="articles", excluded_paths=["/health"]
        )
        register_exception_handlers(app, realm="articles", policy=policy)
        auth = None
    else:
        register_exception_handlers(app, realm="articles")
        auth = Authenticated(authorizer, realm="articles")

    def add(route: str, resource: str, chosen: Any) -> None:
        dependency = require_permission(resource, "read", policy=chosen, auth=auth)

        async def endpoint(claims: Any = Depends(dependency)) -> Any:  # noqa: B008
            return _ok_body()

        app.get(route)(endpoint)

    for resource in RESOURCES:
        add(f"/{resource}", resource, None if middleware else policy)
    add("/exploding", "exploding", probed)
    add("/probed", "allowed", probed)

    @app.get("/health")
    async def health() -> Any:
        return {"ok": True}

    with servers.asgi(app) as base:
        yield Served(base, probe)


Variant = Callable[[LocalIssuer, str, Servers], contextlib.AbstractContextManager[Served]]
VARIANTS: dict[str, Variant] = {
    "flask": lambda i, u, s: serve_flask(i, u, s, async_views=False, from_extension=False),
    "flask_async_view_extension_policy": lambda i, u, s: serve_flask(
        i, u, s, async_views=True, from_extension=True
    ),
    "django_wsgi": lambda i, u, s: serve_django(i, u, s, asgi=False, drf=False),
    "django_asgi_async_view_settings_policy": lambda i, u, s: serve_django(
        i, u, s, asgi=True, drf=False
    ),
    "drf": lambda i, u, s: serve_django(i, u, s, asgi=False, drf=True),
    "fastapi_authenticated": lambda i, u, s: serve_fastapi(i, u, s, middleware=False),
    "fastapi_middleware_app_policy": lambda i, u, s: serve_fastapi(i, u, s, middleware=True),
}


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def served(
    request: pytest.FixtureRequest, issuer: LocalIssuer, decide_url: str, servers: Servers
) -> Iterator[tuple[str, Served]]:
    with VARIANTS[request.param](issuer, decide_url, servers) as running:
        yield request.param, running


# ----------------------------------------------------------------------------- the behaviour table


@dataclass(frozen=True)
class RemoteCase:
    """One row: the route (its resource), the token sent, the status, whether the service is
    asked and whether the adapter or checker logs a fail-closed warning."""

    name: str
    route: str
    status: int
    token: str = "fresh"
    asked: bool = True
    fails_closed: bool = False


REMOTE_CASES = [
    RemoteCase("allowed", "/allowed", 200),
    RemoteCase("denied", "/denied", 403),
    RemoteCase("service_refuses_403", "/refused", 403),
    RemoteCase("service_error_500", "/broken", 403, fails_closed=True),
    RemoteCase("service_garbled", "/garbled", 403, fails_closed=True),
    RemoteCase("service_timeout", "/slow", 403, fails_closed=True),
    RemoteCase("checker_raises", "/exploding", 403, asked=False, fails_closed=True),
    RemoteCase("no_token", "/allowed", 401, token="none", asked=False),
    RemoteCase("invalid_token", "/allowed", 401, token="expired", asked=False),
]


@pytest.fixture
def fresh_token(issuer: LocalIssuer) -> str:
    """A token of this test alone (no articles scope: only the remote decision can allow)."""
    return issuer.mint(scope="profile", claims={"nonce": uuid.uuid4().hex})


def _send(base: str, route: str, token: str | None) -> requests.Response:
    headers = {"Accept": JSONAPI}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.get(base + route, headers=headers, timeout=10)


def _no_token_logged(caplog: pytest.LogCaptureFixture, token: str) -> None:
    for record in caplog.records:
        assert token not in record.getMessage(), record
        assert token not in repr(record.__dict__), record


@pytest.mark.parametrize("row", REMOTE_CASES, ids=[c.name for c in REMOTE_CASES])
def test_remote_permission_table(
    row: RemoteCase,
    served: tuple[str, Served],
    service: DecisionService,
    fresh_token: str,
    issuer: LocalIssuer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    variant, app = served
    token = {
        "fresh": fresh_token,
        "none": None,
        "expired": issuer.mint(scope="profile", expires_in=-600),
    }[row.token]
    resp = _send(app.base, row.route, token)
    body = resp.content.decode()
    assert resp.status_code == row.status, (variant, row.name, body[:300])
    resource = row.route.lstrip("/")
    if row.status == 200:
        assert resp.json()["meta"]["ok"] is True
    else:
        assert resp.headers["Content-Type"] == JSONAPI, resp.headers
        doc = json.loads(body)
        (error,) = doc["errors"]
        assert error["status"] == str(row.status)
        challenge = resp.headers["WWW-Authenticate"]
        if row.status == 403:
            assert error["code"] == "insufficient_scope", error
            assert error["meta"]["permission"] == f"{resource}:read", error
            assert challenge.startswith(REALM + ', error="insufficient_scope"'), challenge
        else:
            assert challenge.startswith(REALM), challenge
    # What the service was asked: this request's token as the bearer credential, on /decide.
    if row.asked:
        assert service.asked, (variant, row.name)
        assert all(
            asked == Asked("/decide", f"Bearer {fresh_token}", resource, "read")
            for asked in service.asked
        ), service.asked
    else:
        assert service.asked == []
    if token is not None:
        assert token not in body and token not in str(resp.headers)
        _no_token_logged(caplog, token)
    if row.fails_closed:
        warnings = [
            r.getMessage()
            for r in caplog.records
            if r.levelno == logging.WARNING and r.name.startswith("midil")
        ]
        assert any("failing closed" in m and f"{resource}:read" in m for m in warnings), warnings


def test_an_async_django_view_asks_from_a_worker_thread(
    issuer: LocalIssuer,
    decide_url: str,
    servers: Servers,
    service: DecisionService,
    fresh_token: str,
) -> None:
    """The sync checker never runs on the event loop's thread under ASGI."""
    with serve_django(issuer, decide_url, servers, asgi=True, drf=False) as app:
        resp = _send(app.base, "/probed", fresh_token)
        assert resp.status_code == 200, resp.content
        loop_thread = resp.json()["meta"]["thread"]
        assert app.probe.threads and all(t != loop_thread for t in app.probe.threads)


@pytest.mark.parametrize(
    "variant", ["fastapi_authenticated", "django_asgi_async_view_settings_policy"]
)
def test_a_slow_decision_does_not_block_the_event_loop(
    variant: str,
    issuer: LocalIssuer,
    decide_url: str,
    servers: Servers,
    service: DecisionService,
    fresh_token: str,
) -> None:
    with VARIANTS[variant](issuer, decide_url, servers) as app:
        answers: list[int] = []
        slow = threading.Thread(
            target=lambda: answers.append(_send(app.base, "/slow", fresh_token).status_code)
        )
        slow.start()
        try:
            assert service.slow_started.wait(5)
            health = requests.get(app.base + "/health", timeout=5)
            # Answered while the decision is still outstanding.
            assert health.status_code == 200 and slow.is_alive()
        finally:
            slow.join(10)
        assert answers == [403]


# ------------------------------------------------------------------------- the wrong flavour


def _checkers(url: str) -> tuple[Any, Any]:
    sync = midil_sync.RemotePermissionChecker(midil_sync.HttpClient(), url)
    asyn = midil_async.RemotePermissionChecker(midil_async.HttpClient(), url)
    return sync, asyn


def test_flask_refuses_an_async_checker_when_decorating_and_at_init_app(
    issuer: LocalIssuer,
) -> None:
    from flask import Flask

    from midil_sync.flask import MidilAuth, require_permission

    sync, asyn = _checkers("http://127.0.0.1:9/decide")
    with pytest.raises(ConfigError, match=r"policy wraps midil_async.*needs midil_sync"):
        require_permission("articles", "read", policy=RemotePermissionPolicy(asyn))
    authorizer = midil_sync.JWTAuthorizer(issuer.issuer, audience=AUDIENCE)
    with pytest.raises(ConfigError, match=r"midil_sync\.RemotePermissionChecker"):
        MidilAuth(Flask("x"), authorizer=authorizer, policy=RemotePermissionPolicy(asyn))
    require_permission("articles", "read", policy=RemotePermissionPolicy(sync))  # fine


def test_django_and_drf_refuse_an_async_checker(issuer: LocalIssuer) -> None:
    from django.conf import settings
    from django.http import HttpResponse
    from django.test import override_settings

    from midil_sync.django import AuthMiddleware, require_permission
    from midil_sync.django.drf import HasPermission

    sync, asyn = _checkers("http://127.0.0.1:9/decide")
    wrong = RemotePermissionPolicy(asyn)
    with pytest.raises(ConfigError, match="needs midil_sync"):
        require_permission("articles", "read", policy=wrong)
    with pytest.raises(ConfigError, match="needs midil_sync"):
        HasPermission.require("articles", "read", policy=wrong)
    authorizer = midil_sync.JWTAuthorizer(issuer.issuer, audience=AUDIENCE)
    midil = {**settings.MIDIL, "AUTHORIZER": authorizer, "PERMISSION_POLICY": wrong}
    with (
        override_settings(MIDIL=midil),
        pytest.raises(ConfigError, match=r"MIDIL\['PERMISSION_POLICY'\]"),
    ):
        AuthMiddleware(lambda request: HttpResponse("ok"))
    HasPermission.require("articles", "read", policy=RemotePermissionPolicy(sync))  # fine


def test_fastapi_refuses_a_sync_checker() -> None:
    from fastapi import FastAPI

    from midil_async.fastapi import register_exception_handlers, require_permission

    sync, asyn = _checkers("http://127.0.0.1:9/decide")
    with pytest.raises(ConfigError, match=r"policy wraps midil_sync.*needs midil_async"):
        require_permission("articles", "read", policy=RemotePermissionPolicy(sync))
    with pytest.raises(ConfigError, match=r"midil_async\.RemotePermissionChecker"):
        register_exception_handlers(
            FastAPI(), policy=RemotePermissionPolicy(sync), propagate_context=False
        )
    require_permission("articles", "read", policy=RemotePermissionPolicy(asyn))  # fine


# ------------------------------------------------------------------------------ the core pieces


def test_the_policy_needs_a_checker_and_the_token() -> None:
    with pytest.raises(ConfigError, match="checker must have check"):
        RemotePermissionPolicy(object())
    sync, asyn = _checkers("http://127.0.0.1:9/decide")
    assert RemotePermissionPolicy(sync).coroutines is False
    assert RemotePermissionPolicy(asyn).coroutines is True
    assert "127.0.0.1:9" in repr(RemotePermissionPolicy(sync))
    policy = RemotePermissionPolicy(sync)
    # Asked the local way (from the claims alone), it says where it belongs instead of guessing.
    with pytest.raises(ConfigError, match="needs the request's bearer token"):
        policy.check(None, "articles", "read")  # type: ignore[arg-type]
    assert remote_policy(policy) is policy
    assert remote_policy(PermissionPolicy(scopes={"articles:read": ["articles:read"]})) is None
    assert remote_policy(None) is None


@pytest.mark.parametrize("answer", [False, None, 1, "yes", object()])
def test_only_a_true_answer_allows(answer: Any) -> None:
    policy = RemotePermissionPolicy(_checkers("http://127.0.0.1:9/decide")[0])
    with pytest.raises(PermissionDeniedError) as refused:
        refuse_unless(answer, policy, "articles", "write")
    assert refused.value.permission == "articles:write"
    assert refused.value.required_scopes == ()
    refuse_unless(True, policy, "articles", "write")
