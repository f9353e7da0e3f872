"""Context propagation for Flask: every request runs in an event context, every response says which.

:class:`MidilAuth` installs it by default (``propagate_context=True``, or ``MIDIL_PROPAGATE_CONTEXT``);
:class:`MidilContext` installs it alone, for an application that authenticates nothing. It wraps the
application's WSGI callable (``app.wsgi_app``), outside Flask's own error handling, so the context
covers ``before_request`` guards, the view, error handlers, ``after_request`` and ``teardown_request``
functions, and ``X-Correlation-ID`` reaches every response Flask produces: a 401 from the guard, a
JSON:API 400, a 404 or a 500 alike. The body of a streamed response is produced after the request
returns, outside the context.

The decisions (which incoming values to trust, which id to answer with) are the core's
(:mod:`midil_common.adapters.context`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask

from midil_common.adapters.context import (
    ENVIRON_KEY,
    request_context_from_environ,
    wsgi_response_headers,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["ContextMiddleware", "MidilContext", "install"]


class ContextMiddleware:
    """WSGI middleware: runs each request in an event context opened from its ``traceparent`` and
    ``X-Correlation-ID`` headers, and sets ``X-Correlation-ID`` on its response.

    Nested twice (two extensions on one app), only the outer one acts. The context is in
    ``request.environ["midil.event_context"]`` as well as in
    :func:`midil_common.events.current_context`.
    """

    __slots__ = ("wsgi_app",)

    def __init__(self, wsgi_app: WSGIApplication) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Call the wrapped application inside the request's context."""
        if ENVIRON_KEY in environ:
            return self.wsgi_app(environ, start_response)
        with request_context_from_environ(environ) as context:
            environ[ENVIRON_KEY] = context

            def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                return start_response(status, wsgi_response_headers(headers, context), exc_info)

            return self.wsgi_app(environ, start)


def install(app: Flask) -> None:
    """Wrap ``app.wsgi_app`` in :class:`ContextMiddleware`, once."""
    if not _installed(app.wsgi_app):
        app.wsgi_app = ContextMiddleware(app.wsgi_app)  # type: ignore[method-assign]


def _installed(wsgi_app: Callable[..., Any]) -> bool:
    return isinstance(wsgi_app, ContextMiddleware)


class MidilContext:
    """The Flask extension for context propagation alone (``MidilAuth`` includes it by default).

    ::

        MidilContext(app)            # or: ctx = MidilContext(); ctx.init_app(app)

    Views, log records (with :class:`midil_common.events.ContextFilter` on the handler) and outgoing
    ``HttpClient`` calls made while handling a request carry its correlation id and trace.
    """

    def __init__(self, app: Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Install context propagation on ``app`` (idempotent)."""
        install(app)
