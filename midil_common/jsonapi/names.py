"""Member-name, URI and JSON-pointer syntax of JSON:API 1.1, as regular expressions compiled once.

The ``*_PATTERN`` strings are given to pydantic-core (which runs them in Rust while parsing); the
compiled ``*_RE`` objects serve the Python-side checks.
"""

from __future__ import annotations

import re

__all__ = [
    "ABSOLUTE_URI_RE",
    "EXT_MEMBER_RE",
    "FIELD_KEY_PATTERN",
    "JSON_POINTER_PATTERN",
    "MEMBER_NAME_RE",
    "TYPE_PATTERN",
    "URI_REFERENCE_PATTERN",
    "escape_pointer_token",
    "is_member_name",
    "pointer",
]

# "Globally allowed characters": a-z, A-Z, 0-9 and everything from U+0080; hyphen, low line and space
# are allowed inside a name but not at either end.
_G = "a-zA-Z0-9\u0080-\U0010ffff"
_NAME = f"[{_G}](?:[{_G}_ \\-]*[{_G}])?"

#: A member name (type values, relationship names, query parameter families).
TYPE_PATTERN = f"^{_NAME}$"
#: A key of an attributes, relationships or meta object: a member name or an @-member.
FIELD_KEY_PATTERN = f"^@?{_NAME}$"
MEMBER_NAME_RE = re.compile(f"@?{_NAME}")
#: ``namespace:member`` of an extension: the namespace uses a-z, A-Z and 0-9 only.
EXT_MEMBER_RE = re.compile(f"[a-zA-Z0-9]+:{_NAME}")

# RFC 3986 URI-reference: unreserved, sub-delims, ":", "@", "/", "?", "#", "[", "]" and %-escapes.
_URI_CHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#\[\]]|%[0-9A-Fa-f]{2})"
URI_REFERENCE_PATTERN = f"^{_URI_CHAR}*$"
ABSOLUTE_URI_RE = re.compile(f"[A-Za-z][A-Za-z0-9+.\\-]*:{_URI_CHAR}+")

#: RFC 6901: "" is the whole document; each token is "/" then anything with "~" escaped as ~0/~1.
JSON_POINTER_PATTERN = r"^(?:/(?:[^~/]|~[01])*)*$"


def is_member_name(name: str) -> bool:
    """Whether ``name`` is a legal JSON:API member name (an @-member counts)."""
    return MEMBER_NAME_RE.fullmatch(name) is not None


def escape_pointer_token(token: str) -> str:
    """Escape one reference token for a JSON pointer (RFC 6901: ``~`` then ``/``)."""
    if "~" in token:
        token = token.replace("~", "~0")
    if "/" in token:
        token = token.replace("/", "~1")
    return token


def pointer(*tokens: str | int) -> str:
    """Build a JSON pointer from reference tokens, escaping each one."""
    return "".join("/" + escape_pointer_token(str(t)) for t in tokens)
