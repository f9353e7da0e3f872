"""An optional LRU of verified tokens, for hot paths that see the same token many times."""

from __future__ import annotations

import hashlib
from typing import Any, NamedTuple

from midil_common.auth.claims import TokenClaims

__all__ = ["CachedVerification", "VerifiedTokenCache"]


class CachedVerification(NamedTuple):
    """What a verification established: the claims, the key (chosen for ``kid`` and ``alg``)
    whose signature check they passed, and the policy whose claim checks they passed."""

    claims: TokenClaims
    kid: str | None
    alg: str
    key: Any
    policy: Any = None


class VerifiedTokenCache:
    """Maps a token's SHA-256 digest to its verification until the token's ``exp`` (plus leeway).

    The verifier uses an entry only while the key set still hands out the very key object that
    checked the signature, and only under the very policy object whose claim checks (issuer,
    audience, required claims) the token passed: a refetch, a rotation, keys too stale to serve or
    another policy send the token through the whole verification again, so a hit answers exactly
    as a full verification would. A refused token is never stored.
    Tokens without ``exp`` are not cached. Safe to share between threads without a lock: a race
    can at worst drop an entry, never return claims of another token.
    """

    def __init__(self, maxsize: int = 1024) -> None:
        self.maxsize = maxsize
        self._entries: dict[bytes, tuple[CachedVerification, float]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def digest(token: str) -> bytes:
        """The cache key of ``token`` (its raw text is never stored)."""
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()

    def lookup(self, digest: bytes, now: float) -> CachedVerification | None:
        """The cached verification for ``digest`` while the token is unexpired at ``now``."""
        entries = self._entries
        entry = entries.pop(digest, None)
        if entry is None:
            return None
        if now >= entry[1]:
            return None
        # Re-inserted last: the least recently used entry is the first one.
        entries[digest] = entry
        return entry[0]

    def get(self, digest: bytes, now: float) -> TokenClaims | None:
        """Cached claims for ``digest`` while still valid at ``now`` (the key is not checked)."""
        hit = self.lookup(digest, now)
        return None if hit is None else hit.claims

    def put(
        self,
        digest: bytes,
        claims: TokenClaims,
        leeway: float = 0.0,
        *,
        kid: str | None = None,
        alg: str = "",
        key: Any = None,
        policy: Any = None,
    ) -> None:
        """Remember verified ``claims`` until their ``exp`` (+ ``leeway``), with the ``kid``,
        ``alg``, key object and policy that verified them."""
        if claims.exp is None or self.maxsize <= 0:
            return
        entries = self._entries
        entries[digest] = (CachedVerification(claims, kid, alg, key, policy), claims.exp + leeway)
        while len(entries) > self.maxsize:
            try:
                del entries[next(iter(entries))]
            except (KeyError, RuntimeError, StopIteration):
                break

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()
