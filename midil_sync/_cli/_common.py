"""What every command shares: ``--output``, printing, reading input, and turning failures into one
line on stderr with an exit status.

Exit statuses: 0 success; 1 the operation failed (an invalid token or document, an AWS error, a
kit error); 2 a usage error; 130 interrupted before the command could finish on its own.
"""

from __future__ import annotations

import json
import os
import sys
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any, TypeVar

import click

__all__ = [
    "EXIT_FAILED",
    "CommandFailed",
    "aws_options",
    "echo_json",
    "is_terminal",
    "json_printable",
    "output_option",
    "printable",
    "read_data",
    "read_secret_line",
    "read_text",
    "render_time",
]

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

F = TypeVar("F", bound=Callable[..., Any])


class CommandFailed(click.ClickException):
    """The operation failed: one line on stderr, exit status 1 (its output, if any, is printed
    before it is raised)."""

    exit_code = EXIT_FAILED


def output_option(func: F) -> F:
    """``--output json|text`` (text by default)."""
    return click.option(
        "--output",
        "-o",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="Output format: text for people, json for scripts (one JSON document on stdout).",
    )(func)


def aws_options(func: F) -> F:
    """``--region`` and ``--endpoint-url``, defaulting to the ``MIDIL_EVENTS__`` settings."""
    func = click.option(
        "--endpoint-url",
        envvar="MIDIL_EVENTS__ENDPOINT_URL",
        show_envvar=True,
        metavar="URL",
        callback=_endpoint_url,
        help="Another AWS endpoint: a local emulator such as moto or LocalStack.",
    )(func)
    return click.option(
        "--region",
        envvar="MIDIL_EVENTS__REGION",
        show_envvar=True,
        metavar="REGION",
        help="The AWS region (default: the AWS configuration's, AWS_REGION).",
    )(func)


def _endpoint_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--endpoint-url`` checked as the settings check ``MIDIL_EVENTS__ENDPOINT_URL``: the option
    (and the variable, read here without the settings) would otherwise reach botocore, whose
    ``Invalid endpoint: <url>`` quotes a password in the URL's user info."""
    if value is None:
        return None
    from midil_common.errors import InvalidURLError
    from midil_common.http.urls import check_url

    try:
        return check_url(value, what="endpoint URL")
    except InvalidURLError as exc:
        message = str(exc)  # check_url never echoes the URL
    raise click.BadParameter(message, ctx=ctx, param=param)


def is_terminal(stream: Any) -> bool:
    """Whether ``stream`` is an interactive terminal (progress is shown only there)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    return str(value)


def echo_json(value: Any, *, compact: bool = False) -> None:
    """One JSON document on stdout (``compact``: on one line, as a long-running command's
    records are, one per line)."""
    indent = None if compact else 2
    try:
        # allow_nan=False: NaN and Infinity are not JSON, and a script's parser would refuse the
        # whole document.
        text = json.dumps(
            value, indent=indent, default=_default, ensure_ascii=False, allow_nan=False
        )
    except ValueError:
        raise CommandFailed(
            "the output holds a number JSON cannot represent (NaN or Infinity)"
        ) from None
    click.echo(json_printable(text))


def json_printable(text: str) -> str:
    """JSON ``text`` with DEL, C1 controls, format (bidi, zero-width) characters and line
    separators written as ``\\uXXXX`` escapes: json.dumps escapes C0 controls alone, and a
    terminal obeys C1 ones (U+009B is CSI) as it does ESC. Outside strings JSON is ASCII, so every
    such character is inside a string, where the escape means the same character."""
    if text.isascii() and "\x7f" not in text:
        return text
    # Below DEL only the structure's newlines and spaces remain: json.dumps escaped the rest.
    return "".join(_json_escape(c) if c >= "\x7f" and _unsafe(c) else c for c in text)


def _json_escape(char: str) -> str:
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # a UTF-16 surrogate pair, as JSON writes characters beyond the BMP
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


# Cc: C0 and C1 controls and DEL; Cf: format characters (bidi overrides and isolates, zero-width
# ones, tags); Zl and Zp: line and paragraph separators; Cs: lone surrogates, which cannot be
# written as UTF-8 at all.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def _unsafe(char: str) -> bool:
    return unicodedata.category(char) in _UNSAFE_CATEGORIES


def printable(text: str) -> str:
    """``text`` for a terminal: control characters (newline and CR included, so a value stays on
    its line and cannot overwrite others), DEL, C1 controls, bidi and other format characters
    written as ``\\r``, ``\\x1b``, ``\\u202e`` or ``\\U000e0001``. A claim, a header, a query
    string or a setting is text from elsewhere; printed raw, its escape sequences would drive the
    terminal (move the cursor, set the title, hide text) and make output lie."""
    if text.isprintable():  # the common case; isprintable() is False for every escaped character
        return text
    return "".join(_text_escape(c) if _unsafe(c) else c for c in text)


def _text_escape(char: str) -> str:
    # Python's own escapes: \t, \r, \x1b, \u202e, \U000e0001 (a lone surrogate too).
    return char.encode("unicode_escape").decode("ascii")


def render_time(seconds: Any) -> str:
    """Epoch seconds as ``1700000000 (2023-11-14T22:13:20Z)``; other values as they are."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        return str(seconds)
    try:
        when = datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return str(seconds)
    shown_number = int(seconds) if float(seconds).is_integer() else round(seconds, 3)
    return f"{shown_number} ({when.strftime('%Y-%m-%dT%H:%M:%SZ')})"


def read_text(source: str, what: str) -> str:
    """The text of the file ``source``, or of stdin for ``-``."""
    if source == "-":
        return sys.stdin.read()
    try:
        with open(source, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise CommandFailed(f"cannot read {what} {source!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise CommandFailed(f"{what} {source!r} is not UTF-8 text") from None


def read_data(value: str | None) -> Any:
    """The JSON value of ``--data``: inline JSON, ``@FILE``, or ``-`` for stdin; None stays None."""
    if value is None:
        return None
    text = value
    if value == "-":
        text = sys.stdin.read()
    elif value.startswith("@"):
        text = read_text(value[1:], "the data file")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise click.BadParameter(f"not valid JSON ({exc.args[0]})", param_hint="--data") from None


def read_secret_line(prompt: str) -> str:
    """A secret from a hidden prompt on a terminal, else the first line of stdin (piped from a
    secret store); never from the command line."""
    if is_terminal(sys.stdin):
        value: str = click.prompt(prompt, hide_input=True, err=True)
        return value
    return sys.stdin.readline().rstrip("\r\n")


def token_argument_value(token: str | None) -> str:
    """A token given as an argument, or read from stdin when it is ``-`` or absent (a hidden prompt
    on a terminal): reading it keeps it out of the shell history."""
    if token is not None and token != "-":
        return token.strip()
    if token is None and is_terminal(sys.stdin):
        value: str = click.prompt("Token", hide_input=True, err=True)
        return value.strip()
    return sys.stdin.read().strip()


def text_block(pairs: Iterable[tuple[str, Any]], indent: str = "") -> None:
    """``name: value`` lines, names aligned."""
    items = [(printable(name), printable(str(value))) for name, value in pairs]
    width = max((len(name) for name, _ in items), default=0)
    for name, value in items:
        click.echo(f"{indent}{name.ljust(width)}  {value}")


def shown(value: Any) -> str:
    """A value for a text line (see :func:`printable`): strings as they are, the rest as compact
    JSON."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, (set, frozenset)):
        value = sorted(value)
    return printable(json.dumps(value, default=_default, ensure_ascii=False))


def environ_has(name: str) -> bool:
    """Whether the environment sets ``name`` (case-insensitively, as the settings read it)."""
    upper = name.upper()
    return any(key.upper() == upper for key in os.environ)


def mapping_rows(value: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(name, shown value)`` rows of a mapping, in its order."""
    return [(str(k), shown(v)) for k, v in value.items()]
