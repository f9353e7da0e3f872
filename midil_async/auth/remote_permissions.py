"""``RemotePermissionChecker``: asks a policy decision point whether a token may do an action.

It fails closed: any error, timeout or unreadable answer is a deny, logged without the token.
Positive answers are cached briefly, keyed by a digest of the token, resource and action. The
decisions are the core's (:mod:`midil_common.auth.remote_permissions`). One source serves both
shells: the sync module is generated from this one by ``scripts/unasync.py``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from midil_async._primitives import DeadlineExceeded, StateLock, within
from midil_async.http.client import HttpClient
from midil_common.auth.remote_permissions import (
    DecisionCache,
    decision_key,
    decision_request,
    parse_decision,
)
from midil_common.auth.settings import remote_permission_kwargs
from midil_common.errors import ConfigError
from midil_common.http.urls import safe_url

if TYPE_CHECKING:
    from midil_common.settings import MidilSettings

__all__ = ["RemotePermissionChecker"]

logger = logging.getLogger("midil.auth")


class RemotePermissionChecker:
    """Asks ``url`` (``POST``, the token as a bearer credential, ``{"resource", "action"}`` as
    JSON) whether a token may do ``action`` on ``resource``.

    The service answers 200 with ``{"allowed": true|false}`` (or ``allow``, or
    ``{"decision": "allow"|"deny"}``), or 403. Anything else, an error or a ``timeout`` is a deny.

    Args:
        http_client: the ``HttpClient`` to send with (its retries and auth apply; the checker
            does not close it).
        url: the decision endpoint (absolute, or relative to the client's ``base_url``).
        timeout: seconds a question may take.
        cache_ttl: seconds an "allowed" answer is reused (0: no cache); denials are never cached.
        cache_size: at most this many cached answers.
        clock: Unix time, injectable for tests.
    """

    def __init__(
        self,
        http_client: HttpClient,
        url: str,
        *,
        timeout: float = 2.0,
        cache_ttl: float = 30.0,
        cache_size: int = 4096,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if timeout <= 0:
            raise ConfigError("timeout must be > 0", variable="timeout")
        self._http = http_client
        self.url = url
        self.timeout = timeout
        self._cache = DecisionCache(cache_ttl, cache_size)
        self._state_lock = StateLock()
        self._clock = clock
        self._owns_http = False

    @classmethod
    def from_settings(
        cls, settings: MidilSettings | None = None, **overrides: Any
    ) -> RemotePermissionChecker:
        """A checker of ``MIDIL_AUTH__PERMISSIONS_URL`` (read from the environment when None),
        sending with an ``HttpClient`` of the ``http`` section (``MIDIL_HTTP__...``) that it owns
        and closes in :meth:`aclose`. Keyword ``overrides`` (``url=``, ``http_client=``,
        ``timeout=``, ``cache_ttl=``, ...) win and stand in for missing settings; a client passed
        as ``http_client=`` stays the caller's to close. A missing URL raises ``ConfigError``
        naming ``MIDIL_AUTH__PERMISSIONS_URL``."""
        kwargs, http = remote_permission_kwargs(settings, overrides)
        if http is None:
            return cls(**kwargs)
        checker = cls(HttpClient(**http), **kwargs)
        checker._owns_http = True
        return checker

    def __repr__(self) -> str:
        return f"RemotePermissionChecker(url={safe_url(self.url)!r})"

    async def check(self, token: str, resource: str, action: str) -> bool:
        """Whether ``token`` may do ``action`` on ``resource``; False on any failure."""
        key = decision_key(token, resource, action)
        with self._state_lock:
            if self._cache.allowed(key, self._clock()):
                return True
        headers, body = decision_request(token, resource, action)
        try:
            # ``timeout`` bounds each phase (a server trickling a byte at a time never trips it)
            # and the client's retries may last far longer: the ``deadline`` bounds the whole
            # question in the transport, which is all the sync shell has, since its ``within``
            # cannot interrupt a blocking call. ``within`` still covers the auth provider.
            response = await within(
                self._http.request(
                    "POST",
                    self.url,
                    json=body,
                    headers=headers,
                    timeout=self.timeout,
                    deadline=self.timeout,
                ),
                time.monotonic() + self.timeout,
            )
        except DeadlineExceeded:
            self._log_failure(resource, action, "the decision timed out")
            return False
        except Exception as exc:
            self._log_failure(resource, action, type(exc).__name__)
            return False
        decision = parse_decision(response)
        if decision is None:
            self._log_failure(resource, action, f"the service answered {response.status_code}")
            return False
        if decision:
            with self._state_lock:
                self._cache.store(key, self._clock())
        return decision

    async def aclose(self) -> None:
        """Close the ``HttpClient`` that :meth:`from_settings` made; a client passed in is left
        open (its owner closes it)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> RemotePermissionChecker:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def clear_cache(self) -> None:
        """Forget the cached positive answers (after a change of permissions)."""
        with self._state_lock:
            self._cache.clear()

    def _log_failure(self, resource: str, action: str, why: str) -> None:
        logger.warning(
            "permission %s:%s denied: %s (failing closed)",
            resource,
            action,
            why,
            extra={"resource": resource, "action": action},
        )
