"""Run the real ``midil`` console script in a subprocess.

``midil`` is the script pip installed next to the interpreter running the tests; every test runs it
with a clean environment (no ``MIDIL_...`` variable of the developer's shell, dummy AWS
credentials) plus what the test adds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from midil_common.testing import LocalIssuer

BIN = Path(sys.executable).parent
MIDIL = shutil.which("midil", path=str(BIN)) or str(BIN / "midil")


@dataclass
class Result:
    """A finished ``midil`` run."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def one_error_line(self) -> str:
        """The failure's single stderr line (asserting there is exactly one, and no traceback)."""
        lines = self.stderr.splitlines()
        assert len(lines) == 1, self.stderr
        assert "Traceback" not in self.stderr
        assert lines[0].startswith("midil: "), lines[0]
        return lines[0]


def base_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith(("MIDIL_", "AWS_", "PYTHON"))
    }
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        NO_COLOR="1",
    )
    env.update(extra)
    return env


Run = Callable[..., Result]


@pytest.fixture
def midil(tmp_path: Path) -> Run:
    """``midil(*args, input=None, env={...}, timeout=30)``: run the console script."""

    def run(
        *args: str, input: str | None = None, env: dict[str, str] | None = None, timeout: float = 30
    ) -> Result:
        argv = [MIDIL, *args]
        done = subprocess.run(
            argv,
            input=input if input is not None else "",
            capture_output=True,
            text=True,
            env=base_env(**(env or {})),
            cwd=tmp_path,
            timeout=timeout,
        )
        return Result(argv, done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    with LocalIssuer(audience="orders-api") as local:
        local.register_client("billing", "s3cret-Value-42", scopes=["orders:read", "orders:write"])
        yield local


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """``spawn(*args, env={...})``: start the console script (stdout and stderr piped); any process
    still running at the end of the test is killed."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [MIDIL, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=base_env(**(env or {})),
            cwd=tmp_path,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


@pytest.fixture
def midil_script() -> str:
    """The path of the installed ``midil`` script."""
    return MIDIL


@pytest.fixture
def cli_env() -> Callable[..., dict[str, str]]:
    """``cli_env(**extra)``: the environment the ``midil`` fixtures run the script with."""
    return base_env
