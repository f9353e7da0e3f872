"""Behavioural parity: each scenario runs on both shells (the ``shell`` fixture) over real loopback
sockets, and both must end the same way (docs/architecture.md, rules 3 and 8; docs/http.md, "The
environment").

- every ``Timeout`` field: ``connect``, ``read`` and ``write`` end in the same ``TimeoutError``; for
  ``pool`` the documented difference is pinned (the sync shell never waits for a pooled connection);
- the CA-bundle variables, each one alone and in order of precedence, and none at all;
- proxies from the environment, in the forms not already covered by ``test_http_environment.py``
  (which checks ``HTTP_PROXY`` and ``NO_PROXY=<host>`` on both shells);
- the same objects used twice: the async ones on two consecutive event loops, the sync ones twice
  (``test_http_event_loops.py`` covers the async objects alone).

The test names only public names, so it runs unchanged against an older tree.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import select
import shutil
import socket
import ssl
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from midil_common.errors import TimeoutError, TransportError
from midil_common.http import RetryPolicy, Timeout

from .conftest import FaultServer
from .test_http_tls import _issue, _write

FAST = RetryPolicy(sleep=False, max_attempts=1)

CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")
"""The documented variables, in order of precedence (docs/http.md, "The environment")."""
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CA_BUNDLE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


async def _eventually(condition: Callable[[], bool], within: float = 5.0) -> None:
    stop = time.monotonic() + within
    while not condition():
        assert time.monotonic() < stop, "condition not reached"
        await asyncio.sleep(0.01)


def _in_background(shell: str, client: Any, url: str) -> asyncio.Future[Any]:
    """Start ``client.get(url)`` without waiting for it: a thread (sync) or a task (async)."""
    if shell == "sync":
        return asyncio.ensure_future(asyncio.to_thread(client._target.get, url))
    return asyncio.ensure_future(client.get(url))


# --------------------------------------------------------------------------------- Timeout.*


@pytest.fixture
def full_backlog() -> Iterator[int]:
    """A loopback port whose accept queue is full: the kernel drops new SYNs, connect hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers: list[socket.socket] = []
    try:
        for _ in range(32):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
            if not select.select([], [filler], [], 0.1)[1]:
                break  # this one hangs: the queue is full
        else:
            pytest.skip("this system never lets a loopback connect hang on a full accept queue")
        yield port
    finally:
        for sock in (*fillers, listener):
            sock.close()


@pytest.fixture
def deaf_server() -> Iterator[int]:
    """Accepts connections with a tiny receive buffer and never reads from them."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # inherited by accepted ones
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    for sock in (listener, *accepted):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
    thread.join(5)


async def test_connect_timeout(make: Any, full_backlog: int) -> None:
    client = make("HttpClient", retry=FAST, timeout=Timeout(connect=0.2, read=5, write=5, pool=5))
    started = time.monotonic()
    with pytest.raises(TimeoutError) as info:
        await client.get(f"http://127.0.0.1:{full_backlog}/")
    assert (info.value.phase, info.value.request_sent) == ("connect", False)
    assert time.monotonic() - started < 3


async def test_read_timeout(make: Any, server: FaultServer) -> None:
    server.queue(FaultServer.Hang(5))
    client = make("HttpClient", retry=FAST, timeout=Timeout(connect=2, read=0.2, write=2, pool=2))
    started = time.monotonic()
    with pytest.raises(TimeoutError) as info:
        await client.get(server.url("/slow"))
    assert (info.value.phase, info.value.request_sent) == ("read", True)
    assert time.monotonic() - started < 3


async def test_write_timeout(make: Any, deaf_server: int) -> None:
    # Far more than the socket buffers hold, to a peer that never reads: the send blocks.
    body = b"x" * (32 * 1024 * 1024)
    client = make("HttpClient", retry=FAST, timeout=Timeout(connect=1, read=5, write=0.3, pool=5))
    started = time.monotonic()
    with pytest.raises(TimeoutError) as info:
        await client.post(f"http://127.0.0.1:{deaf_server}/upload", data=body)
    assert (info.value.phase, info.value.request_sent) == ("write", True)
    assert time.monotonic() - started < 4


async def test_pool_timeout_is_honoured_by_the_async_shell_only(
    make: Any, shell: str, server: FaultServer
) -> None:
    """The one documented difference: the async shell waits ``Timeout.pool`` for a pooled
    connection; the sync shell never waits (urllib3's ``block=False``), it opens another one."""
    server.queue(FaultServer.Hang(0.8))
    timeout = Timeout(connect=2, read=5, write=2, pool=0.2)
    client = make("HttpClient", retry=FAST, pool_maxsize=1, timeout=timeout)
    first = _in_background(shell, client, server.url("/first"))
    await _eventually(lambda: server.count == 1)
    if shell == "async":
        with pytest.raises(TimeoutError) as info:
            await client.get(server.url("/second"))
        assert (info.value.phase, info.value.request_sent) == ("pool", False)
        assert [r.path for r in server.requests] == ["/first"]
    else:
        response = await client.get(server.url("/second"))
        assert response.status_code == 200
        assert [r.path for r in server.requests] == ["/first", "/second"]
    with pytest.raises(TransportError):
        await first  # the hanging server closes the first connection without an answer


# ------------------------------------------------------------------------ CA-bundle variables


def _hashed_directory(directory: Path, ca_file: str) -> str:
    """A ``c_rehash``-style directory holding ``ca_file`` as ``<subject hash>.0``."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("SSL_CERT_DIR needs the openssl binary to name the hashed CA file")
    digest = subprocess.run(
        [openssl, "x509", "-hash", "-noout", "-in", ca_file],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.strip()
    directory.mkdir(exist_ok=True)
    shutil.copyfile(ca_file, directory / f"{digest}.0")
    return str(directory)


@pytest.fixture(scope="module")
def cas(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A CA that signed the server's certificate ("good") and one that did not ("other")."""
    directory = tmp_path_factory.mktemp("parity-pki")
    ca_key, ca_cert = _issue("parity-ca", None, ca=True)
    other_key, other_cert = _issue("unrelated-ca", None, ca=True)
    return {
        "dir": directory,
        "server": _write(
            directory, "server", *_issue("server", (ca_key, ca_cert.subject), server=True)
        ),
        "good": _write(directory, "good-ca", ca_key, ca_cert)[0],
        "other": _write(directory, "other-ca", other_key, other_cert)[0],
    }


def _location(cas: dict[str, Any], variable: str, which: str) -> str:
    """What ``variable`` is set to for the ``which`` CA: a file, or a hashed directory."""
    if variable == "SSL_CERT_DIR":
        return _hashed_directory(cas["dir"] / f"hashed-{which}", cas[which])
    return str(cas[which])


@pytest.fixture
def https_server(server_factory: Callable[[], FaultServer], cas: dict[str, Any]) -> FaultServer:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*cas["server"])
    srv = server_factory()
    srv.tls = context
    return srv


async def _trusts(make: Any, server: FaultServer) -> bool:
    client = make("HttpClient", retry=FAST, timeout=2)
    try:
        response = await client.get(server.url("/trust"))
    except TransportError:
        return False
    assert response.status_code == 200
    return True


async def test_without_a_ca_variable_a_private_ca_is_refused(
    make: Any, https_server: FaultServer
) -> None:
    assert not await _trusts(make, https_server)
    assert https_server.count == 0


@pytest.mark.parametrize("variable", CA_BUNDLE_VARIABLES)
async def test_each_ca_variable_alone_is_trusted(
    make: Any,
    https_server: FaultServer,
    cas: dict[str, Any],
    variable: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(variable, _location(cas, variable, "good"))
    assert await _trusts(make, https_server)


@pytest.mark.parametrize("winner_trusts", [True, False], ids=["first-good", "first-other"])
@pytest.mark.parametrize(
    ("first", "second"),
    list(itertools.pairwise(CA_BUNDLE_VARIABLES)),
    ids=lambda v: str(v),
)
async def test_the_first_ca_variable_set_wins(
    make: Any,
    https_server: FaultServer,
    cas: dict[str, Any],
    first: str,
    second: str,
    winner_trusts: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(first, _location(cas, first, "good" if winner_trusts else "other"))
    monkeypatch.setenv(second, _location(cas, second, "other" if winner_trusts else "good"))
    assert await _trusts(make, https_server) is winner_trusts


async def test_an_empty_ca_variable_is_ignored(
    make: Any, https_server: FaultServer, cas: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "")
    monkeypatch.setenv("SSL_CERT_FILE", cas["good"])
    assert await _trusts(make, https_server)


def test_the_documented_ca_variables_are_the_ones_the_core_decides() -> None:
    from midil_common.http.transport_rules import CA_BUNDLE_VARIABLES as decided

    assert tuple(decided) == CA_BUNDLE_VARIABLES


# ---------------------------------------------------------------------- proxies from the environment


def _target_url(target: FaultServer, host: str) -> str:
    return target.url("/where").replace("127.0.0.1", host)


ROUTES = {
    # name: (environment, host of the target URL, expected route)
    "lowercase-http_proxy": ({"http_proxy": "{proxy}"}, "127.0.0.1", "proxy"),
    "ALL_PROXY": ({"ALL_PROXY": "{proxy}"}, "127.0.0.1", "proxy"),
    "proxy-without-scheme": ({"HTTP_PROXY": "{proxy_hostport}"}, "127.0.0.1", "proxy"),
    "HTTPS_PROXY-not-for-http": ({"HTTPS_PROXY": "{proxy}"}, "127.0.0.1", "direct"),
    "NO_PROXY-star": ({"HTTP_PROXY": "{proxy}", "NO_PROXY": "*"}, "127.0.0.1", "direct"),
    "NO_PROXY-localhost": (
        {"HTTP_PROXY": "{proxy}", "NO_PROXY": "localhost"},
        "localhost",
        "direct",
    ),
    "lowercase-no_proxy": (
        {"HTTP_PROXY": "{proxy}", "no_proxy": "127.0.0.1"},
        "127.0.0.1",
        "direct",
    ),
    "NO_PROXY-list": (
        {"HTTP_PROXY": "{proxy}", "NO_PROXY": "example.com, 127.0.0.1"},
        "127.0.0.1",
        "direct",
    ),
    "NO_PROXY-other-host": (
        {"HTTP_PROXY": "{proxy}", "NO_PROXY": "example.com"},
        "127.0.0.1",
        "proxy",
    ),
}

# Forms of NO_PROXY on which requests and httpx disagreed; the core's ProxyRules settles them.
ROUTES.update(
    {
        "NO_PROXY-host-port": (
            {"HTTP_PROXY": "{proxy}", "NO_PROXY": "127.0.0.1:{port}"},
            "127.0.0.1",
            "direct",
        ),
        "NO_PROXY-other-port": (
            {"HTTP_PROXY": "{proxy}", "NO_PROXY": "127.0.0.1:1"},
            "127.0.0.1",
            "proxy",
        ),
        "NO_PROXY-cidr": (
            {"HTTP_PROXY": "{proxy}", "NO_PROXY": "127.0.0.0/8"},
            "127.0.0.1",
            "direct",
        ),
        "NO_PROXY-leading-dot": (
            {"HTTP_PROXY": "{proxy}", "NO_PROXY": ".localhost"},
            "localhost",
            "direct",
        ),
    }
)


def _route_cases() -> list[Any]:
    return [pytest.param(env, host, route, id=name) for name, (env, host, route) in ROUTES.items()]


async def _route(make: Any, target: FaultServer, proxy: FaultServer, host: str) -> str:
    client = make("HttpClient", retry=FAST, timeout=2)
    response = await client.get(_target_url(target, host))
    assert response.status_code == 200
    if proxy.requests:
        assert proxy.requests[0].path == _target_url(target, host)  # the absolute form
        assert not target.requests
        return "proxy"
    assert [r.path for r in target.requests] == ["/where"]
    return "direct"


def _environment(env: dict[str, str], target: FaultServer, proxy: FaultServer) -> dict[str, str]:
    values = {
        "proxy": proxy.url().rstrip("/"),
        "proxy_hostport": f"127.0.0.1:{proxy.port}",
        "port": str(target.port),
    }
    return {name: value.format(**values) for name, value in env.items()}


@pytest.mark.parametrize(("env", "host", "expected"), _route_cases())
async def test_proxy_environment_routes_both_shells_alike(
    make: Any,
    shell: str,
    server_factory: Callable[[], FaultServer],
    env: dict[str, str],
    host: str,
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target, proxy = server_factory(), server_factory()
    for name, value in _environment(env, target, proxy).items():
        monkeypatch.setenv(name, value)
    assert await _route(make, target, proxy, host) == expected


async def test_a_proxy_variable_set_after_the_client_is_built_is_ignored(
    make: Any,
    shell: str,
    server_factory: Callable[[], FaultServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target, proxy = server_factory(), server_factory()
    client = make("HttpClient", retry=FAST, timeout=2)
    monkeypatch.setenv("HTTP_PROXY", proxy.url())
    response = await client.get(target.url("/where"))
    assert response.status_code == 200
    assert (len(target.requests), len(proxy.requests)) == (1, 0)


# ------------------------------------------------------------ the same objects, used twice

SCRIPT = textwrap.dedent(
    """
    import asyncio, gc, json, sys, warnings

    from midil_common.testing import LocalIssuer

    shell = sys.argv[1]
    problems = []
    sys.unraisablehook = lambda u: problems.append(f"{u.exc_type.__name__}: {u.exc_value}")
    warnings.simplefilter("error", ResourceWarning)
    if shell == "sync":
        import midil_sync as kit

        def run(work):
            return work()
    else:
        import midil_async as kit

        def run(work):
            return asyncio.run(work())

    outcomes = []
    with LocalIssuer(audience="orders-api") as issuer:
        issuer.register_client("svc", "s3cret-value", scopes=["orders:read"])
        client = kit.HttpClient(issuer.url)
        provider = kit.ClientCredentialsProvider(issuer.token_url, "svc", "s3cret-value")
        authorizer = kit.JWTAuthorizer(issuer.url, audience="orders-api")
        token = issuer.mint(sub="alice")

        def steps():
            yield "status", client.get("/.well-known/jwks.json"), lambda r: r.status_code
            yield "invalidate", provider.invalidate(), lambda r: r
            yield "token", provider.get_token(), lambda t: t.token_type
            yield "sub", authorizer.verify(token), lambda c: c.sub
            yield "hydrate", authorizer.hydrate(), lambda r: r

        if shell == "async":
            async def use():
                return [(name, see(await step)) for name, step, see in steps()]
        else:
            def use():
                return [(name, see(step)) for name, step, see in steps()]

        for _ in range(2):
            outcomes.append(run(use))

        if shell == "async":
            async def close():
                await client.aclose()
                await provider.aclose()
                await authorizer.aclose()
            asyncio.run(close())
        else:
            client.close()
            provider.close()
            authorizer.close()
    gc.collect()
    print(json.dumps({"outcomes": outcomes, "problems": problems}))
    """
)


def test_the_same_objects_work_when_used_twice(shell: str) -> None:
    """Sync: the objects used twice in a row. Async: on two consecutive event loops (a script
    calling ``asyncio.run`` twice). Same outcomes, and no connection left unclosed."""
    done = subprocess.run(
        [sys.executable, "-W", "error::ResourceWarning", "-c", SCRIPT, shell],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    once = [["status", 200], ["invalidate", None], ["token", "Bearer"], ["sub", "alice"]]
    assert result == {"outcomes": [[*once, ["hydrate", None]]] * 2, "problems": []}
