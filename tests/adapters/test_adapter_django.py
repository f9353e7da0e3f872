"""The Django adapter: the behaviour table (sync and async stacks, DRF), fuzzing, real servers,
the event-loop thread under ASGI, decorators, the claims user and settings changes."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests
from django.conf import settings
from django.core.asgi import get_asgi_application
from django.core.wsgi import get_wsgi_application
from django.test import AsyncClient, Client, override_settings
from django_app import views
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from midil_common.testing import LocalIssuer
from midil_sync import JWTAuthorizer
from midil_sync.django import ClaimsUser, get_config

JSONAPI = "application/vnd.api+json"


@pytest.fixture(scope="module")
def authorizer(issuer: LocalIssuer) -> JWTAuthorizer:
    verifier = JWTAuthorizer(issuer.issuer, audience="articles-api")
    verifier.hydrate()
    return verifier


@contextlib.contextmanager
def midil(**overrides: Any) -> Iterator[None]:
    with override_settings(MIDIL={**settings.MIDIL, **overrides}):
        yield


@pytest.fixture
def configured(authorizer: JWTAuthorizer) -> Iterator[None]:
    with midil(AUTHORIZER=authorizer):
        yield


@pytest.fixture
def down(issuer: LocalIssuer, dead_url: str) -> JWTAuthorizer:
    return JWTAuthorizer(issuer.issuer, audience="articles-api", jwks_url=dead_url)


def _send(client: Client, case: Any, headers: dict[str, str], path: str | None = None) -> Any:
    headers = dict(headers)
    content_type = headers.pop("Content-Type", "application/octet-stream")
    return client.generic(
        case.method,
        path or case.path,
        data=case.body or b"",
        content_type=content_type,
        headers=headers,
    )


def test_behaviour_table(
    case: Any,
    authorizer: JWTAuthorizer,
    down: JWTAuthorizer,
    expect: Callable[..., None],
    headers_for: Callable[..., Any],
) -> None:
    with midil(AUTHORIZER=down if case.down else authorizer):
        resp = _send(Client(), case, headers_for(case))
    expect(case, resp.status_code, resp.headers, resp.content)


async def test_behaviour_table_async_view(
    get_case: Any,
    authorizer: JWTAuthorizer,
    down: JWTAuthorizer,
    expect: Callable[..., None],
    headers_for: Callable[..., Any],
) -> None:
    """The GET rows against an async view through the async middleware stack (AsyncClient)."""
    with midil(AUTHORIZER=down if get_case.down else authorizer):
        resp = await AsyncClient().get(
            get_case.path.replace("/articles", "/async/articles", 1), headers=headers_for(get_case)
        )
    expect(get_case, resp.status_code, resp.headers, resp.content)


def test_behaviour_table_drf(
    get_case: Any,
    authorizer: JWTAuthorizer,
    down: JWTAuthorizer,
    expect: Callable[..., None],
    headers_for: Callable[..., Any],
) -> None:
    """The GET rows against the DRF viewset (JWTAuthentication, HasScopes, JSON:API content
    negotiation and exception handler)."""
    with midil(AUTHORIZER=down if get_case.down else authorizer):
        path = get_case.path.replace("/articles", "/api/articles", 1)
        resp = Client().get(path, headers=headers_for(get_case))
    expect(get_case, resp.status_code, resp.headers, resp.content)


def test_drf_without_middleware(authorizer: JWTAuthorizer, tokens: dict[str, str]) -> None:
    with override_settings(MIDDLEWARE=[]), midil(AUTHORIZER=authorizer):
        client = Client()
        missing = client.get("/api/articles")
        assert missing.status_code == 401
        assert missing.headers["WWW-Authenticate"] == 'Bearer realm="articles"'
        bad = client.get("/api/articles", headers={"Authorization": f"Bearer {tokens['expired']}"})
        assert bad.status_code == 401 and 'error="invalid_token"' in bad.headers["WWW-Authenticate"]
        ok = client.get(
            "/api/articles?sort=title", headers={"Authorization": f"Bearer {tokens['read']}"}
        )
        assert ok.status_code == 200
        assert [a["id"] for a in json.loads(ok.content)["data"]] == ["3", "2", "1"]
        # The function views verify by themselves when the middleware is absent.
        direct = client.get("/articles", headers={"Authorization": f"Bearer {tokens['read']}"})
        assert direct.status_code == 200


def test_class_based_view_and_permission(configured: None, tokens: dict[str, str]) -> None:
    client = Client()
    assert client.get("/articles/1").status_code == 401
    got = client.get("/articles/1", headers={"Authorization": f"Bearer {tokens['noscope']}"})
    assert got.status_code == 200 and json.loads(got.content)["data"]["id"] == "1"
    denied = client.delete("/articles/1", headers={"Authorization": f"Bearer {tokens['read']}"})
    assert denied.status_code == 403
    assert denied.headers["WWW-Authenticate"].endswith('scope="articles:delete"')
    allowed = client.delete("/articles/1", headers={"Authorization": f"Bearer {tokens['editor']}"})
    assert allowed.status_code == 204


def test_optional_user_and_excluded(configured: None, tokens: dict[str, str]) -> None:
    client = Client()
    assert client.get("/health").status_code == 200
    assert json.loads(client.get("/me").content) == {"authenticated": False}
    me = json.loads(
        client.get("/me", headers={"Authorization": f"Bearer {tokens['read']}"}).content
    )
    assert me == {"authenticated": True, "sub": "user", "user": "user"}
    # An invalid token on an excluded path is not even looked at.
    assert client.get("/health", headers={"Authorization": "Bearer"}).status_code == 200


def test_require_auth_setting_and_user_factory(
    authorizer: JWTAuthorizer, tokens: dict[str, str]
) -> None:
    with midil(AUTHORIZER=authorizer, REQUIRE_AUTH=True):
        resp = Client().get("/me")
        assert (
            resp.status_code == 401
            and resp.headers["WWW-Authenticate"] == 'Bearer realm="articles"'
        )
        assert Client().get("/health").status_code == 200
    claims = authorizer.verify(tokens["editor"])
    user = ClaimsUser(claims)
    assert user.is_authenticated and not user.is_anonymous and user.pk == "user"
    assert user.has_perm("group:editors") and not user.has_perm("scope:articles:read")
    assert user.has_perm("scope:profile") and user.has_perms(["scope:profile", "group:editors"])


def test_custom_header_and_preflight_with_require_auth(
    authorizer: JWTAuthorizer, tokens: dict[str, str]
) -> None:
    with midil(
        AUTHORIZER=authorizer, REQUIRE_AUTH=True, TOKEN_HEADER="X-Access-Token", TOKEN_SCHEME=None
    ):
        client = Client()
        me = client.get("/me", headers={"X-Access-Token": tokens["read"]})
        assert json.loads(me.content)["sub"] == "user"
        # The configured header is the only source: a bearer Authorization header is not read.
        refused = client.get("/me", headers={"Authorization": f"Bearer {tokens['read']}"})
        assert refused.status_code == 401
        assert client.get("/me", headers={"X-Access-Token": "a b"}).status_code == 401
        # A CORS preflight passes the middleware without a token; a plain OPTIONS does not.
        preflight = client.options(
            "/me", headers={"Origin": "http://x", "Access-Control-Request-Method": "GET"}
        )
        assert json.loads(preflight.content) == {"authenticated": False}
        assert client.options("/me").status_code == 401


def test_settings_changes_rebuild_the_authorizer(
    authorizer: JWTAuthorizer, issuer: LocalIssuer
) -> None:
    with midil(AUTHORIZER=authorizer):
        first = get_config()
        assert get_config() is first and first.authorizer is authorizer
    with midil(ISSUER=issuer.issuer, AUDIENCE="articles-api"):
        built = get_config()
        assert built is not first and isinstance(built.authorizer, JWTAuthorizer)
        assert get_config() is built


HEADER_CHARS = st.characters(min_codepoint=0x20, max_codepoint=0x7E)


@hsettings(max_examples=60)
@given(
    auth=st.none()
    | st.builds(
        lambda p, t: p + t,
        st.sampled_from(["", "Bearer ", "bearer  ", "Basic "]),
        st.text(HEADER_CHARS, max_size=60),
    ),
    query=st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "sort",
                    "include",
                    "fields[articles]",
                    "page[size]",
                    "page[number]",
                    "filter[a]",
                    "x",
                    "fields",
                    "apiKey",
                ]
            )
            | st.text(max_size=10),
            st.text(max_size=20),
        ),
        max_size=5,
    ),
    valid=st.booleans(),
)
def test_no_input_produces_a_500(
    authorizer: JWTAuthorizer,
    tokens: dict[str, str],
    auth: str | None,
    query: list[tuple[str, str]],
    valid: bool,
) -> None:
    qs = "&".join(f"{quote(k)}={quote(v)}" for k, v in query)
    headers = {"Accept": JSONAPI}
    if valid:
        headers["Authorization"] = f"Bearer {tokens['read']}"
    elif auth is not None:
        headers["Authorization"] = auth
    with midil(AUTHORIZER=authorizer):
        for path in ("/articles", "/api/articles"):
            resp = Client().get(f"{path}?{qs}", headers=headers)
            assert resp.status_code in (200, 400, 401, 403), resp.status_code
            if resp.status_code >= 400:
                assert resp.headers["Content-Type"] == JSONAPI
                assert json.loads(resp.content)["errors"]


class Recording:
    """An Authorizer (the protocol) that notes which thread each verification ran on."""

    def __init__(self, inner: JWTAuthorizer) -> None:
        self.inner = inner
        self.calls: list[tuple[str, int]] = []

    def verify(self, token: str) -> Any:
        self.calls.append(("verify", threading.get_ident()))
        return self.inner.verify(token)

    def verify_cached(self, token: str) -> Any:
        self.calls.append(("cached", threading.get_ident()))
        return self.inner.verify_cached(token)


def test_asgi_server_verifies_on_the_event_loop_thread(
    issuer: LocalIssuer,
    authorizer: JWTAuthorizer,
    tokens: dict[str, str],
    asgi_server: Callable[..., Any],
) -> None:
    warm = Recording(authorizer)
    cold = Recording(JWTAuthorizer(issuer.issuer, audience="articles-api"))
    headers = {"Authorization": f"Bearer {tokens['read']}", "Accept": JSONAPI}
    with midil(AUTHORIZER=warm):
        app = get_asgi_application()  # loads the middleware, which needs a configuration
    with asgi_server(app, lifespan="off") as base:
        with midil(AUTHORIZER=warm):
            ok = requests.get(f"{base}/async/articles?include=author", headers=headers, timeout=5)
            assert ok.status_code == 200 and ok.headers["Content-Type"] == JSONAPI
            loop_thread = views.LAST_ASYNC_THREAD["view"]
            assert loop_thread != threading.get_ident()
            # Warm keys: verified inline on the event loop's thread, the blocking path never used.
            assert warm.calls == [("cached", loop_thread)]
            refused = requests.get(f"{base}/async/articles", timeout=5)
            assert refused.status_code == 401
            assert refused.headers["WWW-Authenticate"] == 'Bearer realm="articles"'
        with midil(AUTHORIZER=cold):
            ok = requests.get(f"{base}/async/articles", headers=headers, timeout=5)
            assert ok.status_code == 200
            # Cold keys: the one fetch runs in a worker thread, never on the loop.
            assert cold.calls[0] == ("cached", loop_thread)
            assert cold.calls[1][0] == "verify" and cold.calls[1][1] != loop_thread


def test_wsgi_server(
    authorizer: JWTAuthorizer, tokens: dict[str, str], wsgi_server: Callable[..., Any]
) -> None:
    with midil(AUTHORIZER=authorizer), wsgi_server(get_wsgi_application()) as base:
        assert requests.get(f"{base}/articles", timeout=5).status_code == 401
        ok = requests.get(
            f"{base}/articles?fields[articles]=title",
            headers={"Authorization": f"Bearer {tokens['read']}"},
            timeout=5,
        )
        assert ok.status_code == 200
        assert ok.json()["data"][0]["attributes"] == {"title": "JSON:API in practice"}


def test_django_request_limits_are_json_api_errors(
    configured: None, tokens: dict[str, str]
) -> None:
    # Django refuses more than DATA_UPLOAD_MAX_NUMBER_FIELDS query pairs and bodies over
    # DATA_UPLOAD_MAX_MEMORY_SIZE with SuspiciousOperation, which it would answer with its own
    # HTML 400 page.
    client = Client()
    auth = {"Authorization": f"Bearer {tokens['read']}", "Accept": JSONAPI}
    query = "&".join(["filter[title]=a"] * 1001)
    for path in ("/articles", "/async/articles", "/api/articles"):
        many = client.get(f"{path}?{query}", headers=auth)
        assert many.status_code == 400, (path, many.content[:200])
        assert many["Content-Type"] == JSONAPI and many.json()["errors"], path
    auth["Authorization"] = f"Bearer {tokens['write']}"
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000):
        big = client.post(
            "/articles",
            data=b'{"data": "' + b"x" * 2000 + b'"}',
            content_type=JSONAPI,
            headers=auth,
        )
    assert big.status_code == 413, big.content[:200]
    assert big["Content-Type"] == JSONAPI and big.json()["errors"][0]["status"] == "413"
