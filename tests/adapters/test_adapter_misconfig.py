"""A misconfigured adapter fails when the application is built, with a ConfigError naming the
setting or argument; one that is misconfigured later answers 500 and says why in the log, once."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import RequestFactory, override_settings
from fastapi import FastAPI
from flask import Flask

import midil_async
import midil_sync
from midil_async.fastapi import Authenticated
from midil_async.fastapi import AuthMiddleware as ASGIAuthMiddleware
from midil_common.errors import ConfigError
from midil_common.testing import LocalIssuer
from midil_sync.django import AuthMiddleware, reset_config
from midil_sync.flask import MidilAuth


@pytest.fixture(autouse=True)
def no_auth_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MIDIL_AUTH__ISSUER", "MIDIL_AUTH__COGNITO_USER_POOL_ID"):
        monkeypatch.delenv(name, raising=False)


def ok(request: Any) -> HttpResponse:
    return HttpResponse("ok")


def test_django_without_an_issuer_fails_at_middleware_loading() -> None:
    with override_settings(MIDIL={}):
        reset_config()
        with pytest.raises(ConfigError, match="ISSUER"):
            AuthMiddleware(ok)


def test_django_with_a_wrong_authorizer_names_the_setting() -> None:
    wrong = midil_async.JWTAuthorizer("https://i.example")
    with (
        override_settings(MIDIL={"AUTHORIZER": wrong}),
        pytest.raises(ConfigError, match=r"MIDIL\['AUTHORIZER'\].*midil_sync"),
    ):
        AuthMiddleware(ok)


def test_django_misconfigured_at_request_time_answers_500_and_logs_once(
    issuer: LocalIssuer, caplog: pytest.LogCaptureFixture
) -> None:
    with override_settings(MIDIL={"ISSUER": issuer.issuer, "AUDIENCE": "articles-api"}):
        middleware = AuthMiddleware(ok)
    caplog.set_level(logging.ERROR, logger="midil")
    with override_settings(MIDIL={"ISSUER": ""}):
        answers = [middleware(RequestFactory().get("/x")) for _ in range(3)]
    assert [a.status_code for a in answers] == [500] * 3
    assert answers[0]["Content-Type"] == "application/vnd.api+json"
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "misconfigured" in errors[0].getMessage() and "ISSUER" in errors[0].getMessage()


def test_flask_init_app_without_an_issuer_fails_naming_the_setting() -> None:
    with pytest.raises(ConfigError, match="ISSUER"):
        MidilAuth(Flask("x"))


def test_flask_with_an_async_authorizer_fails_at_init_app() -> None:
    with pytest.raises(ConfigError, match=r"authorizer.*midil_sync"):
        MidilAuth(Flask("x"), authorizer=midil_async.JWTAuthorizer("https://i.example"))


@pytest.mark.parametrize("authorizer", [None, "https://i.example", object()])
def test_fastapi_dependency_and_middleware_refuse_a_non_authorizer(authorizer: Any) -> None:
    with pytest.raises(ConfigError, match="authorizer must be an authorizer"):
        Authenticated(authorizer)
    with pytest.raises(ConfigError, match="authorizer must be an authorizer"):
        ASGIAuthMiddleware(FastAPI(), authorizer)


def test_fastapi_refuses_a_sync_authorizer_at_construction() -> None:
    with pytest.raises(ConfigError, match="midil_async"):
        Authenticated(midil_sync.JWTAuthorizer("https://i.example"))
