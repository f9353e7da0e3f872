"""Parsing of HTTP header values the core makes decisions on."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime

from midil_common.errors import ConfigError

__all__ = ["MAX_RETRY_AFTER", "check_header_values", "parse_retry_after"]

# RFC 9110 section 5.1 (token) and 5.5 (field-value: visible characters, obs-text, SP and HTAB).
_FIELD_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
_ASCII_VALUE = re.compile(r"[\t\x20-\x7e]*")
_MAX_DELTA_DIGITS = 10
MAX_RETRY_AFTER = 1e10
"""The largest delay :func:`parse_retry_after` returns (a longer delta-seconds is capped to it)."""


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or HTTP-date), or None.

    A date in the past gives 0; a malformed value gives None, as if the header were absent.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        # Any run of digits is a delay; past ten of them (three centuries) it is capped, so that
        # 5,000 digits cost nothing and the result stays a finite float.
        return float(int(value)) if len(value) <= _MAX_DELTA_DIGITS else MAX_RETRY_AFTER
    if len(value) > 64 or not value.isascii():
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def check_header_values(
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    *,
    what: str = "header",
    ascii_only: bool = False,
) -> None:
    """Raise ``ConfigError`` unless every name is an RFC 9110 token and every value holds only
    visible characters, spaces and tabs (no CR, LF or NUL: they would split or end the header).

    ``ascii_only`` also refuses Latin-1 letters, as for credentials (RFC 6749 appendix A.12).
    The message names the header but never shows its value, which is usually a credential.
    """
    allowed = _ASCII_VALUE if ascii_only else _FIELD_VALUE
    items = headers.items() if isinstance(headers, Mapping) else headers
    for name, value in items:
        if not isinstance(name, str) or _FIELD_NAME.fullmatch(name) is None:
            raise ConfigError(f"the {what} name {str(name)[:40]!r} is not a valid header name")
        if not isinstance(value, str) or allowed.fullmatch(value) is None:
            raise ConfigError(
                f"the {what} {name!r} holds a character not allowed in its value (a control "
                f"character, or one outside {'ASCII' if ascii_only else 'Latin-1'}); its value "
                "is not shown",
                variable=name,
            )
