"""Strict parsing of compact JWS tokens, before any key lookup or signature work.

Each segment is checked against the base64url alphabet by the same C-level pass that decodes it
(PyJWT checks the token character by character in Python), all three before any key work. Each
JSON segment is parsed once, with non-finite numbers refused; the header also refuses duplicate
member names, and a header segment seen before is not parsed again. Nothing here echoes the token
in an error message.
"""

from __future__ import annotations

import binascii
import json
import sys
from typing import Any, NamedTuple

import orjson

from midil_common.errors import InvalidClaimError, InvalidIssuerError, MalformedTokenError

__all__ = [
    "DEFAULT_MAX_TOKEN_SIZE",
    "ParsedToken",
    "decode_payload",
    "parse_token",
    "unverified_issuer",
]

DEFAULT_MAX_TOKEN_SIZE = 16 * 1024

# Tokens of one issuer share a handful of header segments; parsing each once saves a base64 and a
# JSON pass per token. Bounded, and cleared when full, so hostile headers cannot grow it.
_HEADERS: dict[bytes, tuple[dict[str, Any], str, str | None]] = {}
_HEADERS_MAX = 512
# One bytes.translate pass maps base64url to standard base64 and turns the characters that are
# standard base64 but not base64url ('+', '/', '=') into '!', which strict decoding then refuses:
# the alphabet is checked by the decoder, with no separate pass over the token.
_TO_STANDARD = bytes.maketrans(b"-_+/=", b"+/!!!")
_STANDARD_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_PADDING = (b"", b"", b"==", b"=")
_a2b_base64 = binascii.a2b_base64
_tuple_new = tuple.__new__


def _b64decode_portable(segment: bytes, what: str) -> bytes:
    rest = len(segment) & 3
    standard = segment.translate(_TO_STANDARD)
    # Before Python 3.11, a2b_base64 skips characters outside the alphabet instead of refusing.
    if rest == 1 or standard.translate(None, _STANDARD_ALPHABET):
        raise MalformedTokenError(f"the {what} is not valid base64url")
    try:
        return _a2b_base64(standard + _PADDING[rest])
    except binascii.Error as exc:
        raise MalformedTokenError(f"the {what} is not valid base64url") from exc


if sys.version_info >= (3, 11):

    def _b64decode(segment: bytes, what: str) -> bytes:
        rest = len(segment) & 3
        if rest == 1:
            raise MalformedTokenError(f"the {what} is not valid base64url")
        try:
            return _a2b_base64(segment.translate(_TO_STANDARD) + _PADDING[rest], strict_mode=True)
        except binascii.Error as exc:
            raise MalformedTokenError(f"the {what} is not valid base64url") from exc

else:  # Python 3.10
    _b64decode = _b64decode_portable


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member name")
    return result


def _refuse_constant(name: str) -> Any:
    raise ValueError("non-finite number")


# Built once: json.loads with hooks would build a decoder on every call.
_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        text = data.decode("utf-8")
        try:
            # The scanner alone skips JSONDecoder.decode's two whitespace regex passes.
            value, end = _DECODER.scan_once(text, 0)  # type: ignore[attr-defined]
        except StopIteration:
            value, end = None, -1
        if end != len(text):
            value = _DECODER.decode(text)
    except (ValueError, RecursionError) as exc:
        # UnicodeDecodeError and int-digit limits are ValueErrors too.
        raise MalformedTokenError(f"the {what} is not valid JSON") from exc
    if type(value) is not dict:
        raise MalformedTokenError(f"the {what} is not a JSON object")
    return value


class ParsedToken(NamedTuple):
    """A token split and base64url-decoded, its header parsed; the payload JSON is parsed later.

    ``payload`` holds the decoded payload bytes, parsed by :func:`decode_payload` once the
    signature checked out.
    """

    header: dict[str, Any]
    alg: str
    kid: str | None
    signing_input: bytes
    payload: bytes
    signature: bytes


def parse_token(token: Any, max_size: int = DEFAULT_MAX_TOKEN_SIZE) -> ParsedToken:
    """Split ``token`` into header, payload and signature, checking structure and size first.

    A refusal names the common mistake when it sees one (an ``Authorization`` header's
    ``Bearer `` scheme left on, surrounding whitespace), never the token itself.
    """
    try:
        return _parse_token(token, max_size)
    except MalformedTokenError as exc:
        hint = _mistake(token)
        if not hint:
            raise
        raise MalformedTokenError(f"{exc}: {hint}") from None


def _mistake(token: Any) -> str:
    """The usual mistake behind a malformed ``token``, as a fix to suggest; "" when none is seen."""
    if isinstance(token, (bytes, bytearray)):
        token = bytes(token).decode("latin-1")
    if not isinstance(token, str):
        return ""
    if token[:7].lower() == "bearer ":
        return "pass the token alone, without the 'Bearer ' of the Authorization header"
    if token != token.strip():
        return "it has leading or trailing whitespace; strip it"
    if token.count(".") == 4:
        return "it has five segments, an encrypted JWE, which is not supported"
    return ""


def _parse_token(token: Any, max_size: int) -> ParsedToken:
    """Split ``token`` into header, payload and signature, checking structure and size first.

    Raises ``MalformedTokenError`` for anything that is not three base64url segments within
    ``max_size`` characters with a JSON-object header, and ``InvalidClaimError`` for a header
    whose ``alg`` or ``kid`` is not a string. The returned ``header`` dict is shared: read only.
    """
    if type(token) is str:
        if len(token) > max_size:
            raise MalformedTokenError(f"the token is longer than {max_size} characters")
        try:
            raw = token.encode("ascii")
        except UnicodeEncodeError:
            raise MalformedTokenError("the token is not three base64url segments") from None
    elif isinstance(token, (bytes, bytearray, str)):
        if len(token) > max_size:
            raise MalformedTokenError(f"the token is longer than {max_size} characters")
        try:
            raw = str(token).encode("ascii") if isinstance(token, str) else bytes(token)
        except UnicodeEncodeError:
            raise MalformedTokenError("the token is not three base64url segments") from None
    else:
        raise MalformedTokenError("the token is not a string")
    # Segments are checked against the alphabet as they are decoded; a cached header segment was
    # checked when it was first decoded.
    parts = raw.split(b".")
    if len(parts) != 3:
        raise MalformedTokenError("the token is not three base64url segments")
    header_segment, payload_segment, signature_segment = parts
    if not header_segment or not payload_segment:
        raise MalformedTokenError("the token is not three base64url segments")
    known = _HEADERS.get(header_segment)
    if known is None:
        known = _parse_header(header_segment)
        if len(_HEADERS) >= _HEADERS_MAX:
            _HEADERS.clear()
        _HEADERS[header_segment] = known
    return _tuple_new(
        ParsedToken,
        (
            known[0],
            known[1],
            known[2],
            raw[: len(header_segment) + len(payload_segment) + 1],
            _b64decode(payload_segment, "payload"),
            _b64decode(signature_segment, "signature"),
        ),
    )


def _parse_header(segment: bytes) -> tuple[dict[str, Any], str, str | None]:
    header = _json_object(_b64decode(segment, "header"), "header")
    alg = header.get("alg")
    if type(alg) is not str:
        raise InvalidClaimError("the header 'alg' is missing or not a string", claim="alg")
    kid = header.get("kid")
    if kid is not None and type(kid) is not str:
        raise InvalidClaimError("the header 'kid' is not a string", claim="kid")
    return header, alg, kid


def decode_payload(parsed: ParsedToken) -> dict[str, Any]:
    """The payload of a parsed token as a dict (call after the signature checked out)."""
    # The payload keeps the last of duplicate claim names (RFC 7519 section 4 allows it); orjson
    # parses it several times faster than the standard library and refuses NaN and Infinity.
    try:
        value = orjson.loads(parsed.payload)
    except orjson.JSONDecodeError as exc:
        raise MalformedTokenError("the payload is not valid JSON") from exc
    if type(value) is not dict:
        raise MalformedTokenError("the payload is not a JSON object")
    return value


def unverified_issuer(token: Any, max_size: int = DEFAULT_MAX_TOKEN_SIZE) -> str:
    """The ``iss`` of a token whose signature is NOT checked: only to route it to a verifier."""
    iss = decode_payload(parse_token(token, max_size)).get("iss")
    if type(iss) is not str:
        raise InvalidIssuerError("the token has no issuer")
    return iss
