"""Turning ``json=``, ``data=`` and ``files=`` into request bytes, identically for both shells.

Everything that can be encoded up front becomes ``bytes`` (so it can be replayed on a retry); only an
iterator or generator the caller handed over is passed through as a stream, and such a request is never
retried because its body cannot be sent twice.
"""

from __future__ import annotations

import json as _json
from collections.abc import AsyncIterable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from midil_common.errors import ConfigError

__all__ = [
    "Body",
    "FileSpec",
    "FilesInput",
    "declared_length",
    "encode_body",
    "encode_multipart",
]

_MAX_LENGTH_DIGITS = 18

FileSpec = bytes | str | Any | tuple[str, Any] | tuple[str, Any, str]
"""A file part: content (bytes, str or a readable file), ``(filename, content)`` or
``(filename, content, content_type)``."""

FilesInput = Mapping[str, FileSpec] | Iterable[tuple[str, FileSpec]] | None


@dataclass(frozen=True, slots=True)
class Body:
    """An encoded request body: ``content`` bytes, or a ``stream`` the shell hands to its library."""

    content: bytes | None = None
    content_type: str | None = None
    stream: Any = None

    @property
    def replayable(self) -> bool:
        """True when the body can be sent again on a retry."""
        return self.stream is None


_EMPTY = Body()


def encode_body(
    *,
    json: Any = None,
    data: Any = None,
    files: FilesInput = None,
    boundary: str | None = None,
) -> Body:
    """Encode the body arguments of a request; more than one kind at once is a ``ConfigError``.

    ``data`` may be a mapping (form-encoded, or multipart fields when ``files`` is given), bytes, a
    string (UTF-8), a readable file (read once, so it can be replayed), or an iterator of bytes (sync or
    async, streamed and never retried).
    """
    if json is not None:
        if data is not None or files is not None:
            raise ConfigError("pass either json= or data=/files=, not both")
        try:
            text = _json.dumps(json, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"json= is not JSON-serialisable: {type(exc).__name__}") from None
        return Body(text.encode("utf-8"), "application/json")
    if files is not None:
        if data is not None and not isinstance(data, Mapping):
            raise ConfigError("with files=, data= must be a mapping of form fields")
        return encode_multipart(data or {}, files, boundary=boundary)
    if data is None:
        return _EMPTY
    if isinstance(data, (bytes, bytearray, memoryview)):
        return Body(bytes(data))
    if isinstance(data, str):
        return Body(data.encode("utf-8"))
    if isinstance(data, Mapping):
        return Body(
            urlencode(list(_form_pairs(data))).encode("ascii"),
            "application/x-www-form-urlencoded",
        )
    if hasattr(data, "read"):
        return Body(_read_all(data))
    if isinstance(data, (Iterable, AsyncIterable)):
        return Body(stream=data)
    raise ConfigError(f"unsupported data= type {type(data).__name__}")


def encode_multipart(
    fields: Mapping[str, Any], files: FilesInput, *, boundary: str | None = None
) -> Body:
    """A ``multipart/form-data`` body (RFC 7578) with the form ``fields`` then the ``files``."""
    import uuid  # here: uuid loads platform, a cost every plain import would pay

    mark = boundary or uuid.uuid4().hex
    chunks: list[bytes] = []
    for name, value in _form_pairs(fields):
        chunks.append(_part_head(mark, name, None, None))
        chunks.append(value.encode("utf-8") + b"\r\n")
    items = files.items() if isinstance(files, Mapping) else (files or ())
    for name, spec in items:
        filename, content, ctype = _file_parts(name, spec)
        chunks.append(_part_head(mark, name, filename, ctype or "application/octet-stream"))
        chunks.append(content + b"\r\n")
    chunks.append(f"--{mark}--\r\n".encode("ascii"))
    return Body(b"".join(chunks), f"multipart/form-data; boundary={mark}")


def _form_pairs(data: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for key, value in data.items():
        values = value if isinstance(value, (list, tuple)) else (value,)
        for v in values:
            if v is not None:
                yield str(key), v if isinstance(v, str) else str(v)


def _quote(value: str) -> str:
    # HTML's multipart encoding: only these three characters are escaped in a quoted name.
    return value.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22")


def _part_head(mark: str, name: str, filename: str | None, ctype: str | None) -> bytes:
    disposition = f'form-data; name="{_quote(name)}"'
    if filename is not None:
        disposition += f'; filename="{_quote(filename)}"'
    head = f"--{mark}\r\nContent-Disposition: {disposition}\r\n"
    if ctype is not None:
        head += f"Content-Type: {ctype}\r\n"
    return (head + "\r\n").encode("utf-8")


def _file_parts(name: str, spec: Any) -> tuple[str, bytes, str | None]:
    filename: str | None = None
    ctype: str | None = None
    content = spec
    if isinstance(spec, tuple):
        if len(spec) == 2:
            filename, content = spec
        elif len(spec) == 3:
            filename, content, ctype = spec
        else:
            raise ConfigError(f"files[{name!r}] must be (filename, content[, content_type])")
    if filename is None:
        filename = str(getattr(content, "name", name)).rsplit("/", 1)[-1]
    if isinstance(content, str):
        return filename, content.encode("utf-8"), ctype
    if isinstance(content, (bytes, bytearray, memoryview)):
        return filename, bytes(content), ctype
    if hasattr(content, "read"):
        return filename, _read_all(content), ctype
    raise ConfigError(f"files[{name!r}] content must be bytes, str or a readable file")


def _read_all(stream: Any) -> bytes:
    data = stream.read()
    if isinstance(data, str):
        return data.encode("utf-8")
    if not isinstance(data, (bytes, bytearray)):
        raise ConfigError("a file passed as a body must read() bytes or str")
    return bytes(data)


def declared_length(value: str | None) -> int | None:
    """The body length a ``Content-Length`` value declares, or None when it is absent.

    RFC 9110 section 8.6: ASCII digits, or a list of identical values (``5, 5``); anything else
    (a sign, a non-ASCII digit, 5,000 digits, differing values) raises ``ValueError`` with a short
    message that does not quote the value.
    """
    if value is None:
        return None
    parts = {p.strip() for p in value.split(",")} if "," in value else {value.strip()}
    if len(parts) != 1:
        raise ValueError("its Content-Length holds differing values")
    text = parts.pop()
    if not (text.isascii() and text.isdigit()) or len(text) > _MAX_LENGTH_DIGITS:
        raise ValueError("its Content-Length is not a number of bytes")
    return int(text)
