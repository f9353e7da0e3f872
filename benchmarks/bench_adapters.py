"""Cost of authentication in each web adapter, through the framework's own test client.

For Flask, Django and FastAPI: requests per second of a JSON:API endpoint (query parsing and a
small document) protected by ``require_scopes`` against the same endpoint unprotected, in one run.
The figures block measures the uncached path: every protected request verifies its RS256 token
(warm keys, token cache off), so the difference is one signature verification plus the adapter.

The ceiling: the same protected endpoint with an authorizer that does nothing but PyJWT's bare
``RSAAlgorithm.verify`` on the token (pre-split, claims prebuilt). It shows what one signature
check alone costs inside a request, where caches are cold and it costs far more than in a loop.

With default settings the verified-token cache is on, which is what a client that reuses its token
(the common case) meets: a hit checks that the key set still serves the key that verified the
token, and no signature. Goal with default settings: protected/unprotected throughput >= 0.9; the
uncached path: >= 0.9 of the ceiling.
"""

import pathlib
import sys
from collections.abc import Callable
from typing import Annotated, Any

from harness import Figure, alternating, print_figures

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


class BareSignatureCheck:
    """An authorizer that only runs the bare signature check, returning claims verified earlier."""

    def __init__(self, issuer: LocalIssuer, token: str) -> None:
        from jwt.algorithms import RSAAlgorithm

        from midil_sync import JWTAuthorizer

        with JWTAuthorizer(issuer.issuer, audience="bench", token_cache_size=0) as real:
            self.claims = real.verify(token)
        from bench_auth import signed_parts

        self.message, self.signature = signed_parts(token)
        self.key = issuer.public_key("RS256")
        self.algorithm = RSAAlgorithm(RSAAlgorithm.SHA256)

    def verify(self, token: str) -> Any:
        """The bare check, then the claims."""
        if not self.algorithm.verify(self.message, self.key, self.signature):
            raise AssertionError("the signature does not verify")
        return self.claims


class AsyncBareSignatureCheck(BareSignatureCheck):
    """The same, for the async authorizer protocol."""

    async def verify(self, token: str) -> Any:  # type: ignore[override]
        """The bare check, then the claims."""
        return BareSignatureCheck.verify(self, token)


class FixedClaims:
    """An authorizer that verifies nothing: the adapter's own cost, the floor of any cache hit."""

    def __init__(self, claims: Any) -> None:
        self.claims = claims

    def verify(self, token: str) -> Any:
        """The claims, unverified."""
        return self.claims


class AsyncFixedClaims(FixedClaims):
    """The same, for the async authorizer protocol."""

    async def verify(self, token: str) -> Any:  # type: ignore[override]
        """The claims, unverified."""
        return self.claims


def flask_pair(
    issuer: LocalIssuer, token: str, authorizer: Any = None
) -> tuple[Callable[[], Any], Callable[[], Any]]:
    from flask import Flask

    from midil_sync import JWTAuthorizer
    from midil_sync.flask import MidilAuth, jsonapi_query, jsonapi_response, require_scopes

    if authorizer is None:
        authorizer = JWTAuthorizer(issuer.issuer, audience="bench", token_cache_size=0)
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


def django_use(authorizer: Any) -> None:
    """Swap the authorizer of the configured Django settings."""
    from django.conf import settings
    from django.test.signals import setting_changed

    settings.MIDIL["AUTHORIZER"] = authorizer
    setting_changed.send(sender=None, setting="MIDIL", value=settings.MIDIL, enter=True)


def django_pair(issuer: LocalIssuer, token: str) -> tuple[Callable[[], Any], Callable[[], Any]]:
    import django
    from django.conf import settings
    from django.http import HttpRequest, HttpResponse
    from django.test import Client
    from django.urls import path

    from midil_sync import JWTAuthorizer

    authorizer = JWTAuthorizer(issuer.issuer, audience="bench", token_cache_size=0)
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
    issuer: LocalIssuer, token: str, claims: Any
) -> tuple[
    Callable[[], Any],
    Callable[[], Any],
    Callable[[], Any],
    Callable[[], Any],
    Callable[[], Any],
    Any,
]:
    from fastapi import Depends, FastAPI, Security
    from fastapi.testclient import TestClient

    from midil_async import JWTAuthorizer
    from midil_async.fastapi import (
        Authenticated,
        JSONAPIResponse,
        jsonapi_query,
        register_exception_handlers,
    )

    authorizer = JWTAuthorizer(issuer.issuer, audience="bench", token_cache_size=0)
    cached_authorizer = JWTAuthorizer(issuer.issuer, audience="bench")
    auth = Authenticated(authorizer)
    bare = Authenticated(AsyncBareSignatureCheck(issuer, token))  # type: ignore[arg-type]
    cached = Authenticated(cached_authorizer)
    fixed = Authenticated(AsyncFixedClaims(claims))  # type: ignore[arg-type]
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

    @app.get("/ceiling/x")
    async def ceiling_view(
        claims: Annotated[Any, Security(bare, scopes=["articles:read"])],
        query: Annotated[Any, Depends(query_dependency)],
    ) -> JSONAPIResponse:
        return JSONAPIResponse(document(query))

    @app.get("/cached/x")
    async def cached_view(
        claims: Annotated[Any, Security(cached, scopes=["articles:read"])],
        query: Annotated[Any, Depends(query_dependency)],
    ) -> JSONAPIResponse:
        return JSONAPIResponse(document(query))

    @app.get("/fixed/x")
    async def fixed_view(
        claims: Annotated[Any, Security(fixed, scopes=["articles:read"])],
        query: Annotated[Any, Depends(query_dependency)],
    ) -> JSONAPIResponse:
        return JSONAPIResponse(document(query))

    client = TestClient(app)
    client.__enter__()
    client.portal.call(authorizer.hydrate)  # type: ignore[union-attr]
    client.portal.call(cached_authorizer.hydrate)  # type: ignore[union-attr]
    headers = {"Authorization": f"Bearer {token}"}

    def call(prefix: str) -> Callable[[], Any]:
        def run() -> Any:
            resp = client.get(prefix + QUERY, headers=headers)
            assert resp.status_code == 200, resp.status_code
            return resp

        return run

    return (
        call("/open"),
        call("/protected"),
        call("/ceiling"),
        call("/cached"),
        call("/fixed"),
        client,
    )


def paired(open_run: Callable[[], Any], protected_run: Callable[[], Any]) -> tuple[float, float]:
    """Best seconds per request of each, measured in alternating batches."""
    anchor, ours = alternating([open_run, protected_run], rounds=12, min_time=0.15)
    return anchor, ours


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from midil_sync import JWTAuthorizer

    figures: list[Figure] = []
    ceilings: dict[str, float] = {}
    cached: dict[str, float] = {}
    floors: dict[str, float] = {}
    with LocalIssuer(audience="bench") as issuer:
        token = issuer.mint(scope="articles:read")
        bare = BareSignatureCheck(issuer, token)
        with_cache = JWTAuthorizer(issuer.issuer, audience="bench")
        with_cache.hydrate()
        fixed = FixedClaims(with_cache.verify(token))
        open_f, protected_f = flask_pair(issuer, token)
        _, ceiling_f = flask_pair(issuer, token, authorizer=bare)
        _, cached_f = flask_pair(issuer, token, authorizer=with_cache)
        _, fixed_f = flask_pair(issuer, token, authorizer=fixed)
        open_d, protected_d = django_pair(issuer, token)
        from django.conf import settings

        ours_django = settings.MIDIL["AUTHORIZER"]

        def on_django(authorizer: Any) -> Callable[[], Callable[[], Any]]:
            def use() -> Callable[[], Any]:
                django_use(authorizer)
                return protected_d

            return use

        open_a, protected_a, ceiling_a, cached_a, fixed_a, client = fastapi_pair(
            issuer, token, fixed.claims
        )
        cases: list[tuple[str, Callable[[], Any], Callable[[], Any], Any, Any, Any]] = [
            ("flask", open_f, protected_f, lambda: ceiling_f, lambda: cached_f, lambda: fixed_f),
            (
                "django",
                open_d,
                protected_d,
                on_django(bare),
                on_django(with_cache),
                on_django(fixed),
            ),
            ("fastapi", open_a, protected_a, lambda: ceiling_a, lambda: cached_a, lambda: fixed_a),
        ]
        try:
            for name, open_run, protected_run, ceiling, cache_on, floor in cases:
                if name == "django":
                    django_use(ours_django)
                open_run(), protected_run()
                anchor, ours = paired(open_run, protected_run)
                figures.append(
                    Figure(
                        f"{name}: protected JSON:API GET (RS256 verify)",
                        ours,
                        f"{name}: same endpoint, unprotected",
                        anchor,
                        goal="uncached: see the ceiling below",
                    )
                )
                for variant, into in ((ceiling, ceilings), (cache_on, cached), (floor, floors)):
                    run = variant()
                    run()
                    anchor, took = paired(open_run, run)
                    into[name] = anchor / took
        finally:
            client.__exit__(None, None, None)
    print_figures("web adapters: cost of authentication per request (test clients)", figures)
    for f in figures:
        name = f.name.split(":")[0]
        print(
            f"  {name:<8} uncached: throughput protected/unprotected = {1 / f.ratio:.3f}"
            f"  ({1 / f.ours:,.0f} vs {1 / f.anchor:,.0f} req/s); ceiling, the bare signature"
            f" check alone in the request: {ceilings[name]:.3f}; ours / ceiling ="
            f" {1 / f.ratio / ceilings[name]:.3f} (goal >= 0.9); default settings (token cache on):"
            f" {cached[name]:.3f} (goal >= 0.9); its floor, the adapter with an authorizer that"
            f" verifies nothing: {floors[name]:.3f}; cached / floor = {cached[name] / floors[name]:.3f}"
        )


if __name__ == "__main__":
    main()
