"""pytest fixtures for midil-kit (the ``pytest11`` entry point ``midil``).

- ``local_issuer``: a started :class:`~midil_common.testing.LocalIssuer` with audience
  ``"midil-test"``, in its initial state (same keys and port in every test of a session: it is
  one issuer, :meth:`~LocalIssuer.reset` before each test, so no test pays for key generation).
- ``local_issuer_factory``: ``local_issuer_factory(**kwargs)`` starts issuers with any
  :class:`LocalIssuer` arguments; all are stopped after the test.
- ``moto_server``: one :class:`~midil_common.testing.aws.MotoServer` for the session (moto is
  imported only when a test asks for it; the test is skipped when moto is not installed).

This is the only module of the kit that imports pytest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

try:
    import pytest
except ModuleNotFoundError as exc:  # a missing extra: say which one
    raise ImportError(f"{__name__} needs pytest ({exc}): pip install pytest") from exc

from midil_common.testing.aws import MotoServer
from midil_common.testing.issuer import LocalIssuer

__all__ = ["local_issuer", "local_issuer_factory", "moto_server"]

LOCAL_ISSUER_AUDIENCE = "midil-test"


@pytest.fixture
def local_issuer_factory() -> Iterator[Callable[..., LocalIssuer]]:
    """Start ``LocalIssuer(**kwargs)`` instances; each is stopped at teardown."""
    started: list[LocalIssuer] = []

    def make(**kwargs: Any) -> LocalIssuer:
        issuer = LocalIssuer(**kwargs).start()
        started.append(issuer)
        return issuer

    yield make
    for issuer in started:
        issuer.stop()


@pytest.fixture(scope="session")
def _midil_session_issuer() -> Iterator[LocalIssuer]:
    issuer = LocalIssuer(audience=LOCAL_ISSUER_AUDIENCE).start()
    yield issuer
    issuer.stop()


@pytest.fixture
def local_issuer(_midil_session_issuer: LocalIssuer) -> Iterator[LocalIssuer]:
    """A running issuer whose tokens carry ``aud="midil-test"``, reset for this test."""
    yield _midil_session_issuer.reset()
    _midil_session_issuer.clear_faults()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """moto's AWS emulator on 127.0.0.1 for the whole session (``.endpoint_url``,
    ``.client_kwargs()``); resources persist between tests, so name them uniquely."""
    pytest.importorskip("moto.server")
    server = MotoServer().start()
    yield server
    server.stop()
