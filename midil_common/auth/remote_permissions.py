"""A remote policy decision point, free of I/O: the question a ``RemotePermissionChecker`` asks, how
its answer reads, and the short cache of positive answers.

The cache is keyed by a SHA-256 digest of the token, the resource and the action together (never
by ``sub`` alone: two tokens of one user may carry different scopes), holds only "allowed"
answers, for ``ttl`` seconds, and never the token itself.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Any

from midil_common.errors import ConfigError
from midil_common.http.types import Response

__all__ = ["DecisionCache", "decision_key", "decision_request", "parse_decision"]


def decision_key(token: str, resource: str, action: str) -> str:
    """The cache key of a question: a digest of the token, resource and action."""
    digest = hashlib.sha256()
    for part in (token, resource, action):
        data = part.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def decision_request(token: str, resource: str, action: str) -> tuple[dict[str, str], Any]:
    """The headers and JSON body of the question: the token as a bearer credential, the resource
    and action in the body."""
    return (
        {"Authorization": f"Bearer {token}", "Accept": "application/json"},
        {"resource": resource, "action": action},
    )


def parse_decision(response: Response) -> bool | None:
    """True for an allow, False for a deny (403, or ``allowed: false``); None for an answer that
    decides nothing (another status, no JSON, no boolean), which the checker treats as a deny.

    Accepted bodies: ``{"allowed": bool}``, ``{"allow": bool}`` or ``{"decision": "allow"|"deny"}``.
    """
    if response.status_code in (401, 403):
        return False
    if response.status_code != 200:
        return None
    try:
        doc = json.loads(response.content)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict):
        return None
    for name in ("allowed", "allow"):
        value = doc.get(name)
        if isinstance(value, bool):
            return value
    decision = doc.get("decision")
    if decision == "allow":
        return True
    if decision == "deny":
        return False
    return None


class DecisionCache:
    """Positive decisions for ``ttl`` seconds, at most ``maxsize`` of them (least recently used
    dropped first). Not locked: the shells guard it with their state lock."""

    def __init__(self, ttl: float = 30.0, maxsize: int = 4096) -> None:
        if ttl < 0 or maxsize < 0:
            raise ConfigError("the decision cache's ttl and maxsize must be >= 0")
        self.ttl = ttl
        self.maxsize = maxsize
        self._entries: OrderedDict[str, float] = OrderedDict()

    def allowed(self, key: str, now: float) -> bool:
        """Whether a fresh "allowed" is cached for ``key`` at ``now``."""
        until = self._entries.get(key)
        if until is None:
            return False
        if now >= until:
            del self._entries[key]
            return False
        self._entries.move_to_end(key)
        return True

    def store(self, key: str, now: float) -> None:
        """Remember that ``key`` was allowed at ``now``."""
        if self.ttl <= 0 or self.maxsize <= 0:
            return
        self._entries[key] = now + self.ttl
        self._entries.move_to_end(key)
        while len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every decision."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
