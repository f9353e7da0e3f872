"""The JSON:API part of the demo runs and shows what it promises."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo_jsonapi.py"


def test_demo_jsonapi_builds_a_document_and_rejects_a_broken_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = importlib.util.spec_from_file_location("demo_jsonapi_under_test", DEMO)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # pydantic resolves the demo model's annotations through sys.modules.
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    module.main()
    out = capsys.readouterr().out
    start = out.index("{", out.index("A compound document"))
    end = out.index("\n}\n", start) + 2
    document = json.loads(out[start:end])
    assert len(document["data"]) == 2 and document["included"][0]["type"] == "people"
    assert "identical JSON" in out
    assert '"pointer": "/included/1"' in out
    assert "HTTP 400" in out
