"""Every Python snippet of the README and ``docs/`` runs as written, once its obvious placeholders
are filled: example hosts point at a local issuer and a local API, and names a snippet takes as
given (``token``, ``app``, ``body``, ``user``) are defined."""

from __future__ import annotations

import ast
import asyncio
import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from midil_common.testing import LocalIssuer

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```python\n(.*?)^```", re.M | re.S)


def snippets(path: Path) -> Iterator[tuple[int, str]]:
    """``(line, source)`` of each Python block of ``path``, in reading order."""
    text = path.read_text()
    for match in FENCE.finditer(text):
        yield text.count("\n", 0, match.start()) + 2, match.group(1)


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    with LocalIssuer(audience="orders-api") as local:
        local.register_client("billing", "s3cret", scopes=["orders:read"])
        yield local


@pytest.fixture(scope="module")
def api() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request(re.compile(".*")).respond_with_json({"data": []})
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture(scope="module")
def aws() -> Iterator[dict[str, Any]]:
    """moto's server (the local AWS emulator) with a Cognito user pool and app client."""
    import boto3

    from midil_common.testing.aws import MotoServer

    with MotoServer() as server:
        cognito = boto3.client("cognito-idp", **server.client_kwargs())
        pool = cognito.create_user_pool(PoolName="docs")["UserPool"]["Id"]
        app_client = cognito.create_user_pool_client(
            UserPoolId=pool,
            ClientName="web",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        queue_url = boto3.client("sqs", **server.client_kwargs()).create_queue(QueueName="orders")[
            "QueueUrl"
        ]
        yield {
            "endpoint_url": server.endpoint_url,
            "user_pool_id": pool,
            "client_id": app_client,
            "queue_url": queue_url,
            "env": {
                "AWS_ACCESS_KEY_ID": server.credentials["aws_access_key_id"],
                "AWS_SECRET_ACCESS_KEY": server.credentials["aws_secret_access_key"],
                "AWS_DEFAULT_REGION": server.region,
            },
        }


def filled(
    source: str, issuer: LocalIssuer, api: HTTPServer, aws: dict[str, Any] | None = None
) -> str:
    """The snippet with its example hosts replaced by the local servers."""
    api_origin = api.url_for("/").rstrip("/")
    if aws is not None:
        source = source.replace("http://localhost:4566", aws["endpoint_url"])
    for placeholder, real in (
        ("https://idp.example.com/oauth2/token", issuer.token_url),
        ("https://issuer.example", issuer.url),
        ("https://orders.internal", api_origin),
        ("https://billing.internal", api_origin.replace("127.0.0.1", "localhost")),
    ):
        source = source.replace(placeholder, real)
    return source


def given_names(issuer: LocalIssuer) -> dict[str, Any]:
    """The names snippets take as given: a request's token and body, the user, the request."""
    from types import SimpleNamespace

    from pydantic import BaseModel, ValidationError

    from midil_common.jsonapi import Document, resource
    from midil_sync import JWTAuthorizer

    class User(BaseModel):
        id: str
        name: str

    def build(query: Any, sub: Any) -> Document:
        return Document(data=[resource("articles", "1", attributes={"title": "Hi", "by": sub})])

    try:
        User.model_validate({"id": 7})
    except ValidationError as error:
        validation_error = error
    token = issuer.mint(
        sub="alice",
        aud=["orders-api", "api", "articles-api"],
        scope="orders:read orders.rw articles:read",
    )
    request = SimpleNamespace(headers={"Accept": "application/vnd.api+json"})
    return {
        "__name__": "snippet",
        "token": token,
        "claims": JWTAuthorizer(issuer.url, audience="orders-api").verify(token),
        "token_url": issuer.token_url,
        "body": '{"data": {"type": "articles", "id": "1"}}',
        "obj": {"data": {"type": "articles", "id": "1"}},
        "exc": validation_error,
        "request_validation_error": validation_error,
        "request_accept": "application/vnd.api+json",
        "user": User(id="7", name="Alice"),
        "user_model": User(id="7", name="Alice"),
        "request_query": "include=author",
        "params": "include=author&sort=-created",
        "url": "https://api.test/articles",
        "request": request,
        "has_body": False,
        "response": SimpleNamespace(headers={}),
        "build": build,
    }


def application_for(source: str) -> Any:
    """The ``app`` a framework snippet adds routes to."""
    if "midil_sync.flask" in source:
        from flask import Flask

        return Flask("snippet")
    from fastapi import FastAPI

    return FastAPI()


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_every_documented_snippet_runs(
    path: Path,
    issuer: LocalIssuer,
    api: HTTPServer,
    aws: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each block runs on its own, as a reader who copies one section would run it."""
    for name, value in aws["env"].items():  # what a reader's shell has for a local emulator
        monkeypatch.setenv(name, value)
    given = {
        "queue_url": aws["queue_url"],
        **given_names(issuer),
        "user_pool_id": aws["user_pool_id"],
        "client_id": aws["client_id"],
    }
    for line, source in snippets(path):
        namespace = {**given, "app": application_for(source)}
        # Top-level ``await`` and ``async with`` run as in an async REPL: a coroutine results.
        code = compile(
            filled(source, issuer, api, aws),
            f"{path.name}:{line}",
            "exec",
            flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
            dont_inherit=True,
        )
        try:
            result = eval(code, namespace)
            if inspect.iscoroutine(result):
                asyncio.run(result)
        except Exception as exc:
            raise AssertionError(f"the snippet at {path.name}:{line} fails: {exc!r}") from exc
