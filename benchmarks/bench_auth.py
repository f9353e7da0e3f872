"""Token verification speed and JWKS fetch counts, as ratios against anchors measured in this run.

(a) RS256 ``verify`` with warm keys vs PyJWT's ``jwt.decode`` with the key in hand (goal: at least
    2x faster) and vs the bare ``RSAAlgorithm.verify`` floor (goal: at most 1.8x the floor);
(b) ES256 vs the bare ``ECAlgorithm.verify`` (goal: at most 1.3x);
(c) the verified-token cache on repeated tokens vs ``jwt.decode`` (goal: at least 20x faster);
(d) JWKS requests caused by 1,000 tokens with random unknown kids (goal: at most 1; PyJWKClient
    on the same load for comparison) and by a cold start of 64 threads / 1,000 tasks (goal: 1).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
import threading
import time
from collections.abc import Callable

import jwt
from harness import Figure, alternating, per_call, print_figures
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

import midil_async
import midil_sync
from midil_common.errors import KeyNotFoundError
from midil_common.testing import LocalIssuer

AUD = "bench-api"


def signed_parts(token: str) -> tuple[bytes, bytes]:
    """The signing input and the decoded signature of a compact token, as the bare check takes them."""
    head, body, sig = token.split(".")
    return f"{head}.{body}".encode(), base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))


def _floor(token: str, alg: object, key: object) -> Callable[[], object]:
    message, signature = signed_parts(token)
    return lambda: alg.verify(message, key, signature)  # type: ignore[attr-defined]


def _speed(issuer: LocalIssuer) -> list[Figure]:
    figures = []
    # The full verification: the token cache (on by default) off, so every call checks a signature.
    authorizer = midil_sync.JWTAuthorizer(issuer.url, audience=AUD, token_cache_size=0)
    cached = midil_sync.JWTAuthorizer(issuer.url, audience=AUD)  # default settings: cache on
    for alg, bare in (
        ("RS256", RSAAlgorithm(RSAAlgorithm.SHA256)),
        ("ES256", ECAlgorithm(ECAlgorithm.SHA256)),
    ):
        token = issuer.mint(sub="bench", scope="orders:read", alg=alg)
        key = issuer.public_key(alg)
        authorizer.verify(token)
        ours, decode, floor = alternating(
            [
                lambda t=token: authorizer.verify(t),
                lambda t=token, k=key, a=alg: jwt.decode(
                    t, k, algorithms=[a], audience=AUD, issuer=issuer.url
                ),
                _floor(token, bare, key),
            ]
        )
        figures.append(
            Figure(
                f"{alg} verify (warm keys, all checks)",
                ours,
                "jwt.decode, key in hand",
                decode,
                "<= 0.5" if alg == "RS256" else "",
            )
        )
        figures.append(
            Figure(
                f"{alg} verify (warm keys, all checks)",
                ours,
                f"bare {type(bare).__name__}.verify",
                floor,
                "<= 1.8" if alg == "RS256" else "<= 1.3",
            )
        )
        if alg == "RS256":
            cached.verify(token)
            hit = per_call(lambda t=token: cached.verify(t))
            figures.append(
                Figure(
                    "RS256 verify, verified-token cache hit",
                    hit,
                    "jwt.decode, key in hand",
                    decode,
                    "<= 0.05",
                )
            )
    authorizer.close()
    cached.close()
    return figures


def _unknown_kid_counts(issuer: LocalIssuer) -> tuple[int, int, float, float]:
    tokens = [issuer.mint(kid=secrets.token_hex(8)) for _ in range(1000)]
    authorizer = midil_sync.JWTAuthorizer(issuer.url, audience=AUD, jwks_url=issuer.jwks_url)
    authorizer.hydrate()
    issuer.reset_counts()
    started = time.perf_counter()
    for token in tokens:
        with contextlib.suppress(KeyNotFoundError):
            authorizer.verify(token)
    ours_time = time.perf_counter() - started
    ours = issuer.request_count("jwks")
    authorizer.close()

    theirs = []
    for cooldown in (30.0, 0.0):  # PyJWT's default cooldown, and none
        client = jwt.PyJWKClient(issuer.jwks_url, cache_keys=True, cooldown_duration=cooldown)
        client.get_signing_keys()
        issuer.reset_counts()
        for token in tokens:
            with contextlib.suppress(jwt.PyJWKClientError):
                client.get_signing_key_from_jwt(token)
        theirs.append(issuer.request_count("jwks"))
    return ours, theirs[0], theirs[1], ours_time


def _rotation(issuer: LocalIssuer) -> tuple[str, str]:
    """A key rotated right after the first fetch: who accepts the new token at once?"""
    authorizer = midil_sync.JWTAuthorizer(issuer.url, audience=AUD, jwks_url=issuer.jwks_url)
    authorizer.verify(issuer.mint())
    client = jwt.PyJWKClient(issuer.jwks_url)
    client.get_signing_key_from_jwt(issuer.mint())
    issuer.rotate_keys()
    token = issuer.mint()
    issuer.reset_counts()
    ours = "accepted" if authorizer.verify(token).sub else "refused"
    ours += f" ({issuer.request_count('jwks')} request)"
    issuer.reset_counts()
    try:
        client.get_signing_key_from_jwt(token)
        theirs = "accepted"
    except jwt.PyJWKClientError:
        theirs = "refused until its 30 s cooldown ends"
    authorizer.close()
    return ours, theirs + f" ({issuer.request_count('jwks')} request)"


def _cold_start_sync(issuer: LocalIssuer, threads: int = 64) -> int:
    issuer.reset_counts()
    authorizer = midil_sync.JWTAuthorizer(issuer.url, audience=AUD)
    token = issuer.mint()
    barrier = threading.Barrier(threads)
    failures: list[BaseException] = []

    def work() -> None:
        barrier.wait()
        try:
            authorizer.verify(token)
        except BaseException as exc:
            failures.append(exc)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    authorizer.close()
    assert not failures, failures[0]
    return issuer.request_count("jwks")


def _cold_start_async(issuer: LocalIssuer, tasks: int = 1000) -> int:
    issuer.reset_counts()
    token = issuer.mint()

    async def main() -> None:
        async with midil_async.JWTAuthorizer(issuer.url, audience=AUD) as authorizer:
            await asyncio.gather(*(authorizer.verify(token) for _ in range(tasks)))

    asyncio.run(main())
    return issuer.request_count("jwks")


def main() -> None:
    with LocalIssuer(audience=AUD) as issuer:
        print_figures("auth: token verification (ratio = ours / anchor)", _speed(issuer))
        ours, theirs, theirs_no_cooldown, ours_time = _unknown_kid_counts(issuer)
        sync_cold = _cold_start_sync(issuer)
        async_cold = _cold_start_async(issuer)
        rotation_ours, rotation_theirs = _rotation(issuer)
    print("\n== auth: JWKS requests")
    print(
        f"  1,000 random unknown kids in {ours_time:.2f} s: midil {ours} request(s) (goal <= 1);"
        f" PyJWKClient {theirs} (default 30 s cooldown from every fetch),"
        f" {theirs_no_cooldown} with cooldown_duration=0"
    )
    print(
        f"  key rotated just after the first fetch: midil {rotation_ours}; PyJWKClient {rotation_theirs}"
    )
    print(f"  cold start, 64 threads (sync):   {sync_cold} JWKS request(s) (goal 1)")
    print(f"  cold start, 1,000 tasks (async): {async_cold} JWKS request(s) (goal 1)")


if __name__ == "__main__":
    main()
