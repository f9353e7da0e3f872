"""docs/architecture.md, rule 7: the kit logs under ``midil`` and prints nothing unless asked to."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("midil_common", "midil_sync", "midil_async")

# A key-set fetch that fails (nothing listens on the port) makes the verifier log a warning.
SCRIPT = textwrap.dedent(
    """
    import asyncio, logging, socket, sys
    {configure}
    from midil_common.errors import JWKSFetchError
    from midil_common.testing import LocalIssuer
    from midil_{shell} import JWTAuthorizer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: connections are refused
    token = LocalIssuer(audience="api").mint(iss="https://issuer.example")
    authorizer = JWTAuthorizer(
        "https://issuer.example", audience="api", jwks_url=f"http://127.0.0.1:{{port}}/jwks"
    )
    try:
        result = authorizer.verify(token)
        if asyncio.iscoroutine(result):
            asyncio.run(result)
    except JWKSFetchError:
        print("refused")
    else:
        sys.exit("verified without keys")
    """
)


def _run(shell: str, configure: str) -> subprocess.CompletedProcess[str]:
    script = SCRIPT.format(shell=shell, configure=configure)
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("shell", ["sync", "async"])
def test_nothing_is_printed_when_the_application_configures_no_logging(shell: str) -> None:
    result = _run(shell, configure="")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "refused\n"
    assert result.stderr == ""


@pytest.mark.parametrize("shell", ["sync", "async"])
def test_the_failure_is_logged_once_logging_is_configured(shell: str) -> None:
    result = _run(shell, configure="logging.basicConfig(level=logging.WARNING)")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "refused\n"
    assert result.stderr.startswith("WARNING:midil.auth:"), result.stderr


def test_the_midil_logger_has_only_a_null_handler() -> None:
    code = (
        "import logging, midil_common;"
        "handlers = logging.getLogger('midil').handlers;"
        "assert [type(h) for h in handlers] == [logging.NullHandler], handlers"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def _logger_names() -> list[tuple[str, str]]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "getLogger"
                ):
                    arg = node.args[0] if node.args else None
                    name = (
                        arg.value if isinstance(arg, ast.Constant) else ast.dump(arg) if arg else ""
                    )
                    found.append((path.relative_to(ROOT).as_posix(), str(name)))
    return found


def test_every_logger_of_the_kit_is_under_midil() -> None:
    names = _logger_names()
    assert names, "no logger found: the scan is broken"
    outside = [
        (path, name) for path, name in names if name != "midil" and not name.startswith("midil.")
    ]
    assert outside == []
