"""What ``MidilAuth.init_app`` leaves on the application, and how the request finds it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from flask import current_app

if TYPE_CHECKING:
    from midil_common.adapters import AuthOptions
    from midil_common.auth.protocols import Authorizer


@dataclass
class State:
    """One application's authentication state, in ``app.extensions["midil"]``."""

    authorizer: Authorizer
    options: AuthOptions
    policy: Any
    protect_all: bool


def app_state() -> State:
    """The current application's state; a clear error when ``init_app`` was never called."""
    try:
        return cast(State, current_app.extensions["midil"])
    except KeyError:
        raise RuntimeError("MidilAuth.init_app(app) was not called for this application") from None
