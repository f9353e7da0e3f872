"""The ``WWW-Authenticate: Bearer`` challenge of RFC 6750 section 3, quoted correctly."""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["bearer_challenge", "quote_param"]

# RFC 6750 section 3: error and error_description allow %x20-21 / %x23-5B / %x5D-7E, scope tokens
# %x21 / %x23-5B / %x5D-7E. Anything else is dropped rather than escaped, so the header is always legal.
_DESCRIPTION_BAD = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")


def quote_param(value: str) -> str:
    """An RFC 9110 quoted-string for ``value``; control characters and non-ASCII are dropped."""
    cleaned = "".join(c for c in value if "\x20" <= c <= "\x7e")
    return '"' + cleaned.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _description(value: str) -> str:
    # RFC 6750 allows neither '"' nor '\' here, so no escaping can be needed: swap and drop instead.
    return _DESCRIPTION_BAD.sub("", value.replace('"', "'").replace("\\", "/"))


def bearer_challenge(
    *,
    realm: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
    scope: Iterable[str] = (),
) -> str:
    """The value of ``WWW-Authenticate`` for a Bearer resource.

    With no ``error`` (the request simply carried no token) only ``realm`` and ``scope`` appear, as
    RFC 6750 section 3.1 asks. Scope tokens that RFC 6750 forbids are left out.
    """
    params: list[str] = []
    if realm:
        params.append(f"realm={quote_param(realm)}")
    if error:
        params.append(f'error="{_description(error)}"')
        if error_description:
            params.append(f'error_description="{_description(error_description)}"')
    scopes = [s for s in scope if _SCOPE_TOKEN.fullmatch(s)]
    if scopes:
        params.append(f'scope="{" ".join(scopes)}"')
    return "Bearer " + ", ".join(params) if params else "Bearer"
