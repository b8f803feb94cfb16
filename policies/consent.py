"""Consent: may the hub process a person's data for a purpose such as AI scoring?

Consent is recorded as a history of :class:`ConsentRecord` (a grant, a refusal or a
withdrawal, each with when and where it was given). The latest record for a purpose
decides; a grant can expire (``expires_at``, or a policy's ``max_age_days``).
Absent consent is refusal: the engines call :func:`require_consent` and stop with a
``ConsentRequiredError`` (code ``CONSENT_REQUIRED``) before touching the data.

Example:
    >>> from datetime import UTC, datetime
    >>> records = [ConsentRecord("ai_scoring", True, datetime(2025, 3, 1, tzinfo=UTC), "mobile_app")]
    >>> require_consent(records, "ai_scoring")  # passes
    >>> require_consent([], "ai_scoring")
    Traceback (most recent call last):
    policies.errors.ConsentRequiredError: consent for 'ai_scoring' is required: no consent recorded
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from policies.errors import ConsentRequiredError

__all__ = [
    "AI_INTERVIEW",
    "AI_SCORING",
    "ConsentDecision",
    "ConsentRecord",
    "evaluate_consent",
    "require_consent",
]

AI_SCORING = "ai_scoring"
AI_INTERVIEW = "ai_interview"


@dataclass(frozen=True)
class ConsentRecord:
    """One consent event.

    Attributes:
        purpose: what the consent is for, e.g. ``ai_scoring``.
        granted: True for a grant; False for a refusal or withdrawal.
        granted_at: when the person gave (or withdrew) it; timezone-aware.
        source: where it was captured: ``mobile_app``, ``hr_system``, ``paper``...
        expires_at: when a grant lapses, if it does.
    """

    purpose: str
    granted: bool
    granted_at: datetime
    source: str
    expires_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.granted_at.tzinfo is None:
            raise ValueError("ConsentRecord.granted_at must be timezone-aware")
        if self.expires_at is not None and self.expires_at.tzinfo is None:
            raise ValueError("ConsentRecord.expires_at must be timezone-aware")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConsentRecord:
        """From the JSON form the store keeps (``granted_at`` as ISO 8601 or datetime).

        A record without ``granted_at`` (some upstreams omit it) counts as given at the
        epoch, so any dated record of the same purpose supersedes it.
        """

        def when(value: Any) -> datetime | None:
            if value is None or isinstance(value, datetime):
                moment = value
            else:
                moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment

        return cls(
            purpose=str(data.get("purpose", AI_SCORING)),
            granted=bool(data["granted"]),
            granted_at=when(data.get("granted_at")) or datetime(1970, 1, 1, tzinfo=UTC),
            source=str(data.get("source") or "unknown"),
            expires_at=when(data.get("expires_at")),
        )


@dataclass(frozen=True)
class ConsentDecision:
    """Whether consent for ``purpose`` holds now, and why (no personal data in ``reason``)."""

    purpose: str
    granted: bool
    reason: str
    record: ConsentRecord | None = None


def evaluate_consent(
    records: Iterable[ConsentRecord],
    purpose: str,
    *,
    at: datetime | None = None,
    max_age: timedelta | None = None,
) -> ConsentDecision:
    """Decide from the latest record for ``purpose``.

    Args:
        records: the subject's consent history, any order, any purposes.
        purpose: the purpose to check.
        at: the moment to decide for (default: now, UTC).
        max_age: grants older than this no longer count (a policy's ``max_age_days``).
    """
    now = at or datetime.now(UTC)
    relevant = [r for r in records if r.purpose == purpose and r.granted_at <= now]
    if not relevant:
        return ConsentDecision(purpose, False, "no consent recorded")
    # On a tie the refusal wins: when in doubt, the person did not agree.
    latest = max(relevant, key=lambda r: (r.granted_at, not r.granted))
    if not latest.granted:
        return ConsentDecision(purpose, False, f"consent refused or withdrawn ({latest.source})", latest)
    if latest.expires_at is not None and latest.expires_at <= now:
        return ConsentDecision(purpose, False, "consent expired", latest)
    if max_age is not None and now - latest.granted_at > max_age:
        return ConsentDecision(purpose, False, "consent is older than the policy allows", latest)
    return ConsentDecision(purpose, True, f"consent granted ({latest.source})", latest)


def require_consent(
    records: Iterable[ConsentRecord],
    purpose: str,
    *,
    at: datetime | None = None,
    max_age: timedelta | None = None,
) -> None:
    """Return quietly when consent for ``purpose`` holds; raise otherwise.

    Raises:
        ConsentRequiredError: no grant, a withdrawal, or an expired grant.
    """
    decision = evaluate_consent(records, purpose, at=at, max_age=max_age)
    if not decision.granted:
        raise ConsentRequiredError(purpose, decision.reason)
