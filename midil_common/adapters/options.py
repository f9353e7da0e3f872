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

__all__ = ["AuthOptions", "Plan", "authorizer_spec", "configured_realm"]


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
    ``TOKEN_USE``, ``ALGORITHMS``, ``LEEWAY``, ...), laid over ``settings`` (an ``AuthSettings``,
    usually ``load_settings().auth``). The mapping itself is the one of
    :func:`midil_common.auth.settings.authorizer_spec`, shared with ``from_settings``.
    """
    from midil_common.auth.settings import authorizer_spec as spec
    from midil_common.auth.settings import with_overrides
    from midil_common.settings import AuthSettings

    base = settings if isinstance(settings, AuthSettings) else AuthSettings()
    return spec(with_overrides(base, config))


def configured_realm(realm: str | None, settings: Any = None) -> str | None:
    """The ``realm`` of an adapter's challenges: ``realm`` when the adapter was given one, else the
    ``auth`` section's (``MIDIL_AUTH__REALM``).

    ``settings`` is a ``MidilSettings`` or ``AuthSettings`` already read (the environment's when
    None, read only when ``realm`` is None). An explicit empty string means "no realm" and wins
    over the setting.
    """
    if realm is not None:
        return realm
    from midil_common.auth.settings import auth_section

    return auth_section(settings).realm
