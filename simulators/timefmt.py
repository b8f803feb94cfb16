"""Time formats of the upstream dialects.

Every simulator keeps time internally as epoch seconds (a float) and renders it the way its vendor does:

| dialect  | rendering                                  | helper          |
|----------|--------------------------------------------|-----------------|
| HR       | ISO 8601 UTC with seconds and ``Z``        | `iso_z`         |
| DingTalk | ISO 8601 UTC to the minute: ``...T02:10Z`` | `iso_minute`    |
| WeCom    | epoch seconds, integer                     | `epoch_s`       |
| Feishu   | epoch milliseconds as a string, ``"0"``    | `epoch_ms_str`  |
| mobile   | epoch milliseconds, integer                | `epoch_ms`      |
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

__all__ = [
    "epoch_ms",
    "epoch_ms_str",
    "epoch_s",
    "iso_minute",
    "iso_z",
    "parse_epoch",
    "parse_iso",
]


def iso_z(ts: float | None) -> str | None:
    """``2025-03-09T10:12:44Z`` (HR dialect); None stays None."""
    if ts is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def iso_minute(ts: float | None) -> str | None:
    """``2025-03-09T02:10Z``: DingTalk drops the seconds."""
    if ts is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(ts))


def epoch_s(ts: float | None) -> int:
    """Integer epoch seconds (WeCom); 0 for an unset time, as WeCom does."""
    return 0 if ts is None else int(ts)


def epoch_ms(ts: float | None) -> int | None:
    """Integer epoch milliseconds (mobile app); None stays None."""
    return None if ts is None else int(ts * 1000)


def epoch_ms_str(ts: float | None) -> str:
    """Epoch milliseconds as a string, ``"0"`` while unset (Feishu)."""
    return "0" if ts is None else str(int(ts * 1000))


def parse_iso(text: str) -> float:
    """Parse an ISO 8601 timestamp (``Z`` or offset, with or without seconds) to epoch seconds.

    A value without an offset is taken as UTC. Raises ValueError on anything else.
    """
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def parse_epoch(value: str | int | float, *, millis: bool) -> float:
    """Parse an epoch value given as a number or a numeric string. Raises ValueError otherwise."""
    number = float(value)
    return number / 1000 if millis else number
