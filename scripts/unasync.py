"""Generate the ``midil_sync`` twins of the shell modules written once in ``midil_async``.

A shell module whose bodies differ between the shells only by ``async``/``await`` is written once,
in ``midil_async``; this script rewrites it token by token (as httpcore's ``scripts/unasync.py``
does): ``async def`` becomes ``def``, ``await`` goes, ``async with``/``async for`` lose their
``async``, and the names in :data:`RENAMES` swap for their sync twins (``midil_async`` for
``midil_sync``, ``aclose`` for ``close``, ...). What truly differs between threads and an event
loop lives in each shell's ``_primitives`` module, which this script does not touch. The output is
sorted and formatted by ruff and carries a header naming its source.

    python scripts/unasync.py           # write the sync twins
    python scripts/unasync.py --check   # exit 1 if a twin is stale or was edited by hand
"""

from __future__ import annotations

import argparse
import difflib
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FILES = [
    "http/client.py",
    "http/providers.py",
    "auth/authorizers.py",
    "auth/users.py",
    "auth/oauth_client.py",
    "auth/remote_permissions.py",
    "events/dispatcher.py",
    "events/periodic.py",
    "events/sqs_consumer.py",
    "events/_clients.py",
    "events/sqs_publisher.py",
    "events/eventbridge.py",
    "events/scheduler.py",
    "events/lambda_handler.py",
]
"""Modules under ``midil_async/`` whose twins under ``midil_sync/`` are generated."""

RENAMES = {
    "midil_async": "midil_sync",
    "AsyncIterator": "Iterator",
    "AsyncIterable": "Iterable",
    "AsyncGenerator": "Generator",
    "asynccontextmanager": "contextmanager",
    "AsyncAuthProvider": "AuthProvider",
    "AsyncAuthorizer": "Authorizer",
    "StopAsyncIteration": "StopIteration",
    "__aenter__": "__enter__",
    "__aexit__": "__exit__",
    "__aiter__": "__iter__",
    "__anext__": "__next__",
    "aclose": "close",
    "aiter_bytes": "iter_bytes",
    "aiter_lines": "iter_lines",
    "aiter_text": "iter_text",
    "aiter_capped": "iter_capped",
}
"""Whole-word renames (code, strings and docstrings alike)."""

PHRASES = {
    # The events shell (dispatcher, periodic tasks): replaced before the general wording below.
    "Coroutine handlers are awaited; plain ones run in a worker thread, so they never block the loop.": (
        "Handlers are plain functions: an ``async def`` function is refused with ``ConfigError``."
    ),
    "A coroutine function is awaited; a plain function runs in a worker thread.": (
        "A plain function: an ``async def`` function is refused with ``ConfigError``."
    ),
    "workers still busy are cancelled": "workers still busy finish their current handler in the background",
    "Each loop has a run of its own: a dispatcher serves one ``asyncio.run`` after another.\n": "",
    "Each loop has a run of its own: a task serves one ``asyncio.run`` after another.\n": "",
    "an awaitable ``sleep(seconds)``": "a blocking ``sleep(seconds)``",
    "worker task": "worker thread",
    " (one per loop)": "",
    "coroutines ": "",
    "coroutine ": "",
    "concurrent tasks": "concurrent threads",
    "Concurrent tasks": "Concurrent threads",
    "tasks asking": "threads asking",
    "per event loop": "per client",
    "this event loop": "this client",
}
"""Wording of the async docstrings that the sync shell says otherwise."""

_KEYWORDS = [
    (re.compile(r"\basync def\b"), "def"),
    (re.compile(r"\basync with\b"), "with"),
    (re.compile(r"\basync for\b"), "for"),
    (re.compile(r"\bawait "), ""),
]
_NAMES = re.compile(r"\b(" + "|".join(map(re.escape, RENAMES)) + r")\b")
_BANNED = re.compile(r"\b(asyncio|httpx|aiobotocore|event loops?)\b")


def header(source: str) -> str:
    """The first lines of a generated file."""
    return (
        f"# Generated from {source} by scripts/unasync.py: do not edit by hand.\n"
        "# Change the async module and run `make unasync`.\n"
    )


def rewrite(text: str) -> str:
    """The sync twin of an async module's text (before formatting)."""
    for pattern, replacement in _KEYWORDS:
        text = pattern.sub(replacement, text)
    text = _NAMES.sub(lambda m: RENAMES[m.group(1)], text)
    for phrase, replacement in PHRASES.items():
        text = text.replace(phrase, replacement)
    return text


def _ruff(args: list[str], text: str, name: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "ruff", *args, "--stdin-filename", name, "-"],
        input=text,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if done.returncode not in (0, 1) or not done.stdout:
        raise SystemExit(f"ruff {' '.join(args)} failed on {name}:\n{done.stderr}")
    return done.stdout


def generate(relative: str) -> str:
    """The complete generated text of ``midil_sync/<relative>``."""
    source = ROOT / "midil_async" / relative
    target = f"midil_sync/{relative}"
    text = rewrite(source.read_text())
    leftover = _BANNED.search(text)
    if leftover is not None:
        line = text.count("\n", 0, leftover.start()) + 1
        raise SystemExit(
            f"midil_async/{relative}:{line} names {leftover.group()!r}, which has no sync twin: "
            "move it into midil_async/_primitives.py or the transport"
        )
    # Imports re-sorted after the renames, and ``for x in y: yield x`` made ``yield from y``.
    text = _ruff(
        ["check", "--fix", "--unsafe-fixes", "--select", "I,F401,UP028", "--quiet"], text, target
    )
    text = _ruff(["format", "--quiet"], text, target)
    return header(f"midil_async/{relative}") + text


def main(argv: list[str] | None = None) -> int:
    """Write the twins, or with ``--check`` report the stale ones."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail on a stale twin")
    args = parser.parse_args(argv)
    stale = []
    for relative in FILES:
        target = ROOT / "midil_sync" / relative
        wanted = generate(relative)
        current = target.read_text() if target.exists() else ""
        if current == wanted:
            continue
        if args.check:
            stale.append(relative)
            diff = difflib.unified_diff(
                wanted.splitlines(keepends=True),
                current.splitlines(keepends=True),
                f"generated midil_sync/{relative}",
                f"midil_sync/{relative}",
                n=1,
            )
            sys.stdout.writelines(list(diff)[:40])
        else:
            target.write_text(wanted)
            print(f"wrote midil_sync/{relative}")
    if stale:
        print(
            f"stale or hand-edited: {', '.join('midil_sync/' + s for s in stale)}; "
            "edit the midil_async module and run `make unasync`",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
