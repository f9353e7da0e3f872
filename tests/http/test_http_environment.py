"""What each shell takes from the environment: proxies and NO_PROXY yes, ~/.netrc credentials no.

The environment is read once, when the client is built, and the core decides the proxy of each
request (midil_common.http.proxies), so both shells route alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from midil_common.http import RetryPolicy

FAST = RetryPolicy(sleep=False, max_attempts=1)
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def clean_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


async def test_environment_proxy_receives_the_absolute_url(
    make: Any, server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", server.url())
    client = make("HttpClient", retry=FAST)
    response = await client.get("http://service.invalid/path?q=1")
    assert response.status_code == 200
    assert server.requests[0].path == "http://service.invalid/path?q=1"


async def test_no_proxy_hosts_bypass_the_environment_proxy(
    make: Any, server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    client = make("HttpClient", retry=FAST)
    response = await client.get(server.url("/direct"))
    assert response.status_code == 200
    assert server.requests[0].path == "/direct"


async def test_netrc_credentials_are_never_sent(
    make: Any, server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password netrc-password\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    client = make("HttpClient", retry=FAST)
    await client.get(server.url("/plain"))
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    proxied = make("HttpClient", retry=FAST)  # the environment-proxy path of the sync shell too
    await proxied.get(server.url("/with-proxy-env"))
    assert [r.path for r in server.requests] == ["/plain", "/with-proxy-env"]
    assert all("authorization" not in r.headers for r in server.requests)
