"""Consent: the latest record decides; absent, withdrawn or expired consent refuses."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta

import pytest

from policies import (
    AI_SCORING,
    ConsentRecord,
    ConsentRequiredError,
    PolicySet,
    evaluate_consent,
    require_consent,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def record(granted: bool, days_ago: float, purpose: str = AI_SCORING, **extra: object) -> ConsentRecord:
    return ConsentRecord(purpose, granted, NOW - timedelta(days=days_ago), "mobile_app", **extra)  # type: ignore[arg-type]


def test_granted_consent_passes() -> None:
    require_consent([record(True, 10)], AI_SCORING, at=NOW)
    decision = evaluate_consent([record(True, 10)], AI_SCORING, at=NOW)
    assert decision.granted
    assert decision.reason == "consent granted (mobile_app)"
    assert decision.record is not None


@pytest.mark.parametrize(
    ("records", "reason"),
    [
        ([], "no consent recorded"),
        ([record(True, 10, purpose="ai_interview")], "no consent recorded"),
        ([record(False, 1)], "consent refused or withdrawn (mobile_app)"),
        ([record(True, 10), record(False, 1)], "consent refused or withdrawn (mobile_app)"),
        ([record(True, 10, expires_at=NOW - timedelta(days=1))], "consent expired"),
        ([record(True, 10), record(False, 10)], "consent refused or withdrawn (mobile_app)"),  # a tie refuses
        ([record(True, -1)], "no consent recorded"),  # recorded in the future: not yet valid
    ],
    ids=["none", "other purpose", "refused", "withdrawn", "expired", "tie", "future"],
)
def test_missing_consent_raises_with_a_reason(records: list[ConsentRecord], reason: str) -> None:
    with pytest.raises(ConsentRequiredError) as info:
        require_consent(records, AI_SCORING, at=NOW)
    assert info.value.code == "CONSENT_REQUIRED"
    assert info.value.purpose == AI_SCORING
    assert info.value.reason == reason
    assert str(info.value) == f"consent for 'ai_scoring' is required: {reason}"


def test_consent_granted_again_after_withdrawal() -> None:
    require_consent([record(True, 30), record(False, 20), record(True, 5)], AI_SCORING, at=NOW)


def test_policy_max_age() -> None:
    rule = PolicySet.default().consent_rule(AI_SCORING)
    max_days, max_age = rule.max_age_days, rule.max_age
    assert max_days is not None
    assert max_age == timedelta(days=max_days)
    assert PolicySet.default().consent_rule("newsletter").max_age is None
    require_consent([record(True, max_days - 1)], AI_SCORING, at=NOW, max_age=max_age)
    with pytest.raises(ConsentRequiredError, match="older than the policy allows"):
        require_consent([record(True, max_days + 1)], AI_SCORING, at=NOW, max_age=max_age)


def test_from_dict_reads_the_stored_form() -> None:
    stored: list[dict[str, object]] = [
        {"purpose": "ai_scoring", "granted": True, "granted_at": "2025-05-01T08:00:00Z", "source": "mobile_app"},
        {"purpose": "ai_scoring", "granted": False, "granted_at": datetime(2025, 5, 20, tzinfo=UTC)},
        {"granted": True},  # an upstream that sends only a flag: counts as the oldest record
    ]
    records = [ConsentRecord.from_dict(item) for item in stored]
    assert records[0].granted_at == datetime(2025, 5, 1, 8, tzinfo=UTC)
    assert records[1].source == "unknown"
    assert records[2].purpose == AI_SCORING
    with pytest.raises(ConsentRequiredError, match="withdrawn"):
        require_consent(records, AI_SCORING, at=NOW)
    require_consent(records[2:], AI_SCORING, at=NOW)
    naive = ConsentRecord.from_dict({"granted": True, "granted_at": "2025-05-01T08:00:00"})
    assert naive.granted_at.tzinfo is UTC


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        ConsentRecord(AI_SCORING, True, datetime(2025, 1, 1), "x")
    with pytest.raises(ValueError):
        ConsentRecord(AI_SCORING, True, NOW, "x", expires_at=datetime(2026, 1, 1))


def test_default_time_is_now() -> None:
    assert evaluate_consent([ConsentRecord(AI_SCORING, True, datetime.now(UTC), "x")], AI_SCORING).granted


def test_consent_error_pickles() -> None:
    err = ConsentRequiredError(AI_SCORING, "no consent recorded")
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.purpose, copy.reason, str(copy)) == (err.purpose, err.reason, str(err))
