"""Test and development tooling that users import too: :class:`LocalIssuer`.

``midil_common.testing.pytest_plugin`` (registered as the ``pytest11`` entry point ``midil``) adds
the fixtures ``local_issuer``, ``local_issuer_factory`` and ``moto_server``;
:class:`~midil_common.testing.aws.MotoServer` (in ``midil_common.testing.aws``) runs moto's AWS
emulator.
"""

from midil_common.testing.issuer import (
    DISCOVERY_PATH,
    INTROSPECTION_PATH,
    JWKS_PATH,
    REVOCATION_PATH,
    TOKEN_PATH,
    USERINFO_PATH,
    Fault,
    LocalIssuer,
    LocalUser,
    RegisteredClient,
)

__all__ = [
    "DISCOVERY_PATH",
    "INTROSPECTION_PATH",
    "JWKS_PATH",
    "REVOCATION_PATH",
    "TOKEN_PATH",
    "USERINFO_PATH",
    "Fault",
    "LocalIssuer",
    "LocalUser",
    "RegisteredClient",
]
