"""Time values as upstream dialects spell them, parsed into aware UTC datetimes.

Formats (the ``time:`` key of a manifest field, and what the built-in connectors use):

- ``iso8601``: ``2025-03-09T10:12:44Z``, ``2025-03-09T02:10Z`` (to the minute), offsets, fractions,
  ``2025-03-09 10:12``. A value without an offset is read in ``tz`` (default UTC).
- ``epoch_s`` / ``epoch_ms``: numbers or digit strings; ``0`` and ``"0"`` mean "not set" (None), as
  Feishu sends ``end_time: "0"`` while an instance is open.
- ``auto``: numbers and digit strings are epoch seconds below 10^11 and milliseconds above; other strings
  are ISO 8601.

Example:
    >>> parse_time("1741486200000", "epoch_ms")
    datetime.datetime(2025, 3, 9, 2, 10, tzinfo=datetime.timezone.utc)
    >>> parse_time("2025-03-09T02:10Z")
    datetime.datetime(2025, 3, 9, 2, 10, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["TIME_FORMATS", "TimeParseError", "format_time", "parse_time", "resolve_tz", "time_parser"]

TIME_FORMATS = ("auto", "iso8601", "epoch_s", "epoch_ms")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Epoch values above this are milliseconds: 10^11 seconds is the year 5138, 10^11 ms is 1973.
_MS_THRESHOLD = 100_000_000_000
_MAX_EPOCH_S = 253_402_300_799  # 9999-12-31T23:59:59Z
_MAX_EPOCH_MS = _MAX_EPOCH_S * 1000 + 999
_FAST_MS = 4_000_000_000_000  # 2096-10-02 in milliseconds: fromtimestamp is exact below it


class TimeParseError(ValueError):
    """The value is not a time in the expected format; the message says what was expected."""


@lru_cache(maxsize=64)
def resolve_tz(name: str | None) -> tzinfo:
    """``None``/``UTC``, ``+08:00``-style offsets or IANA names (``Asia/Shanghai``)."""
    if not name or name.upper() in ("UTC", "Z"):
        return UTC
    if name[0] in "+-" and len(name) == 6 and name[3] == ":":
        sign = 1 if name[0] == "+" else -1
        hours, minutes = int(name[1:3]), int(name[4:6])
        return timezone(timedelta(minutes=sign * (hours * 60 + minutes)))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise TimeParseError(f"unknown time zone {name!r}") from exc


def _from_epoch(number: int | float, unit_ms: bool, raw: object) -> datetime | None:
    if number == 0:
        return None
    try:
        if number.__class__ is int and -_FAST_MS < number < _FAST_MS:
            # Below ~2096 a millisecond count divided by 1000 rounds back to the exact millisecond, and
            # fromtimestamp is the fastest constructor CPython has.
            return datetime.fromtimestamp(number / 1000 if unit_ms else number, UTC)
        # positional timedelta(days, seconds, microseconds, milliseconds): exact for any integer
        return _EPOCH + (timedelta(0, 0, 0, number) if unit_ms else timedelta(0, number))
    except (OverflowError, ValueError):
        raise TimeParseError(f"epoch value {raw!r} is out of range") from None


def _digits(text: str) -> int | None:
    # isascii: str.isdigit() also accepts "²" and other digits int() refuses
    if text.isdigit() and text.isascii():
        return int(text)
    if text[:1] == "-" and text[1:].isdigit() and text.isascii():
        return int(text)
    stripped = text.strip()
    if stripped != text and stripped:
        return _digits(stripped)
    return None


def parse_time(value: object, fmt: str = "auto", tz: tzinfo = UTC) -> datetime | None:
    """Parse ``value`` in format ``fmt``; None and ``""`` give None, so do epoch ``0``/``"0"``.

    Raises:
        TimeParseError: the value does not fit the format.
    """
    # Hot path of every normalization: exact type checks first, no helper calls for the common shapes.
    cls = value.__class__
    number: int | float | None
    if cls is str:
        if not value:
            return None
        number = None if fmt == "iso8601" else _digits(value)  # type: ignore[arg-type]
        if number is None:
            if fmt not in ("iso8601", "auto"):
                raise TimeParseError(f"expected epoch {_unit(fmt)} (number or digit string), got {value!r}")
            try:
                parsed = datetime.fromisoformat(value)  # type: ignore[arg-type]
            except ValueError:
                raise TimeParseError(f"expected an ISO 8601 time, got {value!r}") from None
            if parsed.tzinfo is UTC:
                return parsed
            if parsed.tzinfo is None:
                parsed = _localize(value, parsed, tz)  # type: ignore[arg-type]
                if parsed.tzinfo is UTC:
                    return parsed
            return parsed.astimezone(UTC)
    elif cls is int or cls is float:
        if fmt == "iso8601":
            raise TimeParseError(f"expected an ISO 8601 string, got {cls.__name__} {value!r}")
        number = value  # type: ignore[assignment]
    elif value is None:
        return None
    else:
        if fmt == "iso8601":
            raise TimeParseError(f"expected an ISO 8601 string, got {cls.__name__} {value!r}")
        raise TimeParseError(f"expected epoch {_unit(fmt)} (number or digit string), got {value!r}")
    if not -_MAX_EPOCH_MS <= number <= _MAX_EPOCH_MS:  # type: ignore[operator]
        raise TimeParseError(f"epoch value {value!r} is out of range")
    if fmt == "epoch_ms":
        return _from_epoch(number, True, value)  # type: ignore[arg-type]
    if fmt == "epoch_s":
        if not -_MAX_EPOCH_S <= number <= _MAX_EPOCH_S:  # type: ignore[operator]
            raise TimeParseError(f"epoch value {value!r} is out of range")
        return _from_epoch(number, False, value)  # type: ignore[arg-type]
    if fmt == "auto":
        return _from_epoch(number, abs(number) >= _MS_THRESHOLD, value)  # type: ignore[arg-type]
    raise TimeParseError(f"unknown time format {fmt!r}; use one of {', '.join(TIME_FORMATS)}")


_fromtimestamp = datetime.fromtimestamp
_fromisoformat = datetime.fromisoformat


def _epoch_ms_parser(tz: tzinfo) -> Callable[[object], datetime | None]:
    def epoch_ms(value: object) -> datetime | None:
        # Feishu's digit strings and the mobile app's integers, in the range fromtimestamp is exact for
        number: Any = value
        cls = value.__class__
        if cls is str and number.isdigit() and number.isascii():
            number = int(number)
        elif cls is not int:
            return parse_time(value, "epoch_ms", tz)
        if 0 < number < _FAST_MS:
            return _fromtimestamp(number / 1000, UTC)
        return parse_time(value, "epoch_ms", tz)

    return epoch_ms


def _epoch_s_parser(tz: tzinfo) -> Callable[[object], datetime | None]:
    def epoch_s(value: object) -> datetime | None:
        number: Any = value
        cls = value.__class__
        if cls is str and number.isdigit() and number.isascii():
            number = int(number)
        elif cls is not int:
            return parse_time(value, "epoch_s", tz)
        if 0 < number <= _MAX_EPOCH_S:
            return _fromtimestamp(number, UTC)
        return parse_time(value, "epoch_s", tz)

    return epoch_s


def _iso_parser(fmt: str, tz: tzinfo) -> Callable[[object], datetime | None]:
    def iso(value: object) -> datetime | None:
        # ISO strings that name UTC ("...Z", "+00:00") need nothing but fromisoformat
        if value.__class__ is str and value and value[-1] in "Z0":
            try:
                parsed = _fromisoformat(value)
            except ValueError:
                pass  # digits (auto: epoch), or not a time: the general path says which
            else:
                if parsed.tzinfo is UTC:
                    return parsed
        return parse_time(value, fmt, tz)

    return iso


@lru_cache(maxsize=256)
def time_parser(fmt: str, tz: tzinfo = UTC) -> Callable[[object], datetime | None]:
    """``parse_time`` with ``fmt`` and ``tz`` fixed, with fast paths for each format's common shapes.

    The normalizers call one of these per time field; the result equals ``parse_time(value, fmt, tz)``
    for every input (a property test checks it), errors included.

    Raises:
        TimeParseError: ``fmt`` is not one of `TIME_FORMATS` (when built), or a value does not fit it.
    """
    if fmt not in TIME_FORMATS:
        raise TimeParseError(f"unknown time format {fmt!r}; use one of {', '.join(TIME_FORMATS)}")
    if fmt == "epoch_ms":
        return _epoch_ms_parser(tz)
    if fmt == "epoch_s":
        return _epoch_s_parser(tz)
    return _iso_parser(fmt, tz)


@lru_cache(maxsize=64)
def _suffix(tz: tzinfo) -> str | None:
    """``+08:00`` for a fixed-offset zone (None for zones with daylight saving rules)."""
    if isinstance(tz, timezone):
        offset = tz.utcoffset(None)
        sign = "-" if offset < timedelta(0) else "+"
        minutes = abs(offset) // timedelta(minutes=1)
        return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    return None


def _localize(text: str, parsed: datetime, tz: tzinfo) -> datetime:
    # Re-parsing with the offset appended is several times faster than datetime.replace(tzinfo=...).
    suffix = _suffix(tz)
    if suffix is not None:
        try:
            return datetime.fromisoformat(text + suffix)
        except ValueError:
            pass  # a date without a time: fall through
    return parsed.replace(tzinfo=tz)


def _unit(fmt: str) -> str:
    return {"epoch_s": "seconds", "epoch_ms": "milliseconds"}.get(fmt, "seconds or milliseconds")


def format_time(value: datetime, fmt: str) -> str | int:
    """The inverse, for incremental-read parameters: ISO with ``Z``, epoch seconds or milliseconds."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if fmt == "epoch_s":
        return (value - _EPOCH) // timedelta(seconds=1)
    if fmt == "epoch_ms":
        return (value - _EPOCH) // timedelta(milliseconds=1)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
