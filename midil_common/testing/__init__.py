"""Test and development tooling that users import too: :class:`LocalIssuer`.

``midil_common.testing.pytest_plugin`` (registered as the ``pytest11`` entry point ``midil``) adds
the fixtures ``local_issuer`` and ``local_issuer_factory``.
"""

from midil_common.testing.issuer import (
    DISCOVERY_PATH,
    JWKS_PATH,
    TOKEN_PATH,
    Fault,
    LocalIssuer,
    RegisteredClient,
)

__all__ = ["DISCOVERY_PATH", "JWKS_PATH", "TOKEN_PATH", "Fault", "LocalIssuer", "RegisteredClient"]
