"""The adapters' own failure, kept in the one exception tree and re-exported here for convenience."""

from __future__ import annotations

from midil_common.errors import MissingTokenError

__all__ = ["MissingTokenError"]
