"""Fixtures for the auth tests: a ``shell`` parametrized over midil_sync and midil_async."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

import midil_async
import midil_sync
from midil_common.auth import TokenClaims


class Shell:
    """Drives either shell's authorizers with the same calls, on one event loop per test."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.mod: Any = midil_sync if name == "sync" else midil_async
        self.loop = asyncio.new_event_loop()
        self._made: list[Any] = []

    def run(self, value: Any) -> Any:
        if asyncio.iscoroutine(value):
            return self.loop.run_until_complete(value)
        return value

    def jwt(self, issuer: str, **kwargs: Any) -> Any:
        authorizer = self.mod.JWTAuthorizer(issuer, **kwargs)
        self._made.append(authorizer)
        return authorizer

    def cognito(self, *args: Any, **kwargs: Any) -> Any:
        authorizer = self.mod.CognitoJWTAuthorizer(*args, **kwargs)
        self._made.append(authorizer)
        return authorizer

    def multi(self, authorizers: list[Any]) -> Any:
        return self.mod.MultiIssuerAuthorizer(authorizers)

    def verify(self, authorizer: Any, token: Any) -> TokenClaims:
        claims = self.run(authorizer.verify(token))
        assert isinstance(claims, TokenClaims)
        return claims

    def hydrate(self, authorizer: Any) -> None:
        self.run(authorizer.hydrate())

    def verify_all(self, authorizer: Any, tokens: list[str]) -> list[Any]:
        """Verify every token at once (threads or tasks); results are claims or exceptions."""
        if self.name == "sync":
            results: list[Any] = [None] * len(tokens)
            barrier = threading.Barrier(len(tokens))

            def work(i: int) -> None:
                barrier.wait()
                try:
                    results[i] = authorizer.verify(tokens[i])
                except Exception as exc:
                    results[i] = exc

            threads = [threading.Thread(target=work, args=(i,)) for i in range(len(tokens))]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            return results

        async def main() -> list[Any]:
            return await asyncio.gather(
                *(authorizer.verify(t) for t in tokens), return_exceptions=True
            )

        return list(self.loop.run_until_complete(main()))

    def close(self) -> None:
        for authorizer in self._made:
            if self.name == "sync":
                authorizer.close()
            else:
                self.loop.run_until_complete(authorizer.aclose())
        self.loop.close()


@pytest.fixture(params=["sync", "async"])
def shell(request: pytest.FixtureRequest) -> Iterator[Shell]:
    s = Shell(request.param)
    yield s
    s.close()


def _public_jwk(key: Any, **extra: Any) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(extra)
    return jwk


@pytest.fixture
def public_jwk() -> Callable[..., dict[str, Any]]:
    """``public_jwk(private_key, **members)``: the public JWK of an RSA key."""
    return _public_jwk


@pytest.fixture(scope="session")
def weak_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)


@pytest.fixture(scope="session")
def spare_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)
