"""An LRU of verified tokens: a client that reuses its token (the common case) is verified once.

On by default (``token_cache_size=1024``). It is exact: a hit answers as a full verification
would at that instant, which a property test checks over every policy option.
"""

from __future__ import annotations

import hashlib
from typing import Any, NamedTuple

from midil_common.auth.claims import TokenClaims

__all__ = [
    "DEFAULT_TOKEN_CACHE_BYTES",
    "DEFAULT_TOKEN_CACHE_SIZE",
    "CachedVerification",
    "VerifiedTokenCache",
]

DEFAULT_TOKEN_CACHE_SIZE = 1024
"""Entries of the verified-token cache unless an authorizer is told otherwise (0 turns it off)."""

DEFAULT_TOKEN_CACHE_BYTES = 8 * 1024 * 1024
"""The cache also holds at most about this many bytes of tokens (claims take about as much)."""


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
    An entry holds the window in which the claim checks pass, from ``max(nbf, iat) - leeway`` to
    ``exp + leeway``: outside it (the token expired, or a clock stepped back before its
    ``nbf``/``iat``) the token is verified in full again. Tokens without ``exp`` are not cached.
    Bounded in entries (``maxsize``) and in the bytes of the tokens it stands for (``maxbytes``).
    Safe to share between threads without a lock: a race can at worst drop an entry or miscount
    the bytes for a while, never return claims of another token.
    """

    def __init__(
        self, maxsize: int = DEFAULT_TOKEN_CACHE_SIZE, maxbytes: int = DEFAULT_TOKEN_CACHE_BYTES
    ) -> None:
        self.maxsize = maxsize
        self.maxbytes = maxbytes
        self.bytes = 0
        self._entries: dict[bytes, tuple[CachedVerification, float, float, int]] = {}

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
        if now >= entry[1] or now < entry[2]:
            self.bytes -= entry[3]
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
        size: int = 0,
    ) -> None:
        """Remember verified ``claims`` for the window their time claims allow (with ``leeway``),
        with the ``kid``, ``alg``, key object and policy that verified them; ``size`` is the
        token's length, counted against ``maxbytes``."""
        if claims.exp is None or self.maxsize <= 0 or size > self.maxbytes:
            return
        starts = [t for t in (claims.nbf, claims.iat) if t is not None]
        valid_from = max(starts) - leeway if starts else float("-inf")
        entries = self._entries
        old = entries.pop(digest, None)
        if old is not None:
            self.bytes -= old[3]
        verification = CachedVerification(claims, kid, alg, key, policy)
        entries[digest] = (verification, claims.exp + leeway, valid_from, size)
        self.bytes += size
        while len(entries) > self.maxsize or self.bytes > self.maxbytes:
            try:
                oldest = next(iter(entries))
                self.bytes -= entries.pop(oldest)[3]
            except (KeyError, RuntimeError, StopIteration):
                break

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()
        self.bytes = 0
