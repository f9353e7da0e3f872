"""The Django adapter's configuration: the ``MIDIL`` settings dict, read once and cached.

Keys missing from ``MIDIL`` fall back to the ``MIDIL_AUTH__...`` environment settings: the
authorizer's when no ``AUTHORIZER`` is given, and ``REALM`` (``MIDIL_AUTH__REALM``) always; an
empty ``REALM`` means no realm.

The cache (and the authorizer it holds) is dropped when ``settings.MIDIL`` changes, as
``override_settings`` does in tests, so the authorizer is built once per configuration, never per
request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from midil_common.adapters import AuthOptions, authorizer_spec, configured_realm
from midil_common.adapters.checks import check_authorizer, check_policy

if TYPE_CHECKING:
    from midil_common.auth.claims import TokenClaims
    from midil_common.auth.protocols import Authorizer

__all__ = ["MidilConfig", "get_config", "reset_config"]


@dataclass(frozen=True)
class MidilConfig:
    """What ``settings.MIDIL`` resolved to."""

    authorizer: Authorizer
    options: AuthOptions
    require_auth: bool
    policy: Any
    user_factory: Callable[[TokenClaims], Any]
    set_user: bool
    propagate_context: bool = True


_lock = threading.Lock()
_config: MidilConfig | None = None


def _resolve(value: Any) -> Any:
    """A dotted path is imported; a class or factory is called with no arguments; objects stay."""
    if isinstance(value, str):
        value = import_string(value)
    if isinstance(value, type) or (callable(value) and not hasattr(value, "verify")):
        value = value()
    return value


def _build(section: Mapping[str, Any]) -> MidilConfig:
    raw_auth = section.get("AUTHORIZER")
    realm = section.get("REALM")
    auth = None
    if raw_auth is None or realm is None:
        from midil_common.settings import load_settings

        auth = load_settings().auth
    if raw_auth is not None:
        authorizer = cast("Authorizer", _resolve(raw_auth))
        check_authorizer(authorizer, coroutines=False, what="MIDIL['AUTHORIZER']")
    else:
        kind, kwargs = authorizer_spec(section, auth)
        import midil_sync

        cls = midil_sync.CognitoJWTAuthorizer if kind == "cognito" else midil_sync.JWTAuthorizer
        authorizer = cast("Authorizer", cls(**kwargs))
    excluded = section.get("EXCLUDED_PATHS", ())
    options = AuthOptions.build(
        realm=configured_realm(realm, auth),
        excluded_paths=tuple(excluded.split(",")) if isinstance(excluded, str) else tuple(excluded),
        header=section.get("TOKEN_HEADER", "Authorization"),
        scheme=section.get("TOKEN_SCHEME", "Bearer"),
        cookie=section.get("TOKEN_COOKIE"),
    )
    policy = section.get("PERMISSION_POLICY")
    if isinstance(policy, str):
        policy = import_string(policy)
    check_policy(policy, coroutines=False, what="MIDIL['PERMISSION_POLICY']")
    factory = section.get("USER_FACTORY", "midil_sync.django.users.ClaimsUser")
    if isinstance(factory, str):
        factory = import_string(factory)
    return MidilConfig(
        authorizer=authorizer,
        options=options,
        require_auth=bool(section.get("REQUIRE_AUTH", False)),
        policy=policy,
        user_factory=factory,
        set_user=bool(section.get("SET_USER", True)),
        propagate_context=bool(section.get("PROPAGATE_CONTEXT", True)),
    )


def get_config() -> MidilConfig:
    """The current configuration, built on first use (thread-safe)."""
    global _config
    config = _config
    if config is not None:
        return config
    with _lock:
        if _config is None:
            _config = _build(getattr(settings, "MIDIL", {}) or {})
        return _config


def reset_config() -> None:
    """Forget the cached configuration; the next request reads ``settings.MIDIL`` again."""
    global _config
    with _lock:
        _config = None


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "MIDIL":
        reset_config()
