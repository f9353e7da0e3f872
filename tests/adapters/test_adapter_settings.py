"""The adapters built from settings alone: ``MIDIL_AUTH__REALM`` names the realm of their challenges
and ``MIDIL_JSONAPI__...`` sets the limits of their JSON:API query parsing, in Flask, Django, DRF and
FastAPI alike (the settings table of ``conftest.py``); what an app is given explicitly wins."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path
from fastapi import Depends, FastAPI, Security
from fastapi.testclient import TestClient
from flask import Flask
from rest_framework.request import Request
from rest_framework.views import APIView

import midil_async
import midil_sync
from midil_async import fastapi as midil_fastapi
from midil_common.jsonapi import QueryParams
from midil_common.testing import LocalIssuer
from midil_sync.django import jsonapi_query as django_query
from midil_sync.django import jsonapi_response as django_response
from midil_sync.django import require_scopes as django_scopes
from midil_sync.django.drf import HasScopes
from midil_sync.flask import MidilAuth
from midil_sync.flask import jsonapi_query as flask_query
from midil_sync.flask import jsonapi_response as flask_response
from midil_sync.flask import require_scopes as flask_scopes

EXPLICIT: dict[str, Any] = {"max_page_size": 50, "max_include_depth": 3}
"""The limits the ``explicit`` apps give their query parsing."""


def _body(query: QueryParams) -> dict[str, Any]:
    return {"data": [], "meta": {"page_size": query.page.size}}


@pytest.fixture(scope="module")
def authorizer(issuer: LocalIssuer) -> midil_sync.JWTAuthorizer:
    verifier = midil_sync.JWTAuthorizer(issuer.issuer, audience="articles-api")
    verifier.hydrate()
    return verifier


# -------------------------------------------------------------------------------------- Flask


def flask_app(authorizer: Any, *, explicit: bool) -> Flask:
    app = Flask(__name__)
    if explicit:
        app.config["MIDIL_REALM"] = "articles"
    MidilAuth(app, authorizer=authorizer)
    limits = EXPLICIT if explicit else {}

    @app.get("/articles")
    @flask_scopes("articles:read")
    def articles() -> Any:
        return flask_response(_body(flask_query(**limits)))

    return app


def test_flask(
    settings_case: Any,
    settings_env: Mapping[str, str],
    authorizer: midil_sync.JWTAuthorizer,
    expect_settings: Callable[..., None],
    headers_for: Callable[..., Any],
) -> None:
    app = flask_app(authorizer, explicit=settings_case.explicit)
    resp = app.test_client().get(settings_case.path, headers=headers_for(settings_case))
    expect_settings(settings_case, resp.status_code, resp.headers, resp.get_data())


def test_flask_realm_argument_wins_and_empty_means_none(
    settings_env: Mapping[str, str], authorizer: midil_sync.JWTAuthorizer
) -> None:
    for realm, challenge in (("given", 'Bearer realm="given"'), ("", "Bearer")):
        app = Flask(__name__)
        app.config["MIDIL_REALM"] = "config"
        MidilAuth(app, authorizer=authorizer, realm=realm)
        app.get("/x")(flask_scopes("articles:read")(lambda: "ok"))
        assert app.test_client().get("/x").headers["WWW-Authenticate"] == challenge


# ------------------------------------------------------------------------------ Django and DRF


@django_scopes("articles:read")
def django_articles(request: HttpRequest) -> HttpResponse:
    return django_response(_body(django_query(request)))


@django_scopes("articles:read")
def django_explicit(request: HttpRequest) -> HttpResponse:
    return django_response(_body(django_query(request, **EXPLICIT)))


class DRFArticles(APIView):
    """JWTAuthentication and the JSON:API exception handler come from ``REST_FRAMEWORK``."""

    permission_classes = [HasScopes]
    required_scopes = ["articles:read"]
    limits: dict[str, Any] = {}

    def get(self, request: Request) -> HttpResponse:
        return django_response(_body(django_query(request, **self.limits)))


class DRFExplicit(DRFArticles):
    limits = EXPLICIT


class URLs:
    """The URL configuration of these tests (``ROOT_URLCONF`` takes any object with
    ``urlpatterns``)."""

    urlpatterns = [
        path("articles", django_articles),
        path("explicit/articles", django_explicit),
        path("api/articles", DRFArticles.as_view()),
        path("api/explicit/articles", DRFExplicit.as_view()),
    ]


@pytest.fixture(params=["django", "drf"])
def django_client(
    request: pytest.FixtureRequest, settings_case: Any, authorizer: midil_sync.JWTAuthorizer
) -> Iterator[Callable[[str], str]]:
    """Yields the path of the row under the Django view or the DRF view; the ``MIDIL`` settings
    names no realm unless the row is ``explicit``."""
    midil: dict[str, Any] = {"AUTHORIZER": authorizer}
    if settings_case.explicit:
        midil["REALM"] = "articles"
    prefix = "/api" if request.param == "drf" else ""
    if settings_case.explicit:
        prefix += "/explicit"
    with override_settings(ROOT_URLCONF=URLs, MIDIL=midil):
        yield lambda path: prefix + path


def test_django(
    settings_case: Any,
    settings_env: Mapping[str, str],
    django_client: Callable[[str], str],
    expect_settings: Callable[..., None],
    headers_for: Callable[..., Any],
) -> None:
    resp = Client().get(django_client(settings_case.path), headers=headers_for(settings_case))
    expect_settings(settings_case, resp.status_code, resp.headers, resp.content)


# ------------------------------------------------------------------------------------- FastAPI


def fastapi_app(issuer: LocalIssuer, *, explicit: bool, middleware: bool) -> FastAPI:
    """Either style of the FastAPI adapter: ``Authenticated`` with ``Security`` scopes, or the
    ``AuthMiddleware`` with ``require_scopes`` (whose realm is ``register_exception_handlers``')."""
    authorizer = midil_async.JWTAuthorizer(issuer.issuer, audience="articles-api")
    realm: dict[str, Any] = {"realm": "articles"} if explicit else {}
    app = FastAPI()
    midil_fastapi.register_exception_handlers(app, **realm)
    query = midil_fastapi.jsonapi_query(**(EXPLICIT if explicit else {}))
    if middleware:
        app.add_middleware(midil_fastapi.AuthMiddleware, authorizer=authorizer, **realm)
        guard: Any = Depends(midil_fastapi.require_scopes("articles:read"))
    else:
        auth = midil_fastapi.Authenticated(authorizer, **realm)
        guard = Security(auth, scopes=["articles:read"])

    @app.get("/articles", dependencies=[guard])
    async def articles(q: QueryParams = Depends(query)) -> Any:  # noqa: B008
        return midil_fastapi.JSONAPIResponse(_body(q))

    return app


@pytest.mark.parametrize("middleware", [False, True], ids=["dependencies", "middleware"])
def test_fastapi(
    settings_case: Any,
    settings_env: Mapping[str, str],
    middleware: bool,
    issuer: LocalIssuer,
    expect_settings: Callable[..., None],
    headers_for: Callable[..., Any],
) -> None:
    app = fastapi_app(issuer, explicit=settings_case.explicit, middleware=middleware)
    with TestClient(app) as client:
        resp = client.get(settings_case.path, headers=headers_for(settings_case))
    expect_settings(settings_case, resp.status_code, resp.headers, resp.content)


def test_fastapi_parse_page_reads_the_settings(
    settings_env: Mapping[str, str], issuer: LocalIssuer
) -> None:
    app = FastAPI()
    midil_fastapi.register_exception_handlers(app)

    @app.get("/pages")
    async def pages(page: Any = Depends(midil_fastapi.parse_page())) -> Any:  # noqa: B008
        return {"size": page.size}

    with TestClient(app) as client:
        assert client.get("/pages").json() == {"size": 3}
        refused = client.get("/pages?page[size]=6")
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["source"] == {"parameter": "page[size]"}


# ----------------------------------------------------------------------------------- no settings


def test_without_the_settings_the_defaults_hold(
    monkeypatch: pytest.MonkeyPatch, authorizer: midil_sync.JWTAuthorizer, tokens: dict[str, str]
) -> None:
    """No ``MIDIL_AUTH__REALM``: a bare ``Bearer`` challenge; no ``MIDIL_JSONAPI__...``: pages of
    20, at most 100."""
    import os

    for name in list(os.environ):
        if name.upper().startswith("MIDIL_"):
            monkeypatch.delenv(name)
    client = flask_app(authorizer, explicit=False).test_client()
    assert client.get("/articles").headers["WWW-Authenticate"] == "Bearer"
    read = {"Authorization": f"Bearer {tokens['read']}"}
    assert client.get("/articles", headers=read).get_json(force=True)["meta"]["page_size"] == 20
    assert client.get("/articles?page[size]=100", headers=read).status_code == 200
    assert client.get("/articles?page[size]=101", headers=read).status_code == 400


def test_a_bad_setting_is_a_config_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from midil_common.adapters.jsonapi import query_rules
    from midil_common.errors import ConfigError

    monkeypatch.setenv("MIDIL_JSONAPI__MAX_PAGE_SIZE", "10")
    monkeypatch.setenv("MIDIL_JSONAPI__DEFAULT_PAGE_SIZE", "11")
    with pytest.raises(ConfigError) as caught:
        query_rules()
    assert caught.value.variable == "MIDIL_JSONAPI__DEFAULT_PAGE_SIZE"
    monkeypatch.setenv("MIDIL_JSONAPI__DEFAULT_PAGE_SIZE", "10")
    assert query_rules().default_page_size == 10
    # An explicit maximum below the setting's default page size lowers the default to it.
    assert query_rules(max_page_size=4).default_page_size == 4
