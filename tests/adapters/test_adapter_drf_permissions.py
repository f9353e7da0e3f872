"""DRF permissions compose: ``HasScopes`` and ``HasPermission`` return False like DRF's own classes,
so ``|``, ``&`` and ``~`` work and DRF picks 401 or 403, while a refusal still names its scope.

Every view is a plain ``APIView`` served through Django's test client with the example project's
settings (``JWTAuthentication``, the JSON:API exception handler, the ``MIDIL`` middleware).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import path
from rest_framework.permissions import AllowAny, IsAdminUser, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from midil_common.testing import LocalIssuer
from midil_sync import JWTAuthorizer
from midil_sync.django.drf import HasPermission, HasScopes

JSONAPI = "application/vnd.api+json"
REALM = 'Bearer realm="articles"'
READ = HasScopes.require("articles:read")
DELETE = HasPermission.require("articles", "delete")  # editors may, under the example's POLICY


class _View(APIView):
    def get(self, request: Request) -> Response:
        return Response({"meta": {"sub": getattr(request.auth, "sub", None)}})


class ReadOrAnyone(_View):
    permission_classes = [READ | AllowAny]


class AnyoneOrRead(_View):
    permission_classes = [AllowAny | READ]


class WithoutRead(_View):
    permission_classes = [~READ]


class ReadAndDelete(_View):
    permission_classes = [READ & DELETE]


class AuthenticatedAndRead(_View):
    permission_classes = [IsAuthenticated & READ]


class ReadOrWrite(_View):
    permission_classes = [HasScopes.require("articles:write") | HasScopes.require("articles:admin")]


class DrfCompositeAndRead(_View):
    permission_classes = [(IsAuthenticated | IsAdminUser) & READ]


class Urls:
    """The URLconf of these views (``ROOT_URLCONF`` takes any object with ``urlpatterns``)."""

    urlpatterns = [
        path("read-or-anyone", ReadOrAnyone.as_view()),
        path("anyone-or-read", AnyoneOrRead.as_view()),
        path("without-read", WithoutRead.as_view()),
        path("read-and-delete", ReadAndDelete.as_view()),
        path("authenticated-and-read", AuthenticatedAndRead.as_view()),
        path("read-or-write", ReadOrWrite.as_view()),
        path("drf-composite-and-read", DrfCompositeAndRead.as_view()),
    ]


@pytest.fixture(scope="module")
def authorizer(issuer: LocalIssuer) -> JWTAuthorizer:
    verifier = JWTAuthorizer(issuer.issuer, audience="articles-api")
    verifier.hydrate()
    return verifier


@pytest.fixture(scope="module")
def editor_reader(issuer: LocalIssuer) -> str:
    return issuer.mint(scope="articles:read", claims={"cognito:groups": ["editors"]})


@pytest.fixture(autouse=True)
def served(authorizer: JWTAuthorizer) -> Iterator[None]:
    with override_settings(ROOT_URLCONF=Urls, MIDIL={**settings.MIDIL, "AUTHORIZER": authorizer}):
        yield


def get(url: str, token: str | None = None) -> Any:
    headers = {"Accept": JSONAPI}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return Client().get(url, headers=headers)


def error(resp: Any, status: int) -> dict[str, Any]:
    """The response's only JSON:API error object, after checking status and media type."""
    assert resp.status_code == status, resp.content
    assert resp.headers["Content-Type"] == JSONAPI
    (err,) = json.loads(resp.content)["errors"]
    assert err["status"] == str(status)
    return dict(err)


def insufficient(resp: Any, scope: str) -> None:
    """A 403 naming ``scope`` in the RFC 6750 challenge and in the error document."""
    err = error(resp, 403)
    assert err["code"] == "insufficient_scope"
    assert scope in err["detail"]
    challenge = resp.headers["WWW-Authenticate"]
    assert challenge.startswith(REALM + ', error="insufficient_scope"')
    assert challenge.endswith(f'scope="{scope}"')


def unauthenticated(resp: Any) -> None:
    """DRF's ``NotAuthenticated``: 401 with the authenticator's challenge."""
    assert error(resp, 401)["code"] == "missing_token"
    assert resp.headers["WWW-Authenticate"] == REALM


@pytest.mark.parametrize("url", ["/read-or-anyone", "/anyone-or-read"])
def test_or_allow_any_lets_everyone_through(url: str, tokens: dict[str, str]) -> None:
    assert get(url).status_code == 200
    lacking = get(url, tokens["noscope"])
    assert lacking.status_code == 200, lacking.content
    assert json.loads(lacking.content) == {"meta": {"sub": "user"}}
    assert get(url, tokens["read"]).status_code == 200


def test_not_allows_only_requests_without_the_scope(tokens: dict[str, str]) -> None:
    assert get("/without-read", tokens["noscope"]).status_code == 200
    assert get("/without-read").status_code == 200  # as with ~IsAuthenticated: anonymous passes
    refused = get("/without-read", tokens["read"])
    err = error(refused, 403)
    # Refused because the token has the scope: nothing is missing, so no insufficient_scope.
    assert err["code"] == "permission_denied"
    assert "WWW-Authenticate" not in refused.headers


def test_and_names_the_scope_or_permission_that_refused(
    tokens: dict[str, str], editor_reader: str
) -> None:
    unauthenticated(get("/read-and-delete"))
    insufficient(get("/read-and-delete", tokens["editor"]), "articles:read")
    insufficient(get("/read-and-delete", tokens["read"]), "articles:delete")
    assert get("/read-and-delete", editor_reader).status_code == 200


def test_a_drf_permission_on_the_left_composes_too(tokens: dict[str, str]) -> None:
    unauthenticated(get("/authenticated-and-read"))
    insufficient(get("/authenticated-and-read", tokens["noscope"]), "articles:read")
    assert get("/authenticated-and-read", tokens["read"]).status_code == 200


def test_or_of_two_refusals_names_the_first(tokens: dict[str, str]) -> None:
    unauthenticated(get("/read-or-write"))
    insufficient(get("/read-or-write", tokens["read"]), "articles:write")
    assert get("/read-or-write", tokens["write"]).status_code == 200


def test_under_a_composite_of_drf_s_own_the_refusal_is_drf_s_generic_403(
    tokens: dict[str, str],
) -> None:
    """``(IsAuthenticated | IsAdminUser) & READ`` is built by DRF's ``&``, which drops messages."""
    unauthenticated(get("/drf-composite-and-read"))
    refused = get("/drf-composite-and-read", tokens["noscope"])
    assert error(refused, 403)["code"] == "permission_denied"
    assert "WWW-Authenticate" not in refused.headers
    assert get("/drf-composite-and-read", tokens["read"]).status_code == 200
