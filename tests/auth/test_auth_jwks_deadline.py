"""A slow key-set endpoint cannot stall verification: a total deadline per key fetch, and
stale-while-revalidate for callers that hold a key that may still be served (RFC 5861).

The hostile endpoint is a raw socket server on 127.0.0.1 that sends the JWKS body one byte every
0.3 s: no read ever waits long enough to trip a read timeout, yet the whole body takes minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from midil_common.auth import (
    Fetch,
    JWKSCache,
    KeySet,
    TokenClaims,
    TokenVerifier,
    Use,
    VerificationPolicy,
)
from midil_common.errors import ConfigError, ConnectError, JWKSFetchError
from midil_common.errors import TimeoutError as TransportTimeoutError
from midil_common.http.types import Headers, Response
from midil_common.testing import LocalIssuer

AUD = "midil-test"
BYTE_EVERY = 0.3
DEADLINE = 1.5
# Generous: CI machines stall, but the trickle of a whole key set takes minutes.
MARGIN = 2.5


class TrickleServer:
    """Serves a JWKS over raw sockets: at once while ``trickle`` is off, else one body byte every
    0.3 s (the status line and headers go out at once)."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.trickle = False
        self.connections = 0
        self.trickling = threading.Event()
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/jwks.json"

    def __enter__(self) -> TrickleServer:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        with self._lock:
            for conn in self._open:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
        self._listener.close()
        for thread in self._threads:
            thread.join(5)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._open.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(5)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            head = (
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(self.body)}\r\nConnection: close\r\n\r\n"
            ).encode()
            if not self.trickle:
                conn.sendall(head + self.body)
                return
            conn.sendall(head)
            self.trickling.set()
            for i in range(len(self.body)):
                if self._stop.wait(BYTE_EVERY):
                    return
                conn.sendall(self.body[i : i + 1])
        except OSError:
            return
        finally:
            conn.close()


@pytest.fixture
def trickle(local_issuer: LocalIssuer) -> Iterator[TrickleServer]:
    body = json.dumps(local_issuer.jwks()).encode()
    # The whole body would take minutes to arrive.
    assert len(body) * BYTE_EVERY > 60
    with TrickleServer(body) as server:
        yield server


def _timed_verify_all(shell: Any, authorizer: Any, token: str, n: int) -> list[tuple[Any, float]]:
    """``n`` concurrent verifications of ``token``: (claims or exception, seconds) each."""
    if shell.name == "sync":
        results: list[tuple[Any, float]] = [(None, 0.0)] * n
        barrier = threading.Barrier(n)

        def work(i: int) -> None:
            barrier.wait()
            started = time.monotonic()
            try:
                outcome: Any = authorizer.verify(token)
            except Exception as exc:
                outcome = exc
            results[i] = (outcome, time.monotonic() - started)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        return results

    async def one() -> tuple[Any, float]:
        started = time.monotonic()
        try:
            outcome: Any = await authorizer.verify(token)
        except Exception as exc:
            outcome = exc
        return outcome, time.monotonic() - started

    async def main() -> list[tuple[Any, float]]:
        return list(await asyncio.gather(*(one() for _ in range(n))))

    return shell.loop.run_until_complete(main())


class _Background:
    """One ``verify`` running in the background (a thread, or a task on the shell's loop)."""

    def __init__(self, shell: Any, authorizer: Any, token: str) -> None:
        self.shell = shell
        self.outcome: Any = None
        self.elapsed = 0.0
        self._started = time.monotonic()
        if shell.name == "sync":
            self._thread = threading.Thread(target=self._run_sync, args=(authorizer, token))
            self._thread.start()
        else:
            self._task = shell.loop.create_task(self._run_async(authorizer, token))

    def _run_sync(self, authorizer: Any, token: str) -> None:
        try:
            self.outcome = authorizer.verify(token)
        except Exception as exc:
            self.outcome = exc
        self.elapsed = time.monotonic() - self._started

    async def _run_async(self, authorizer: Any, token: str) -> None:
        try:
            self.outcome = await authorizer.verify(token)
        except Exception as exc:
            self.outcome = exc
        self.elapsed = time.monotonic() - self._started

    def wait_for(self, event: threading.Event, timeout: float) -> bool:
        """Wait for ``event`` while the background call keeps running."""
        if self.shell.name == "sync":
            return event.wait(timeout)

        async def poll() -> bool:
            until = time.monotonic() + timeout
            while not event.is_set() and time.monotonic() < until:
                await asyncio.sleep(0.01)
            return event.is_set()

        return bool(self.shell.loop.run_until_complete(poll()))

    def done(self) -> bool:
        if self.shell.name == "sync":
            return not self._thread.is_alive()
        return bool(self._task.done())

    def join(self, timeout: float) -> None:
        if self.shell.name == "sync":
            self._thread.join(timeout)
            return
        self.shell.loop.run_until_complete(asyncio.wait({self._task}, timeout=timeout))


# ------------------------------------------------------------------------------- the shells


def test_stale_keys_keep_serving_while_a_slow_refresh_is_in_flight(
    shell: Any, local_issuer: LocalIssuer, trickle: TrickleServer
) -> None:
    # cache_ttl=0 and no max-age: the keys are stale (but servable) as soon as they arrive.
    authorizer = shell.jwt(
        local_issuer.url,
        audience=AUD,
        jwks_url=trickle.url,
        cache_ttl=0,
        fetch_deadline=DEADLINE,
    )
    token = local_issuer.mint(sub="stale")
    assert shell.verify(authorizer, token).sub == "stale"
    assert trickle.connections == 1
    trickle.trickle = True

    refresher = _Background(shell, authorizer, token)
    try:
        assert refresher.wait_for(trickle.trickling, 5), "the refresh never reached the server"
        results = _timed_verify_all(shell, authorizer, token, 16)
        # Every other caller verified with the cached key at once, while the refresh is in flight.
        assert not refresher.done()
        assert all(isinstance(r, TokenClaims) and r.sub == "stale" for r, _ in results), results
        slowest = max(seconds for _, seconds in results)
        assert slowest < DEADLINE / 2, f"callers waited {slowest:.2f}s for the refresh"
        assert trickle.connections == 2  # one refresh, not one per caller
        # The refreshing caller itself is bounded by the fetch deadline, then serves stale.
        refresher.join(DEADLINE + MARGIN + 5)
        assert refresher.done()
        assert isinstance(refresher.outcome, TokenClaims), refresher.outcome
        assert refresher.elapsed < DEADLINE + MARGIN
    finally:
        trickle.__exit__()
        refresher.join(10)
    cache = authorizer.verifier.cache
    assert cache.failures == 1 and "deadline" in (cache.last_error or "")


def test_no_cached_keys_fails_within_the_deadline(
    shell: Any, local_issuer: LocalIssuer, trickle: TrickleServer
) -> None:
    trickle.trickle = True
    authorizer = shell.jwt(
        local_issuer.url, audience=AUD, jwks_url=trickle.url, fetch_deadline=DEADLINE
    )
    token = local_issuer.mint()
    results = _timed_verify_all(shell, authorizer, token, 8)
    for outcome, seconds in results:
        assert isinstance(outcome, JWKSFetchError), outcome
        assert seconds < DEADLINE + MARGIN, f"a caller waited {seconds:.2f}s"
    # One fetch for all of them, and the refusal names the deadline, not the trickle.
    assert trickle.connections == 1
    assert any("deadline" in str(outcome) for outcome, _ in results)


def test_hydrate_is_bounded_by_the_deadline(
    shell: Any, local_issuer: LocalIssuer, trickle: TrickleServer
) -> None:
    trickle.trickle = True
    authorizer = shell.jwt(
        local_issuer.url, audience=AUD, jwks_url=trickle.url, fetch_deadline=DEADLINE
    )
    started = time.monotonic()
    with pytest.raises(JWKSFetchError):
        shell.hydrate(authorizer)
    assert time.monotonic() - started < DEADLINE + MARGIN


def test_fetch_deadline_parameter(shell: Any) -> None:
    authorizer = shell.jwt("https://issuer.example", audience=AUD)
    assert authorizer.verifier.fetch_deadline == 5.0
    cognito = shell.cognito("eu-west-1_Pool1", fetch_deadline=2.0)
    assert cognito.verifier.fetch_deadline == 2.0
    for bad in (0, -1, float("inf"), float("nan")):
        with pytest.raises(ConfigError) as info:
            shell.jwt("https://issuer.example", audience=AUD, fetch_deadline=bad)
        assert info.value.variable == "fetch_deadline"


# ------------------------------------------------------------------------------- the core


def _keys(issuer: LocalIssuer) -> KeySet:
    return KeySet.from_jwks(issuer.jwks())


def test_cache_says_when_a_key_may_serve_during_a_refresh(local_issuer: LocalIssuer) -> None:
    keys = _keys(local_issuer)
    kid = local_issuer.jwks()["keys"][0]["kid"]
    cache = JWKSCache(ttl=60, max_stale=100)
    # Cold: nothing to serve while fetching.
    cold = cache.lookup(kid, "RS256", 0.0)
    assert isinstance(cold, Fetch) and not cold.servable
    cache.fetched(keys, 0.0)
    assert isinstance(cache.lookup(kid, "RS256", 30.0), Use)
    # Stale within max_stale: refresh, and the cached key may serve meanwhile.
    stale = cache.lookup(kid, "RS256", 61.0)
    assert isinstance(stale, Fetch) and stale.servable
    assert isinstance(cache.lookup(kid, "RS256", 61.0, allow_fetch=False), Use)
    # Beyond max_stale: a refresh is needed before any key serves.
    too_old = cache.lookup(kid, "RS256", 161.0)
    assert isinstance(too_old, Fetch) and not too_old.servable
    # An unknown kid has nothing to serve.
    unknown = cache.lookup("nope", "RS256", 30.0)
    assert isinstance(unknown, Fetch) and not unknown.servable


def test_refresh_round_carries_the_deadline(local_issuer: LocalIssuer) -> None:
    verifier = TokenVerifier(VerificationPolicy.build(local_issuer.url), fetch_deadline=2.0)
    assert verifier.fetch_deadline_at(100.0) == 102.0
    round = verifier.refresh(None, 0.0, deadline=102.0)
    request = round.next_request()
    assert request is not None and request.deadline == 102.0
    assert request.url == local_issuer.discovery_url
    # Discovery answered: the key set request carries the same deadline.
    body = json.dumps({"issuer": local_issuer.url, "jwks_uri": local_issuer.jwks_url}).encode()
    round.on_response(Response(200, Headers(), body, request.url), 0.0)
    second = round.next_request()
    assert second is not None and second.deadline == 102.0
    assert second.url == local_issuer.jwks_url
    # The transport reports the deadline: no quick retry, the round is over.
    round.on_error(
        TransportTimeoutError("deadline reached", phase="deadline", request_sent=False), 1.0
    )
    assert round.next_request() is None
    assert isinstance(round.error, JWKSFetchError) and "deadline" in str(round.error)
    assert verifier.cache.failures == 1
    # A connection error before the deadline still gets its one quick retry.
    again = verifier.refresh(None, 20.0, deadline=200.0)
    assert again.next_request() is not None
    again.on_error(ConnectError("refused"), 20.0)
    assert again.next_request() is not None and again.error is None


def test_refresh_round_expire_reports_a_failure(local_issuer: LocalIssuer) -> None:
    verifier = TokenVerifier(VerificationPolicy.build(local_issuer.url))
    round = verifier.refresh(None, 0.0, deadline=5.0)
    assert round.next_request() is not None
    round.expire(7.0)
    assert round.done and isinstance(round.error, JWKSFetchError)
    assert "deadline" in str(round.error) and "127.0.0.1" in str(round.error)
    assert verifier.cache.failures == 1
    # A round without a deadline never expires on its own.
    free = verifier.refresh(None, 0.0)
    request = free.next_request()
    assert request is not None and request.deadline is None


def test_waiting_for_another_fetch_has_a_clear_error(local_issuer: LocalIssuer) -> None:
    verifier = TokenVerifier(VerificationPolicy.build(local_issuer.url), fetch_deadline=3.0)
    error = verifier.wait_timed_out()
    assert isinstance(error, JWKSFetchError)
    assert "3" in str(error) and "deadline" in str(error)


def test_async_fetches_work_across_consecutive_event_loops(
    local_issuer_factory: Any,
) -> None:
    import midil_async

    issuer = local_issuer_factory(audience=AUD, jwks_max_age=None)
    # cache_ttl=0: every verification on every loop refreshes (a task on that loop).
    authorizer = midil_async.JWTAuthorizer(
        issuer.url, audience=AUD, cache_ttl=0, fetch_deadline=DEADLINE
    )

    async def use(sub: str) -> list[str]:
        results = await asyncio.gather(*(authorizer.verify(issuer.mint(sub=sub)) for _ in range(5)))
        return [claims.sub for claims in results]

    try:
        for i in range(3):
            assert asyncio.run(use(f"loop{i}")) == [f"loop{i}"] * 5
        assert issuer.request_count("jwks") >= 3
        asyncio.run(authorizer.hydrate())
    finally:
        asyncio.run(authorizer.aclose())
