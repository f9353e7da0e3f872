"""``midil issuer serve``, and what every command shares: --help, one-line errors, --debug, the
installed script, and ``import midil_sync`` not loading click."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest

from midil_sync._cli import cli, run


def _leaf_commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += _leaf_commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


def test_issuer_serve_prints_a_client_whose_tokens_verify(spawn: Any, midil: Any) -> None:
    process = spawn("issuer", "serve", "--port", "0", "--audience", "api", "-o", "json")
    info = json.loads(process.stdout.readline())
    assert info["discovery_url"] == info["issuer"] + "/.well-known/openid-configuration"
    env = {"MIDIL_SERVICE_AUTH__CLIENT_SECRET": info["client_secret"]}
    fetched = midil(
        "token", "fetch", "--token-url", info["token_url"], "--client-id", info["client_id"],
        "--scope", "read", "--show-token", env=env,
    )  # fmt: skip
    assert fetched.returncode == 0, fetched.stderr
    verified = midil(
        "token", "verify", "--issuer", info["issuer"], "--audience", "api", "-o", "json",
        input=fetched.stdout,
    )  # fmt: skip
    assert verified.returncode == 0 and verified.json()["claims"]["scope"] == "read"
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=10) == 0


def test_issuer_serve_in_text_until_ctrl_c(spawn: Any) -> None:
    process = spawn("issuer", "serve", "--port", "0")
    lines = []
    while not lines or lines[-1] != "Serving until Ctrl-C.":
        lines.append(process.stdout.readline().rstrip("\n"))
        assert len(lines) < 40, lines
    fields = dict(line.split(None, 1) for line in lines if line and not line.startswith(" "))
    assert fields["issuer"].startswith("http://127.0.0.1:") and fields["client_id"] == "dev-client"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    paths = _leaf_commands(cli)
    assert len(paths) >= 20
    for path in paths:
        assert run([*path, "--help"]) == 0, path
        out = capsys.readouterr().out
        assert out.startswith("Usage: midil"), path
        command = cli
        for name in path:
            command = command.commands[name]  # type: ignore[attr-defined]
        if not isinstance(command, click.Group):
            assert "--output" in out, path  # --output json|text everywhere


def test_the_installed_script_and_python_m_agree(midil: Any, midil_script: str) -> None:
    assert Path(midil_script).name == "midil" and os.access(midil_script, os.X_OK)
    script = midil("--help")
    module = subprocess.run(
        [sys.executable, "-m", "midil_sync._cli", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert script.returncode == module.returncode == 0
    assert script.stdout == module.stdout
    assert "token" in script.stdout and "sqs" in script.stdout


def test_usage_errors_are_one_line_with_status_2(midil: Any) -> None:
    for args in (("nope",), ("jsonapi", "query"), ("token", "decode", "-o", "yaml")):
        done = midil(*args)
        assert done.returncode == 2, args
        assert "--help" in done.one_error_line()


def test_debug_adds_the_traceback(midil: Any) -> None:
    plain = midil("token", "decode", input="x")
    assert plain.returncode == 1 and "Traceback" not in plain.stderr
    debug = midil("--debug", "token", "decode", input="x")
    assert debug.returncode == 1
    assert "Traceback" in debug.stderr and debug.stderr.rstrip().endswith("(MalformedTokenError)")


def test_importing_the_kit_does_not_load_click() -> None:
    code = "import sys, midil_sync, midil_async, midil_common; print('click' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert done.stdout.strip() == "False", done.stderr
