"""The adapters are packages of small modules; their public import paths stay what they were."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from django.utils.module_loading import import_string

PUBLIC = {
    "midil_async.fastapi": [
        "AuthMiddleware",
        "Authenticated",
        "ContextMiddleware",
        "JSONAPIResponse",
        "MidilHTTPException",
        "get_claims",
        "jsonapi_negotiation",
        "jsonapi_query",
        "parse_fields",
        "parse_filter",
        "parse_include",
        "parse_page",
        "parse_sort",
        "register_exception_handlers",
        "require_permission",
        "require_scopes",
    ],
    "midil_sync.flask": [
        "MidilAuth",
        "MidilContext",
        "current_claims",
        "jsonapi_query",
        "jsonapi_response",
        "jsonapi_view",
        "require_auth",
        "require_permission",
        "require_scopes",
    ],
    "midil_sync.django.drf": [
        "HasPermission",
        "HasScopes",
        "JSONAPIContentNegotiation",
        "JSONAPIParser",
        "JSONAPIRenderer",
        "JWTAuthentication",
        "MidilAPIException",
        "jsonapi_exception_handler",
    ],
}


@pytest.mark.parametrize("package", sorted(PUBLIC))
def test_every_public_name_imports_from_the_package(package: str) -> None:
    module = importlib.import_module(package)
    assert sorted(module.__all__) == sorted(PUBLIC[package])
    for name in PUBLIC[package]:
        exec(f"from {package} import {name}", {})
        assert name in dir(module)
    star: dict[str, object] = {}
    exec(f"from {package} import *", star)
    assert set(PUBLIC[package]) <= set(star)


@pytest.mark.parametrize("package", sorted(PUBLIC))
def test_each_module_has_a_docstring_and_exports_what_it_defines(package: str) -> None:
    root = importlib.import_module(package)
    assert root.__doc__
    exported: set[str] = set()
    for info in pkgutil.iter_modules(root.__path__, package + "."):
        module = importlib.import_module(info.name)
        assert module.__doc__, info.name
        for name in getattr(module, "__all__", ()):
            assert getattr(module, name) is not None
            exported.add(name)
    assert set(PUBLIC[package]) <= exported


@pytest.mark.parametrize(
    "path",
    [
        "midil_sync.django.drf.JWTAuthentication",
        "midil_sync.django.drf.JSONAPIRenderer",
        "midil_sync.django.drf.JSONAPIParser",
        "midil_sync.django.drf.JSONAPIContentNegotiation",
        "midil_sync.django.drf.jsonapi_exception_handler",
        "midil_sync.django.drf.HasScopes",
        "midil_sync.django.drf.HasPermission",
    ],
)
def test_drf_settings_paths_still_resolve(path: str) -> None:
    """The dotted paths users put in ``REST_FRAMEWORK`` settings."""
    obj = import_string(path)
    assert obj.__name__ == path.rsplit(".", 1)[1]


def test_an_unknown_drf_name_is_an_attribute_error() -> None:
    drf = importlib.import_module("midil_sync.django.drf")
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        drf.Nope  # noqa: B018


def test_the_fastapi_bearer_scheme_is_still_importable() -> None:
    from fastapi.security import HTTPBearer

    from midil_async.fastapi import bearer_scheme

    assert isinstance(bearer_scheme, HTTPBearer)
