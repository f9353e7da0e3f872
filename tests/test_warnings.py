"""The suite runs without warnings: any new one fails it (``filterwarnings`` in pyproject.toml)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest


def test_warnings_are_errors(pytestconfig: pytest.Config) -> None:
    filters = [str(f) for f in pytestconfig.getini("filterwarnings")]
    assert filters[0] == "error"
    # Every exception to the rule is narrow: it names a category or a message, never all warnings.
    assert all(f.startswith("error") or f.count(":") >= 2 for f in filters), filters


@pytest.mark.skipif(importlib.util.find_spec("fastapi") is None, reason="the fastapi extra")
def test_the_fastapi_test_client_imports_without_a_warning() -> None:
    # Starlette's test client deprecates running on httpx; the test extra installs httpx2 for it.
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", "import fastapi.testclient"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
