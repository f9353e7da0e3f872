"""The ``midil`` command line (a console script; click over the sync shell).

Only the console script imports this package: ``import midil_sync`` never loads click. The
package is private (``_cli``) because its contract is the command, not Python names, and it has no
twin in ``midil_async`` (DESIGN rule 3 holds for the library's API). Each command group is a
module; commands import the kit's clients when they run, so ``midil --help`` and the commands that
need no extra work with the core dependencies alone, and one that needs boto3 says which extra to
install.

Every failure is one line on stderr and a non-zero exit status (see ``_common``); ``midil --debug``
adds the traceback and the kit's debug logs. No command prints a secret or a token it was not asked
for: tokens are read from stdin or a prompt, client secrets from the environment or a prompt.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

import click

from midil_sync._cli._common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE

__all__ = ["cli", "main", "run"]

_state = {"debug": False}

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT_SETTINGS)
@click.option(
    "--debug",
    is_flag=True,
    help="On failure print the traceback, and log the kit's debug messages to stderr.",
)
@click.version_option(package_name="midil-kit", prog_name="midil")
def cli(debug: bool) -> None:
    """midil-kit from the shell: tokens, JSON:API, a local issuer, settings, SQS, EventBridge
    and EventBridge Scheduler.

    Every command takes --output json|text and --help. Failures are one line on stderr with
    exit status 1 (2 for a usage error).
    """
    _state["debug"] = debug
    if debug:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        logger = logging.getLogger("midil")
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)


def _register() -> None:
    from midil_sync._cli import events, issuer, jsonapi, schedule, settings, sqs, token

    for module in (token, jsonapi, issuer, settings, sqs, events, schedule):
        cli.add_command(module.group)


_register()


def _line(text: str) -> str:
    """``text`` on one line, without a character the terminal would obey (an error message may
    quote a setting's name or a server's words)."""
    from midil_sync._cli._common import printable

    return printable(" ".join(str(text).split()))


def _fail(message: str, code: int) -> int:
    if _state["debug"]:
        traceback.print_exc()
    click.echo(f"midil: {_line(message)}", err=True)
    return code


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``); the exit status."""
    from midil_common.errors import MidilError

    _state["debug"] = False
    try:
        result = cli.main(
            args=list(argv) if argv is not None else None, prog_name="midil", standalone_mode=False
        )
    except click.UsageError as exc:
        where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        return _fail(f"error: {exc.format_message()}{where}", EXIT_USAGE)
    except click.ClickException as exc:
        return _fail(f"error: {exc.format_message()}", exc.exit_code)
    except click.Abort:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:
        # The reader went away (``midil ... | head``): nothing more to say, to anyone.
        _quiet_stdout()
        return EXIT_FAILED
    except MidilError as exc:
        return _fail(f"error: {exc} ({type(exc).__name__})", EXIT_FAILED)
    except ImportError as exc:
        if "pip install" in str(exc):
            return _fail(f"error: {exc}", EXIT_FAILED)
        return _unexpected(exc)
    except Exception as exc:
        return _unexpected(exc)
    return result if isinstance(result, int) else 0


def _unexpected(exc: Exception) -> int:
    hint = "" if _state["debug"] else " (run 'midil --debug ...' for the traceback)"
    return _fail(f"unexpected error: {type(exc).__name__}: {exc}{hint}", EXIT_FAILED)


def _quiet_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """The console script ``midil``."""
    sys.exit(run(argv))
