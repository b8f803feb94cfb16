"""connectors/times.py: every time shape the dialects use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.times import TIME_FORMATS, TimeParseError, format_time, parse_time, resolve_tz, time_parser

T = datetime(2025, 3, 9, 2, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "fmt", "expected"),
    [
        ("2025-03-09T02:10:00Z", "iso8601", T),
        ("2025-03-09T02:10Z", "iso8601", T),  # DingTalk: to the minute
        ("2025-03-09T10:10+08:00", "iso8601", T),
        ("2025-03-09T02:10:00.000Z", "auto", T),
        ("2025-03-09 02:10", "iso8601", T),
        (1741486200, "epoch_s", T),  # WeCom
        ("1741486200", "epoch_s", T),
        (1741486200000, "epoch_ms", T),  # mobile
        ("1741486200000", "epoch_ms", T),  # Feishu
        (1741486200, "auto", T),
        (1741486200000, "auto", T),
        ("1741486200000", "auto", T),
        (1741486200.5, "epoch_s", T + timedelta(milliseconds=500)),
        ("0", "epoch_ms", None),  # Feishu end_time while open
        (0, "epoch_s", None),  # WeCom unset sptime
        (None, "auto", None),
        ("", "iso8601", None),
    ],
)
def test_parse_time(value, fmt, expected) -> None:
    assert parse_time(value, fmt) == expected


def test_naive_iso_uses_the_given_zone() -> None:
    assert parse_time("2025-03-09 10:10:00", "iso8601", resolve_tz("+08:00")) == T
    assert parse_time("2025-03-09 10:10:00", "iso8601", resolve_tz("Asia/Shanghai")) == T


@pytest.mark.parametrize(
    ("value", "fmt"),
    [
        ("yesterday", "iso8601"),
        (12345, "iso8601"),
        ("abc", "epoch_ms"),
        (True, "epoch_s"),
        ([1], "auto"),
        (10**20, "epoch_ms"),
        ("2025-13-40T00:00Z", "auto"),
        ("1", "weird"),
    ],
)
def test_parse_time_errors_say_what_was_expected(value, fmt) -> None:
    with pytest.raises(TimeParseError):
        parse_time(value, fmt)


def test_unknown_zone() -> None:
    with pytest.raises(TimeParseError):
        resolve_tz("Mars/Olympus")


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2500, 1, 1), timezones=st.just(UTC)))
def test_format_then_parse_round_trips(moment: datetime) -> None:
    moment = moment.replace(microsecond=(moment.microsecond // 1000) * 1000)
    assert parse_time(format_time(moment, "iso8601")) == moment
    assert parse_time(format_time(moment, "epoch_ms"), "epoch_ms") == moment
    assert parse_time(format_time(moment, "epoch_s"), "epoch_s") == moment.replace(microsecond=0)


def test_results_are_utc() -> None:
    parsed = parse_time("2025-03-09T10:10:00+08:00")
    assert parsed is not None and parsed.tzinfo == UTC
    assert format_time(datetime(2025, 3, 9, 10, 10, tzinfo=timezone(timedelta(hours=8))), "iso8601") == (
        "2025-03-09T02:10:00Z"
    )


def _outcome(parse, value):
    try:
        return ("ok", parse(value))
    except TimeParseError as exc:
        return ("error", str(exc))


_TIME_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**14), max_value=10**14),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=0, max_value=10**14).map(str),
    st.sampled_from(["0", "", " 1741486200 ", "-1741486200", "²", "١٢٣", "1741486200000", "20250310", "2025-03-09"]),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=8))])).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat(sep=" ")),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat().replace("+00:00", "Z")),
    st.text(max_size=30),
)


@given(st.sampled_from(TIME_FORMATS), st.sampled_from(["UTC", "+08:00", "Asia/Shanghai"]), _TIME_VALUES)
def test_time_parser_agrees_with_parse_time(fmt: str, zone: str, value: object) -> None:
    tz = resolve_tz(zone)
    fast, slow = _outcome(time_parser(fmt, tz), value), _outcome(lambda v: parse_time(v, fmt, tz), value)
    assert fast == slow
    if fast[0] == "ok" and fast[1] is not None:
        assert fast[1].tzinfo == UTC


@pytest.mark.parametrize("fmt", TIME_FORMATS)
def test_unicode_digits_are_a_time_error_not_a_crash(fmt: str) -> None:
    with pytest.raises(TimeParseError):
        parse_time("²", fmt)
    with pytest.raises(TimeParseError):
        time_parser(fmt)("²")


def test_time_parser_refuses_unknown_formats() -> None:
    with pytest.raises(TimeParseError):
        time_parser("weird")
