"""The framework-neutral adapter core: token extraction, challenges, paths, error mapping."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from midil_common.adapters import (
    AuthOptions,
    ExcludedPaths,
    MissingTokenError,
    TokenSource,
    authorizer_spec,
    bearer_challenge,
    environ_key,
    error_response,
    errors_from_error_list,
    json_pointer,
    missing_scopes,
    parse_authorization,
    quote_param,
    status_response,
    validation_response,
)
from midil_common.auth.settings import jwt_kwargs
from midil_common.errors import (
    ConfigError,
    ConnectError,
    InvalidAudienceError,
    InvalidQueryError,
    InvalidTokenError,
    JWKSFetchError,
    MalformedTokenError,
    NotAcceptableError,
    PermissionDeniedError,
    TimeoutError,
    TokenExpiredError,
)
from midil_common.settings import AuthSettings

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln-_"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (f"Bearer {TOKEN}", TOKEN),
        (f"bearer {TOKEN}", TOKEN),
        (f"BEARER {TOKEN}", TOKEN),
        (f"Bearer   {TOKEN}  ", TOKEN),
        ("Bearer abc==", "abc=="),
        (None, None),
        ("", None),
        ("   ", None),
        (f"Basic {TOKEN}", None),
        ("Basic dXNlcjpwYXNz", None),
        (TOKEN, None),  # a bare token is not a bearer credential
        ("Bearerabc", None),  # another scheme called "Bearerabc"
        ('Digest username="x"', None),
    ],
)
def test_parse_authorization(header: str | None, expected: str | None) -> None:
    assert parse_authorization(header) == expected


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "bearer a b",
        "Bearer a,b",
        'Bearer a"b',
        "Bearer\tabc",
        "Bearer =abc",
        "Bearer ab=c",
        "Bearer é",
        "Bearer " + "a" * 20000,
    ],
)
def test_malformed_bearer_header(header: str) -> None:
    with pytest.raises(MalformedTokenError) as info:
        parse_authorization(header)
    # The message never echoes what the client sent.
    assert header.split(" ", 1)[-1].strip() not in str(info.value) or header.strip() == "Bearer"


@given(st.text(max_size=200))
def test_parse_authorization_only_returns_or_raises_malformed(header: str) -> None:
    try:
        token = parse_authorization(header)
    except MalformedTokenError:
        return
    if token is not None:
        assert re.fullmatch(r"[A-Za-z0-9\-._~+/]+=*", token)
        assert header.strip(" \t").lower().startswith("bearer ")


@given(
    st.from_regex(r"[A-Za-z0-9\-._~+/]{1,64}=*", fullmatch=True),
    st.sampled_from(["Bearer", "bearer", "BeArEr"]),
)
def test_well_formed_tokens_round_trip(token: str, scheme: str) -> None:
    assert parse_authorization(f"{scheme} {token}") == token


def test_token_source_cookie_and_custom_header() -> None:
    headers = {"X-Access-Token": TOKEN}
    custom = TokenSource(header="X-Access-Token", scheme=None)
    assert custom.extract(headers.get) == TOKEN
    cookie = TokenSource(cookie="session")
    assert cookie.extract({}.get, {"session": TOKEN}.get) == TOKEN
    # The header wins over the cookie.
    assert cookie.extract({"Authorization": "Bearer abc"}.get, {"session": TOKEN}.get) == "abc"
    # Another scheme in the header does not hide the cookie.
    assert cookie.extract({"Authorization": "Basic x"}.get, {"session": TOKEN}.get) == TOKEN
    assert cookie.extract({}.get, {}.get) is None
    with pytest.raises(MalformedTokenError):
        cookie.extract({}.get, {"session": "a b"}.get)
    with pytest.raises(MalformedTokenError):
        custom.extract({"X-Access-Token": "Bearer x"}.get)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, "Bearer"),
        ({"realm": "api"}, 'Bearer realm="api"'),
        ({"realm": 'a "q" \\ b'}, 'Bearer realm="a \\"q\\" \\\\ b"'),
        ({"realm": "ré\nalm"}, 'Bearer realm="ralm"'),
        (
            {"realm": "api", "error": "invalid_token", "error_description": "token expired"},
            'Bearer realm="api", error="invalid_token", error_description="token expired"',
        ),
        (
            {"error": "invalid_token", "error_description": 'bad "alg" \\ é'},
            'Bearer error="invalid_token", error_description="bad \'alg\' / "',
        ),
        (
            {"realm": "api", "error": "insufficient_scope", "scope": ["a:read", "b", 'x"y', ""]},
            'Bearer realm="api", error="insufficient_scope", scope="a:read b"',
        ),
        ({"scope": ["read"]}, 'Bearer scope="read"'),
        ({"error_description": "ignored without error"}, "Bearer"),
    ],
)
def test_bearer_challenge(kwargs: dict[str, object], expected: str) -> None:
    assert bearer_challenge(**kwargs) == expected  # type: ignore[arg-type]


# An RFC 9110 challenge with RFC 6750 parameters: what a strict client parser accepts.
_CHALLENGE = re.compile(
    r'Bearer( (realm="(?:[^"\\\x00-\x1f\x7f]|\\[\x20-\x7e])*"|error="[\x20\x21\x23-\x5b\x5d-\x7e]*"'
    r'|error_description="[\x20\x21\x23-\x5b\x5d-\x7e]*"|scope="[\x21\x23-\x5b\x5d-\x7e ]*")'
    r'(, (realm|error|error_description|scope)="(?:[^"\\\x00-\x1f\x7f]|\\[\x20-\x7e])*")*)?'
)


@given(
    st.none() | st.text(max_size=40),
    st.none() | st.text(max_size=20),
    st.none() | st.text(max_size=80),
    st.lists(st.text(max_size=10), max_size=4),
)
def test_challenge_is_always_legal(
    realm: str | None, error: str | None, description: str | None, scope: list[str]
) -> None:
    value = bearer_challenge(realm=realm, error=error, error_description=description, scope=scope)
    assert _CHALLENGE.fullmatch(value), value
    assert value.isascii() and "\n" not in value and "\r" not in value


def test_quote_param_escapes() -> None:
    assert quote_param('a"b\\c') == '"a\\"b\\\\c"'


def test_excluded_paths() -> None:
    ex = ExcludedPaths.of(["/health", "/docs*", "/static/*"])
    assert ex.matches("/health") and ex.matches("/health/")
    assert not ex.matches("/healthz") and not ex.matches("/health/deep")
    assert ex.matches("/docs") and ex.matches("/docs/oauth2-redirect") and ex.matches("/docsx")
    assert ex.matches("/static") and ex.matches("/static/app.js")
    assert not ex.matches("/api/articles")
    assert ex.skips("OPTIONS", "/api", "GET")
    assert not ex.skips("OPTIONS", "/api", None)  # a plain OPTIONS is not a preflight
    assert not ExcludedPaths.of([], preflight=False).skips("OPTIONS", "/api", "GET")


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("Authorization", "HTTP_AUTHORIZATION"),
        ("x-access-token", "HTTP_X_ACCESS_TOKEN"),
        ("Content-Type", "CONTENT_TYPE"),
    ],
)
def test_environ_key(header: str, key: str) -> None:
    assert environ_key(header) == key
    assert TokenSource(header=header).environ_key == key


def test_skips_environ_reads_the_preflight_header_only_for_options() -> None:
    ex = ExcludedPaths.of(["/health", "/docs*"])
    preflight = {"HTTP_ACCESS_CONTROL_REQUEST_METHOD": "GET"}
    assert ex.skips_environ("OPTIONS", "/api", preflight)
    assert ex.skips_environ("options", "/api", preflight)
    assert not ex.skips_environ("OPTIONS", "/api", {})
    assert not ex.skips_environ("GET", "/api", preflight)
    assert ex.skips_environ("GET", "/health/", {}) and ex.skips_environ("GET", "/docs/x", {})
    assert not ExcludedPaths.of([], preflight=False).skips_environ("OPTIONS", "/api", preflight)
    # skips and skips_environ agree on every combination.
    for method in ("GET", "OPTIONS", "POST"):
        for path in ("/api", "/health", "/docs", "/docsx", "/"):
            for environ in ({}, preflight, {"HTTP_ACCESS_CONTROL_REQUEST_METHOD": ""}):
                acrm = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")
                assert ex.skips_environ(method, path, environ) == ex.skips(method, path, acrm)


def test_environ_token_matches_the_header_getter() -> None:
    opts = AuthOptions.build(header="X-Access-Token", scheme=None, cookie="session")
    environ = {"HTTP_X_ACCESS_TOKEN": TOKEN}
    assert opts.environ_token(environ) == TOKEN == opts.token({"X-Access-Token": TOKEN}.get)
    assert opts.environ_token({}, {"session": "abc"}.get) == "abc"
    assert opts.environ_token({}, None, optional=True) is None
    with pytest.raises(MissingTokenError):
        opts.environ_token({"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"})
    bearer = AuthOptions.build()
    assert bearer.environ_token({"HTTP_AUTHORIZATION": f"bearer {TOKEN}"}) == TOKEN
    with pytest.raises(MalformedTokenError):
        bearer.environ_token({"HTTP_AUTHORIZATION": "Bearer a b"})


def test_auth_options_plan() -> None:
    opts = AuthOptions.build(realm="api", excluded_paths=["/health"])
    assert opts.plan("GET", "/health", {}.get).skip
    plan = opts.plan("GET", "/a", {"Authorization": f"Bearer {TOKEN}"}.get)
    assert not plan.skip and plan.token == TOKEN
    with pytest.raises(MissingTokenError):
        opts.plan("GET", "/a", {}.get)
    with pytest.raises(MissingTokenError):
        opts.plan("GET", "/a", {"Authorization": "Basic x"}.get)
    assert opts.plan("GET", "/a", {}.get, optional=True).token is None
    with pytest.raises(MalformedTokenError):
        opts.plan("GET", "/a", {"Authorization": "Bearer"}.get, optional=True)
    optional = AuthOptions.build(optional=True)
    assert optional.plan("GET", "/a", {}.get) == optional.plan("GET", "/b", {}.get)
    assert optional.plan("GET", "/a", {}.get).token is None


@pytest.mark.parametrize(
    ("granted", "required", "match", "lacking"),
    [
        ({"a", "b"}, ["a"], "all", ()),
        ({"a"}, ["a", "b"], "all", ("b",)),
        ({"a"}, ["b", "c"], "any", ("b", "c")),
        ({"c"}, ["b", "c"], "any", ()),
        (set(), [], "all", ()),
        (set(), ["x", "x"], "all", ("x",)),
    ],
)
def test_missing_scopes(
    granted: set[str], required: list[str], match: str, lacking: tuple[str, ...]
) -> None:
    assert missing_scopes(granted, required, match) == lacking  # type: ignore[arg-type]


def _doc(resp: object) -> dict[str, object]:
    return json.loads(resp.body())  # type: ignore[attr-defined,no-any-return]


def test_error_response_missing_token() -> None:
    resp = error_response(MissingTokenError(), realm="api")
    assert resp.status == 401
    assert resp.header_dict()["WWW-Authenticate"] == 'Bearer realm="api"'
    assert resp.content_type == "application/vnd.api+json"
    doc = _doc(resp)
    assert doc["errors"] == [
        {
            "status": "401",
            "title": "Unauthorized",
            "code": "missing_token",
            "detail": "authentication is required",
        }
    ]


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (TokenExpiredError("the token has expired"), "token_expired"),
        (InvalidAudienceError("the token's audience is not accepted"), "invalid_token"),
        (MalformedTokenError("malformed"), "invalid_token"),
        (InvalidTokenError(""), "invalid_token"),
    ],
)
def test_error_response_invalid_token(exc: InvalidTokenError, code: str) -> None:
    resp = error_response(exc)
    assert resp.status == 401
    challenge = resp.header_dict()["WWW-Authenticate"]
    assert challenge.startswith('Bearer error="invalid_token", error_description="')
    assert _doc(resp)["errors"][0]["code"] == code  # type: ignore[index]


def test_error_response_permission_denied() -> None:
    exc = PermissionDeniedError(
        "nope", required_scopes=["articles:write"], permission="articles:create"
    )
    resp = error_response(exc, realm="api")
    assert resp.status == 403
    assert resp.header_dict()["WWW-Authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", error_description="nope", '
        'scope="articles:write"'
    )
    err = _doc(resp)["errors"][0]  # type: ignore[index]
    assert err["meta"] == {"required_scopes": ["articles:write"], "permission": "articles:create"}


def test_error_response_other_kinds() -> None:
    resp = error_response(JWKSFetchError("down"))
    assert resp.status == 503 and "WWW-Authenticate" not in resp.header_dict()
    assert _doc(resp)["errors"][0]["code"] == "issuer_unavailable"  # type: ignore[index]
    q = error_response(
        InvalidQueryError(
            "bad", errors=[{"detail": "bad sort", "source": {"parameter": "sort"}, "title": None}]
        )
    )
    assert q.status == 400
    assert _doc(q)["errors"] == [
        {"detail": "bad sort", "source": {"parameter": "sort"}, "status": "400"}
    ]
    n = error_response(NotAcceptableError("no"))
    assert n.status == 406 and _doc(n)["errors"][0]["detail"] == "no"  # type: ignore[index]
    assert error_response(ConfigError("MIDIL_X secret layout")).status == 500
    assert b"MIDIL_X" not in error_response(ConfigError("MIDIL_X secret layout")).body()
    assert error_response(TimeoutError("t")).status == 504
    assert error_response(ConnectError("c")).status == 502
    assert error_response(RuntimeError("boom")).status == 500
    assert b"boom" not in error_response(RuntimeError("boom")).body()
    assert _doc(status_response(404))["errors"] == [{"status": "404", "title": "Not Found"}]


def test_json_pointer_escapes() -> None:
    assert json_pointer(["data", "attributes", "a/b~c", 0]) == "/data/attributes/a~1b~0c/0"
    assert json_pointer([]) == ""


def test_errors_from_error_list_and_validation_response() -> None:
    errs = [
        {
            "loc": ("body", "data", "attributes", "title"),
            "msg": "Field required",
            "type": "missing",
        },
        {"loc": ("query", "page"), "msg": "not an int", "type": "int_parsing"},
        {"loc": ("header", "x-id"), "msg": "bad", "type": "value_error"},
        {"loc": ("other",), "msg": "odd"},
    ]
    objects = errors_from_error_list(errs)
    assert objects[0]["source"] == {"pointer": "/data/attributes/title"}
    assert objects[0]["status"] == "422"
    assert objects[1]["source"] == {"parameter": "page"} and objects[1]["status"] == "400"
    assert objects[2]["source"] == {"header": "x-id"}
    assert objects[3]["source"] == {"pointer": "/other"}
    assert validation_response(errs[:1]).status == 422
    mixed = validation_response(errs)
    assert mixed.status == 400 and {e["status"] for e in _doc(mixed)["errors"]} == {"400"}  # type: ignore[union-attr]
    assert validation_response([]).status == 400


def test_authorizer_spec() -> None:
    kind, kwargs = authorizer_spec({"ISSUER": "https://i", "AUDIENCE": "api", "LEEWAY": 5})
    assert kind == "jwt" and kwargs == {"issuer": "https://i", "audience": "api", "leeway": 5.0}
    kind, kwargs = authorizer_spec({"AUDIENCE": ["a", "b"]}, AuthSettings(issuer="https://s"))
    assert kwargs["issuer"] == "https://s" and kwargs["audience"] == ("a", "b")
    # The same mapping as from_settings: the framework's keys lie over the environment's section.
    assert authorizer_spec({}, AuthSettings(issuer="https://s", leeway=2)) == (
        "jwt",
        jwt_kwargs(AuthSettings(issuer="https://s", leeway=2)),
    )
    with pytest.raises(ConfigError) as info:
        authorizer_spec({"ISSUER": "https://i", "LEEWAY": "soon"})
    assert info.value.variable == "LEEWAY"
    kind, kwargs = authorizer_spec(
        {"COGNITO_USER_POOL_ID": "eu-west-1_abc", "REGION": "eu-west-1", "CLIENT_IDS": "x,y"}
    )
    assert kind == "cognito"
    assert kwargs == {
        "user_pool_id": "eu-west-1_abc",
        "region": "eu-west-1",
        "client_ids": ("x", "y"),
    }
    with pytest.raises(ConfigError):
        authorizer_spec({})
    with pytest.raises(ConfigError):
        authorizer_spec({"COGNITO_USER_POOL_ID": "p", "TOKEN_USE": "id"})


def test_check_scopes_and_permission_with_real_claims() -> None:
    from midil_common.adapters import check_permission, check_scopes
    from midil_common.auth import PermissionPolicy, TokenClaims

    claims = TokenClaims.from_payload({"sub": "u", "scope": "a:read b", "cognito:groups": ["ed"]})
    check_scopes(claims, ["a:read", "b"])
    check_scopes(claims, ["zzz", "b"], "any")
    with pytest.raises(PermissionDeniedError) as info:
        check_scopes(claims, ["a:read", "c", "d"])
    assert info.value.required_scopes == ("c", "d")
    with pytest.raises(PermissionDeniedError) as info:
        check_scopes(claims, ["c", "d"], "any")
    assert info.value.required_scopes == ("c", "d") and "one of" in str(info.value)
    policy = PermissionPolicy(groups={"ed": ["articles:*"]})
    check_permission(claims, policy, "articles", "delete")
    check_permission(claims, policy, "a", "read")  # a scope shaped resource:action
    with pytest.raises(PermissionDeniedError) as info:
        check_permission(claims, policy, "users", "delete")
    assert info.value.permission == "users:delete"
    assert info.value.required_scopes == ("users:delete",)
    strict = PermissionPolicy(scopes_as_permissions=False)
    with pytest.raises(PermissionDeniedError) as info:
        check_permission(claims, strict, "a", "read")
    assert info.value.required_scopes == ()
    mapped = PermissionPolicy(scopes={"orders.rw": ["orders:*"], "admin": ["*:*"], "x": ["y:z"]})
    with pytest.raises(PermissionDeniedError) as info:
        check_permission(claims, mapped, "orders", "write")
    # The challenge names every scope that would have granted the permission.
    assert info.value.required_scopes == ("admin", "orders.rw", "orders:write")
    with pytest.raises(PermissionDeniedError) as info:
        mapped.require(claims, "orders", "write")
    assert info.value.required_scopes == ("admin", "orders.rw", "orders:write")


def test_jsonapi_helpers() -> None:
    from midil_common.adapters.jsonapi import QueryRules, negotiate_request, render_document

    rules = QueryRules(allowed_sort={"title"}, max_page_size=5)
    query = rules.parse([("sort", "-title"), ("page[size]", "2")])
    assert [(s.field, s.descending) for s in query.sort] == [("title", True)]
    assert query.page.size == 2
    with pytest.raises(InvalidQueryError):
        rules.parse([("page[size]", "6")])
    with pytest.raises(InvalidQueryError):
        rules.parse([("sort", "title"), ("sort", "title")])
    # A GET with a stray Content-Type is not refused; a POST with one is.
    negotiate_request("GET", "text/plain", None)
    from midil_common.errors import UnsupportedMediaTypeError

    with pytest.raises(UnsupportedMediaTypeError):
        negotiate_request("POST", "text/plain", None)
    with pytest.raises(NotAcceptableError):
        negotiate_request("GET", None, 'application/vnd.api+json; ext="urn:x"')
    assert negotiate_request(
        "PATCH", 'application/vnd.api+json; ext="urn:x"', None, extensions=["urn:x"]
    )
    assert render_document({"data": None}) == b'{"data":null}'
    assert render_document('{"data":[]}') == b'{"data":[]}'
    from midil_common.jsonapi import Document

    assert json.loads(render_document(Document.model_validate({"data": []}))) == {"data": []}


@pytest.mark.parametrize(
    ("status", "shown"), [(404, True), (405, True), (500, False), (502, False), (503, False)]
)
def test_a_framework_errors_detail_is_shown_only_below_500(status: int, shown: bool) -> None:
    from midil_common.adapters import framework_error

    body = framework_error(status, "db at 10.0.0.5 refused", code="x").document
    error = body["errors"][0]  # type: ignore[index]
    assert ("detail" in error) is shown and error["status"] == str(status)
