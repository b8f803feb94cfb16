"""Idempotency keys: the same key with the same body answers the stored response, never a duplicate.

Used by the HR system (``Idempotency-Key`` header on writes), the mobile app (invites, notifications) and,
with the ``uuid`` body field as key, Feishu instance creation. A key reused with a different body is a
conflict: the caller has a bug, and replaying the first answer would hide it.

Example:
    >>> store = IdempotencyStore()
    >>> store.lookup("invite", "k1", b'{"a": 1}') is None
    True
    >>> store.remember("invite", "k1", b'{"a": 1}', 201, {"id": "s1"})
    >>> store.lookup("invite", "k1", b'{ "a" : 1 }').payload
    {'id': 's1'}
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

__all__ = ["IdempotencyConflict", "IdempotencyStore", "StoredResponse"]


class IdempotencyConflict(Exception):
    """The key was used before with a different body."""


@dataclass(frozen=True)
class StoredResponse:
    """What the first request with a key answered."""

    fingerprint: str
    status: int
    payload: Any


def _fingerprint(body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, ensure_ascii=False).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(canonical).hexdigest()


class IdempotencyStore:
    """Stored answers per (scope, key); scope separates endpoints that share a key space."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], StoredResponse] = {}

    def lookup(self, scope: str, key: str | None, body: bytes) -> StoredResponse | None:
        """The stored answer for a replay, None for a new key; raises IdempotencyConflict on reuse."""
        if not key:
            return None
        stored = self._entries.get((scope, key))
        if stored is None:
            return None
        if stored.fingerprint != _fingerprint(body):
            raise IdempotencyConflict(key)
        return stored

    def remember(self, scope: str, key: str | None, body: bytes, status: int, payload: Any) -> None:
        """Store the answer of a successful first request (a no-op without a key)."""
        if key:
            self._entries[(scope, key)] = StoredResponse(_fingerprint(body), status, payload)
