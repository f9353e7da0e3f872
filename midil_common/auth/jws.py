"""Strict parsing of compact JWS tokens, before any key lookup or signature work.

The whole token is checked against the base64url alphabet in one regular-expression pass (PyJWT
checks it character by character in Python), each segment is decoded once with the standard
library and each JSON segment is parsed once, with duplicate member names and non-finite numbers
refused. Nothing here echoes the token in an error message.
"""

from __future__ import annotations

import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from midil_common.errors import InvalidClaimError, InvalidIssuerError, MalformedTokenError

__all__ = [
    "DEFAULT_MAX_TOKEN_SIZE",
    "ParsedToken",
    "decode_payload",
    "parse_token",
    "unverified_issuer",
]

DEFAULT_MAX_TOKEN_SIZE = 16 * 1024

_COMPACT = re.compile(r"([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)")
_TO_STANDARD = str.maketrans("-_", "+/")
_PADDING = ("", "", "==", "=")


def _b64decode(segment: str, what: str) -> bytes:
    pad = _PADDING[len(segment) & 3]
    if len(segment) & 3 == 1:
        raise MalformedTokenError(f"the {what} is not valid base64url")
    try:
        return binascii.a2b_base64((segment + pad).translate(_TO_STANDARD))
    except binascii.Error as exc:
        raise MalformedTokenError(f"the {what} is not valid base64url") from exc


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member name")
    return result


def _refuse_constant(name: str) -> Any:
    raise ValueError("non-finite number")


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        # UnicodeDecodeError and int-digit limits are ValueErrors too.
        raise MalformedTokenError(f"the {what} is not valid JSON") from exc
    if type(value) is not dict:
        raise MalformedTokenError(f"the {what} is not a JSON object")
    return value


@dataclass(frozen=True, slots=True)
class ParsedToken:
    """A token split and its header decoded; the payload stays undecoded until it is needed."""

    header: dict[str, Any]
    alg: str
    kid: str | None
    signing_input: bytes
    payload_segment: str
    signature: bytes


def parse_token(token: Any, max_size: int = DEFAULT_MAX_TOKEN_SIZE) -> ParsedToken:
    """Split ``token`` into header, payload and signature, checking structure and size first.

    Raises ``MalformedTokenError`` for anything that is not three base64url segments within
    ``max_size`` characters with a JSON-object header, and ``InvalidClaimError`` for a header
    whose ``alg`` or ``kid`` is not a string.
    """
    if type(token) is not str:
        if isinstance(token, (bytes, bytearray)):
            if len(token) > max_size:
                raise MalformedTokenError(f"the token is longer than {max_size} bytes")
            try:
                token = bytes(token).decode("ascii")
            except UnicodeDecodeError as exc:
                raise MalformedTokenError("the token is not ASCII") from exc
        elif isinstance(token, str):
            token = str(token)
        else:
            raise MalformedTokenError("the token is not a string")
    if len(token) > max_size:
        raise MalformedTokenError(f"the token is longer than {max_size} characters")
    match = _COMPACT.fullmatch(token)
    if match is None:
        raise MalformedTokenError("the token is not three base64url segments")
    header_seg, payload_seg, signature_seg = match.groups()
    header = _json_object(_b64decode(header_seg, "header"), "header")
    alg = header.get("alg")
    if type(alg) is not str:
        raise InvalidClaimError("the header 'alg' is missing or not a string", claim="alg")
    kid = header.get("kid")
    if kid is not None and type(kid) is not str:
        raise InvalidClaimError("the header 'kid' is not a string", claim="kid")
    return ParsedToken(
        header=header,
        alg=alg,
        kid=kid,
        signing_input=f"{header_seg}.{payload_seg}".encode("ascii"),
        payload_segment=payload_seg,
        signature=_b64decode(signature_seg, "signature"),
    )


def decode_payload(parsed: ParsedToken) -> dict[str, Any]:
    """The payload of a parsed token as a dict (call after the signature checked out)."""
    return _json_object(_b64decode(parsed.payload_segment, "payload"), "payload")


def unverified_issuer(token: Any, max_size: int = DEFAULT_MAX_TOKEN_SIZE) -> str:
    """The ``iss`` of a token whose signature is NOT checked: only to route it to a verifier."""
    iss = decode_payload(parse_token(token, max_size)).get("iss")
    if type(iss) is not str:
        raise InvalidIssuerError("the token has no issuer")
    return iss
