"""Opaque cursors and page sizes shared by the simulators.

A cursor is base64url of a small JSON object: opaque to clients, stable for the server. Each simulator
decides what goes inside (a position in its insertion order, a direction); clients only hand it back.
"""

from __future__ import annotations

import base64
import json
from typing import Any

__all__ = ["clamp_page_size", "decode_cursor", "encode_cursor"]


def encode_cursor(position: dict[str, Any]) -> str:
    """Make an opaque cursor from a position."""
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    """Read a cursor back; raises ValueError when it was not made by `encode_cursor`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("invalid cursor") from exc
    if not isinstance(position, dict):
        raise ValueError("invalid cursor")
    return position


def clamp_page_size(raw: str | int | None, *, default: int, maximum: int) -> int:
    """Parse a page size: the default when absent, at most ``maximum``; raises ValueError when not positive."""
    if raw is None or raw == "":
        return default
    size = int(raw)
    if size < 1:
        raise ValueError("page size must be positive")
    return min(size, maximum)
