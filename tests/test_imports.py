"""What an import loads: a plain HttpClient import costs about its HTTP library, nothing more."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("cryptography", "jwt", "pydantic_settings", "pydantic", "orjson")


def loaded_after(statement: str) -> set[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(done.stdout))


@pytest.mark.parametrize(
    ("statement", "library", "other"),
    [
        ("from midil_sync import HttpClient", "requests", "httpx"),
        ("from midil_async import HttpClient", "httpx", "requests"),
    ],
)
def test_a_plain_http_client_import_loads_no_jwt_or_settings_machinery(
    statement: str, library: str, other: str
) -> None:
    modules = loaded_after(statement)
    assert library in modules
    assert other not in modules  # each shell loads only its own HTTP library
    assert not {m for m in modules if m.split(".")[0] in HEAVY}


def test_the_authorizers_load_what_they_need_on_first_use() -> None:
    modules = loaded_after("import midil_sync\nmidil_sync.JWTAuthorizer")
    assert "jwt" in modules and "midil_sync.auth.authorizers" in modules
    assert "midil_sync.auth.authorizers" not in loaded_after("import midil_sync")


def test_the_async_client_import_leaves_asyncio_to_the_loop_that_runs_it() -> None:
    # An application that runs a loop has asyncio loaded already; a CLI or a Lambda handler
    # importing the kit should not pay for it before it starts one.
    assert "asyncio" not in loaded_after("from midil_async import HttpClient")
    assert "asyncio" not in loaded_after("import midil_async")
