"""Hostile request bodies through DRF with the kit's parser, negotiation and exception handler:
always a JSON:API error document with a 4xx, never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from midil_common.testing import LocalIssuer
from midil_sync import JWTAuthorizer

JSONAPI = "application/vnd.api+json"


@pytest.fixture(autouse=True)
def configured(issuer: LocalIssuer) -> Iterator[None]:
    # The exception handler reads the realm from the configuration, which needs an authorizer.
    authorizer = JWTAuthorizer(issuer.issuer, audience="articles-api")
    with override_settings(MIDIL={**settings.MIDIL, "AUTHORIZER": authorizer}):
        yield


class _Attributes(serializers.Serializer[Any]):
    title = serializers.CharField()
    counts = serializers.DictField(child=serializers.IntegerField(), required=False)


class _Create(APIView):
    """Reads the body and validates its attributes; no authentication, to test the body alone."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    def post(self, request: Request) -> Response:
        data = request.data
        attributes = (data.get("data") or {}).get("attributes") if isinstance(data, dict) else None
        serializer = _Attributes(data=attributes)
        serializer.is_valid(raise_exception=True)
        return Response({"data": {"type": "articles", "id": "1"}}, status=201)


def _post(body: bytes) -> Any:
    request = APIRequestFactory().generic(
        "POST", "/drf/articles", body, content_type=JSONAPI, HTTP_ACCEPT=JSONAPI
    )
    response = _Create.as_view()(request)
    if hasattr(response, "render"):  # a DRF Response; the exception handler's are rendered
        response.render()
    return response


def _attributes(raw: bytes) -> bytes:
    return b'{"data":{"type":"articles","attributes":' + raw + b"}}"


def _errors(response: Any, status: int) -> list[dict[str, Any]]:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"] == JSONAPI
    document = json.loads(response.content)
    assert document["errors"] and all(e["status"] == str(status) for e in document["errors"])
    return list(document["errors"])


def test_a_valid_body_is_accepted() -> None:
    assert _post(_attributes(b'{"title":"x"}')).status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 1_500 + b"]" * 1_500,
        b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
        _attributes(b'{"title":"x","x":' + b"[" * 10_000 + b"]" * 10_000 + b"}"),
    ],
    ids=["arrays_1500", "objects_10000", "in_attributes_10000"],
)
def test_a_deeply_nested_body_is_a_400(body: bytes) -> None:
    # The JSON parser runs out of stack (RecursionError), which DRF's parser does not catch.
    _errors(_post(body), 400)


def test_a_lone_surrogate_in_a_field_name_is_a_400_with_the_name_escaped() -> None:
    # The serializer names the key in its error; the document must still encode as UTF-8.
    response = _post(_attributes(b'{"title":"x","counts":{"\\ud800":"notint"}}'))
    errors = _errors(response, 400)
    assert errors[0]["source"]["pointer"].startswith("/data/attributes/counts/")
