# Generated from midil_async/events/_clients.py by scripts/unasync.py: do not edit by hand.
# Change the async module and run `make unasync`.
"""The AWS client of a publisher or scheduler: built by the shell's client factory, or the one the
caller hands in (an ``AWSClient`` to share, or a service client of the shell's AWS SDK), which the
caller keeps and closes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from midil_sync._aws import AWSClient

__all__ = ["service_client"]


class _Given(AWSClient):
    """An ``AWSClient`` calling a service client made elsewhere (never closed here)."""

    def __init__(self, service: str, made: Any) -> None:
        super().__init__(service)
        self._made = made

    def get(self) -> Any:
        return self._made

    def close(self) -> None:
        return None


def service_client(
    service: str,
    client: Any,
    *,
    region: str | None,
    endpoint_url: str | None,
    credentials: Mapping[str, str] | None,
) -> tuple[AWSClient, bool]:
    """``(the AWSClient to call, whether this object owns it and closes it)``."""
    if client is None:
        made = AWSClient(service, region=region, endpoint_url=endpoint_url, credentials=credentials)
        return made, True
    if isinstance(client, AWSClient):
        return client, False
    return _Given(service, client), False
