"""An optional LRU of verified tokens, for hot paths that see the same token many times."""

from __future__ import annotations

import hashlib

from midil_common.auth.claims import TokenClaims

__all__ = ["VerifiedTokenCache"]


class VerifiedTokenCache:
    """Maps a token's SHA-256 digest to its claims until the token's ``exp`` (plus leeway).

    Tokens without ``exp`` are not cached. Safe to share between threads without a lock: a race
    can at worst drop an entry, never return claims of another token.
    """

    def __init__(self, maxsize: int = 1024) -> None:
        self.maxsize = maxsize
        self._entries: dict[bytes, tuple[TokenClaims, float]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def digest(token: str) -> bytes:
        """The cache key of ``token`` (its raw text is never stored)."""
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()

    def get(self, digest: bytes, now: float) -> TokenClaims | None:
        """Cached claims for ``digest`` while still valid at ``now``."""
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if now >= entry[1]:
            self._entries.pop(digest, None)
            return None
        return entry[0]

    def put(self, digest: bytes, claims: TokenClaims, leeway: float = 0.0) -> None:
        """Remember verified ``claims`` until their ``exp`` (+ ``leeway``)."""
        if claims.exp is None or self.maxsize <= 0:
            return
        entries = self._entries
        entries[digest] = (claims, claims.exp + leeway)
        while len(entries) > self.maxsize:
            try:
                del entries[next(iter(entries))]
            except (KeyError, RuntimeError, StopIteration):
                break

    def clear(self) -> None:
        """Forget every entry (after a key rotation, say)."""
        self._entries.clear()
