"""What one adapter was configured with, and the per-request decision that follows from it.

The shells ask :meth:`AuthOptions.plan` what to do with a request and then only do it: skip it,
let it through anonymously, or verify the token it carries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from midil_common.adapters.credentials import TokenSource
from midil_common.adapters.errors import MissingTokenError
from midil_common.adapters.paths import ExcludedPaths

__all__ = ["AuthOptions", "Plan", "authorizer_spec"]


@dataclass(frozen=True)
class Plan:
    """The decision for one request: ``skip`` (excluded), or verify ``token`` (None: anonymous)."""

    skip: bool
    token: str | None = None


SKIP = Plan(skip=True)
ANONYMOUS = Plan(skip=False)


@dataclass(frozen=True)
class AuthOptions:
    """Options shared by the adapters.

    ``optional``: a request without a token goes through with no claims instead of a 401 (a token
    that is present is still verified and refused when invalid).
    """

    realm: str | None = None
    source: TokenSource = field(default_factory=TokenSource)
    excluded: ExcludedPaths = field(default_factory=ExcludedPaths)
    optional: bool = False

    @classmethod
    def build(
        cls,
        *,
        realm: str | None = None,
        excluded_paths: Iterable[str] = (),
        optional: bool = False,
        header: str = "Authorization",
        scheme: str | None = "Bearer",
        cookie: str | None = None,
    ) -> AuthOptions:
        """Build from plain values (what settings and keyword arguments hold)."""
        return cls(
            realm=realm,
            source=TokenSource(header=header, scheme=scheme, cookie=cookie),
            excluded=ExcludedPaths.of(excluded_paths),
            optional=optional,
        )

    def plan(
        self,
        method: str,
        path: str,
        get_header: Callable[[str], str | None],
        get_cookie: Callable[[str], str | None] | None = None,
        *,
        optional: bool | None = None,
    ) -> Plan:
        """Decide what to do; raises ``MissingTokenError`` or ``MalformedTokenError`` to refuse."""
        if self.excluded.skips(method, path, get_header("Access-Control-Request-Method")):
            return SKIP
        return Plan(skip=False, token=self.token(get_header, get_cookie, optional=optional))

    def token(
        self,
        get_header: Callable[[str], str | None],
        get_cookie: Callable[[str], str | None] | None = None,
        *,
        optional: bool | None = None,
    ) -> str | None:
        """The request's token, ignoring exclusions (a view that asks for auth gets it checked).

        None only when the token is absent and authentication is optional; otherwise raises
        ``MissingTokenError`` or ``MalformedTokenError``.
        """
        return self._or_missing(self.source.extract(get_header, get_cookie), optional)

    def environ_token(
        self,
        environ: Mapping[str, Any],
        get_cookie: Callable[[str], str | None] | None = None,
        *,
        optional: bool | None = None,
    ) -> str | None:
        """:meth:`token`, reading the header from a WSGI ``environ`` or Django's ``request.META``."""
        value = environ.get(self.source.environ_key)
        return self._or_missing(self.source.from_value(value, get_cookie), optional)

    def _or_missing(self, token: str | None, optional: bool | None) -> str | None:
        if token is not None:
            return token
        if self.optional if optional is None else optional:
            return None
        raise MissingTokenError()


def authorizer_spec(config: Mapping[str, Any], settings: Any = None) -> tuple[str, dict[str, Any]]:
    """Which authorizer a framework's configuration asks for: ``("cognito" | "jwt", kwargs)``.

    ``config`` holds upper-case keys without prefix (``ISSUER``, ``AUDIENCE``,
    ``ACCEPT_ANY_AUDIENCE``, ``JWKS_URL``, ``COGNITO_USER_POOL_ID``, ``REGION``, ``CLIENT_IDS``,
    ``TOKEN_USE``, ``ALGORITHMS``, ``LEEWAY``);
    a missing key falls back to ``settings`` (a ``midil_common.settings.AuthSettings``). A Cognito pool
    id selects the Cognito preset. Raises ``ConfigError`` when neither an issuer nor a pool is set.
    """
    from midil_common.errors import ConfigError

    def pick(key: str, attr: str) -> Any:
        if key in config and config[key] is not None:
            return config[key]
        return getattr(settings, attr, None) if settings is not None else None

    def as_tuple(value: Any) -> tuple[str, ...] | None:
        if value is None:
            return None
        if isinstance(value, str):
            return tuple(p.strip() for p in value.split(",") if p.strip())
        return tuple(value)

    pool = pick("COGNITO_USER_POOL_ID", "cognito_user_pool_id")
    jwks_url = pick("JWKS_URL", "jwks_url")
    if pool:
        region = pick("REGION", "region")
        if not region:
            raise ConfigError("a Cognito user pool needs a region (REGION)", variable="REGION")
        kwargs: dict[str, Any] = {"user_pool_id": pool, "region": region}
        client_ids = as_tuple(pick("CLIENT_IDS", "client_ids"))
        if client_ids:
            kwargs["client_ids"] = client_ids
        token_use = pick("TOKEN_USE", "token_use")
        if token_use:
            kwargs["token_use"] = token_use
        groups = as_tuple(pick("REQUIRED_GROUPS", "required_groups"))
        if groups:
            kwargs["groups"] = groups
        if jwks_url:
            kwargs["jwks_url"] = jwks_url
        return "cognito", kwargs
    issuer = pick("ISSUER", "issuer")
    if not issuer:
        raise ConfigError(
            "no token issuer is configured: set ISSUER or COGNITO_USER_POOL_ID, or pass an authorizer",
            variable="ISSUER",
        )
    kwargs = {"issuer": issuer}
    audience = as_tuple(pick("AUDIENCE", "audience"))
    if audience:
        kwargs["audience"] = audience[0] if len(audience) == 1 else audience
    if _as_bool(pick("ACCEPT_ANY_AUDIENCE", "accept_any_audience"), "ACCEPT_ANY_AUDIENCE"):
        kwargs["accept_any_audience"] = True
    if jwks_url:
        kwargs["jwks_url"] = jwks_url
    algorithms = as_tuple(pick("ALGORITHMS", "algorithms"))
    if algorithms:
        kwargs["algorithms"] = algorithms
    leeway = pick("LEEWAY", "leeway")
    if leeway:
        kwargs["leeway"] = float(leeway)
    cache_size = pick("TOKEN_CACHE_SIZE", "token_cache_size")
    if cache_size:
        kwargs["token_cache_size"] = int(cache_size)
    return "jwt", kwargs


def _as_bool(value: Any, key: str) -> bool:
    """A flag from framework configuration: a bool, or ``true``/``false``-like text."""
    from midil_common.errors import ConfigError

    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ConfigError(f"{key} must be true or false", variable=key)
