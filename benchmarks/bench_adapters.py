"""Cost of authentication in each web adapter, through the framework's own test client.

For Flask, Django and FastAPI: requests per second of a JSON:API endpoint (query parsing and a
small document) protected by ``require_scopes`` against the same endpoint unprotected, in one run.
Every protected request verifies its RS256 token (warm keys, token cache off), so the difference is
one signature verification plus the adapter. Goal: protected throughput at least 0.8 of the open
one, i.e. a time ratio of at most 1.25.
"""

import gc
import pathlib
import sys
import time
from collections.abc import Callable
from typing import Annotated, Any

from harness import Figure, print_figures

from midil_common.testing import LocalIssuer

ROOT = pathlib.Path(__file__).resolve().parents[1]
QUERY = "/x?sort=-title&include=author&page[size]=10"
RULES: dict[str, Any] = {"allowed_sort": {"title"}, "allowed_include": {"author"}}


def document(query: Any) -> dict[str, Any]:
    return {
        "data": [
            {"type": "articles", "id": str(i), "attributes": {"title": f"t{i}"}}
            for i in range(query.page.size // 2)
        ],
        "meta": {"sort": [s.field for s in query.sort]},
    }


def flask_pair(issuer: LocalIssuer, token: str) -> tuple[Callable[[], Any], Callable[[], Any]]:
    from flask import Flask

    from midil_sync import JWTAuthorizer
    from midil_sync.flask import MidilAuth, jsonapi_query, jsonapi_response, require_scopes

    authorizer = JWTAuthorizer(issuer.issuer, audience="bench")
    authorizer.hydrate()
    app = Flask("bench")
    MidilAuth(app, authorizer=authorizer)

    @app.get("/open/x")
    def open_view() -> Any:
        return jsonapi_response(document(jsonapi_query(**RULES)))

    @app.get("/protected/x")
    @require_scopes("articles:read")
    def protected_view() -> Any:
        return jsonapi_response(document(jsonapi_query(**RULES)))

    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def call(prefix: str) -> Callable[[], Any]:
        def run() -> Any:
            resp = client.get(prefix + QUERY, headers=headers)
            assert resp.status_code == 200, resp.status_code
            return resp

        return run

    return call("/open"), call("/protected")


def django_pair(issuer: LocalIssuer, token: str) -> tuple[Callable[[], Any], Callable[[], Any]]:
    import django
    from django.conf import settings
    from django.http import HttpRequest, HttpResponse
    from django.test import Client
    from django.urls import path

    from midil_sync import JWTAuthorizer

    authorizer = JWTAuthorizer(issuer.issuer, audience="bench")
    authorizer.hydrate()

    from midil_sync.django import jsonapi_query, jsonapi_response, require_scopes

    def open_view(request: HttpRequest) -> HttpResponse:
        return jsonapi_response(document(jsonapi_query(request, **RULES)))

    @require_scopes("articles:read")
    def protected_view(request: HttpRequest) -> HttpResponse:
        return jsonapi_response(document(jsonapi_query(request, **RULES)))

    module = type(sys)("bench_adapters_urls")
    module.urlpatterns = [path("open/x", open_view), path("protected/x", protected_view)]  # type: ignore[attr-defined]
    sys.modules["bench_adapters_urls"] = module
    if not settings.configured:
        settings.configure(
            SECRET_KEY="bench",
            ALLOWED_HOSTS=["testserver"],
            ROOT_URLCONF="bench_adapters_urls",
            MIDDLEWARE=["midil_sync.django.AuthMiddleware"],
            MIDIL={"AUTHORIZER": authorizer},
            DATABASES={},
            INSTALLED_APPS=[],
        )
        django.setup()
    client = Client()
    headers = {"Authorization": f"Bearer {token}"}

    def call(prefix: str) -> Callable[[], Any]:
        def run() -> Any:
            resp = client.get(prefix + QUERY, headers=headers)
            assert resp.status_code == 200, resp.status_code
            return resp

        return run

    # The middleware verifies every request in both cases when a token is sent: send it only to the
    # protected endpoint, so the open one measures the adapter with nothing to verify.
    def open_run() -> Any:
        resp = client.get("/open" + QUERY)
        assert resp.status_code == 200, resp.status_code
        return resp

    return open_run, call("/protected")


def fastapi_pair(
    issuer: LocalIssuer, token: str
) -> tuple[Callable[[], Any], Callable[[], Any], Any]:
    from fastapi import Depends, FastAPI, Security
    from fastapi.testclient import TestClient

    from midil_async import JWTAuthorizer
    from midil_async.fastapi import (
        Authenticated,
        JSONAPIResponse,
        jsonapi_query,
        register_exception_handlers,
    )

    authorizer = JWTAuthorizer(issuer.issuer, audience="bench")
    auth = Authenticated(authorizer)
    app = FastAPI()
    register_exception_handlers(app)
    query_dependency = jsonapi_query(**RULES)

    @app.get("/open/x")
    async def open_view(query: Annotated[Any, Depends(query_dependency)]) -> JSONAPIResponse:
        return JSONAPIResponse(document(query))

    @app.get("/protected/x")
    async def protected_view(
        claims: Annotated[Any, Security(auth, scopes=["articles:read"])],
        query: Annotated[Any, Depends(query_dependency)],
    ) -> JSONAPIResponse:
        return JSONAPIResponse(document(query))

    client = TestClient(app)
    client.__enter__()
    client.portal.call(authorizer.hydrate)  # type: ignore[union-attr]
    headers = {"Authorization": f"Bearer {token}"}

    def call(prefix: str) -> Callable[[], Any]:
        def run() -> Any:
            resp = client.get(prefix + QUERY, headers=headers)
            assert resp.status_code == 200, resp.status_code
            return resp

        return run

    return call("/open"), call("/protected"), client


def paired(
    open_run: Callable[[], Any],
    protected_run: Callable[[], Any],
    *,
    rounds: int = 12,
    min_time: float = 0.15,
) -> tuple[float, float]:
    """Best seconds per request of each, measured in alternating batches.

    The machine is shared: alternating batches expose both endpoints to the same background load,
    and the best batch of each is the least disturbed one.
    """
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            open_run()
        took = time.perf_counter() - start
        if took >= min_time / 4:
            break
        number *= 2
    number = max(1, int(number * min_time / took))
    best = [float("inf"), float("inf")]
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            for index, run in enumerate((open_run, protected_run)):
                start = time.perf_counter()
                for _ in range(number):
                    run()
                best[index] = min(best[index], (time.perf_counter() - start) / number)
    finally:
        if gc_was:
            gc.enable()
    return best[0], best[1]


def main() -> None:
    sys.path.insert(0, str(ROOT))
    figures: list[Figure] = []
    with LocalIssuer(audience="bench") as issuer:
        token = issuer.mint(scope="articles:read")
        pairs: list[tuple[str, Callable[[], Any], Callable[[], Any]]] = []
        open_f, protected_f = flask_pair(issuer, token)
        pairs.append(("flask", open_f, protected_f))
        open_d, protected_d = django_pair(issuer, token)
        pairs.append(("django", open_d, protected_d))
        open_a, protected_a, client = fastapi_pair(issuer, token)
        pairs.append(("fastapi", open_a, protected_a))
        try:
            for name, open_run, protected_run in pairs:
                open_run(), protected_run()
                anchor, ours = paired(open_run, protected_run)
                figures.append(
                    Figure(
                        f"{name}: protected JSON:API GET (RS256 verify)",
                        ours,
                        f"{name}: same endpoint, unprotected",
                        anchor,
                        goal="<= 1.25 (throughput >= 0.8)",
                    )
                )
        finally:
            client.__exit__(None, None, None)
    print_figures("web adapters: cost of authentication per request (test clients)", figures)
    for f in figures:
        print(
            f"  {f.name.split(':')[0]:<8} throughput protected/unprotected = {1 / f.ratio:.3f}"
            f"  ({1 / f.ours:,.0f} vs {1 / f.anchor:,.0f} req/s)"
        )


if __name__ == "__main__":
    main()
