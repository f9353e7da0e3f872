"""examples/demo_web.py: the demo the lead's ``make demo`` runs."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def test_demo_web_main(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("demo_web", EXAMPLES / "demo_web.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main()
    out = capsys.readouterr()
    assert "without a token: 401 application/vnd.api+json" in out.out
    assert 'WWW-Authenticate: Bearer realm="articles"' in out.out
    assert "?include=author&sort=-created: 200 application/vnd.api+json" in out.out
    assert "included: 2 people" in out.out
    assert "with an expired token: 401" in out.out and "token_expired" in out.out
    assert "lacking the scope: 403" in out.out and 'scope="articles:read"' in out.out
    assert "bad sort parameter: 400" in out.out
    assert out.err == ""
