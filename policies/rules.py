"""The vocabulary of a policy: roles, visibilities, classifications, rules, decisions.

Plain immutable values; :mod:`policies.policy` reads them from a policy file and
answers questions with them.

Example:
    >>> Decision(Visibility.MASKED, MaskFormat.PHONE, "rule candidate.phones").apply("13812345678")
    '138****5678'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple

from policies.blind_index import BlindIndexKind
from policies.masking import MaskFormat, mask
from policies.secret import Secret

__all__ = [
    "DEFAULT_VISIBILITY",
    "Classification",
    "ConsentRule",
    "Decision",
    "FieldRef",
    "FieldRule",
    "Role",
    "RoleRule",
    "Visibility",
]


class Role(StrEnum):
    """The roles a principal can hold (DESIGN section 3)."""

    ADMIN = "admin"
    HR = "hr"
    INTERVIEWER = "interviewer"
    APPROVER = "approver"
    CANDIDATE = "candidate"
    INTEGRATOR = "integrator"


class Visibility(StrEnum):
    """What a role sees of a field."""

    CLEAR = "clear"
    MASKED = "masked"
    HIDDEN = "hidden"


class Classification(StrEnum):
    """How sensitive a field is; ``personal`` and ``sensitive`` are personal data."""

    PUBLIC = "public"
    INTERNAL = "internal"
    PERSONAL = "personal"
    SENSITIVE = "sensitive"
    SECRET = "secret"  # noqa: S105 - a classification name, not a password

    @property
    def is_personal(self) -> bool:
        return self in (Classification.PERSONAL, Classification.SENSITIVE)


DEFAULT_VISIBILITY: Mapping[Classification, Visibility] = MappingProxyType(
    {
        Classification.PUBLIC: Visibility.CLEAR,
        Classification.INTERNAL: Visibility.CLEAR,
        Classification.PERSONAL: Visibility.HIDDEN,
        Classification.SENSITIVE: Visibility.HIDDEN,
        Classification.SECRET: Visibility.HIDDEN,
    }
)


class FieldRef(NamedTuple):
    """An ``(entity, field)`` pair; ``str()`` gives ``entity.field``."""

    entity: str
    field: str

    def __str__(self) -> str:
        return f"{self.entity}.{self.field}"


@dataclass(frozen=True)
class RoleRule:
    """Visibility of a field for one role: ``own`` when the principal is the record's
    subject, ``others`` otherwise."""

    own: Visibility
    others: Visibility

    @classmethod
    def parse(cls, value: str | Mapping[str, str]) -> RoleRule:
        if isinstance(value, str):
            if value == "self":
                return cls(Visibility.CLEAR, Visibility.HIDDEN)
            return cls(Visibility(value), Visibility(value))
        return cls(Visibility(value["self"]), Visibility(value["others"]))

    def to_yaml(self) -> str | dict[str, str]:
        if self.own is self.others:
            return self.own.value
        if (self.own, self.others) == (Visibility.CLEAR, Visibility.HIDDEN):
            return "self"
        return {"self": self.own.value, "others": self.others.value}


@dataclass(frozen=True)
class FieldRule:
    """Everything the policy says about one field (or, with ``field == "*"``, an entity)."""

    entity: str
    field: str
    classification: Classification
    encrypted: bool = False
    blind_index: BlindIndexKind | None = None
    mask: MaskFormat = MaskFormat.REDACT
    audit: bool = False
    roles: Mapping[Role, RoleRule] = dataclass_field(default_factory=dict)

    @property
    def ref(self) -> FieldRef:
        return FieldRef(self.entity, self.field)

    @property
    def is_personal(self) -> bool:
        return self.classification.is_personal


@dataclass(frozen=True)
class Decision:
    """What a role sees of a field, and why.

    Attributes:
        visibility: clear, masked or hidden.
        mask: the mask format when ``visibility`` is masked, else None.
        reason: one line for logs and audit entries (names the rule, never a value).
        audited: reads of this field belong in the audit log.
    """

    visibility: Visibility
    mask: MaskFormat | None
    reason: str
    audited: bool = False

    @property
    def allowed(self) -> bool:
        """Whether the role sees anything of the value (clear or masked)."""
        return self.visibility is not Visibility.HIDDEN

    def apply(self, value: str | Secret | None) -> str | None:
        """The value as this decision shows it: clear, masked, or None when hidden."""
        if value is None or self.visibility is Visibility.HIDDEN:
            return None
        if self.visibility is Visibility.CLEAR:
            return value.reveal() if isinstance(value, Secret) else value
        return mask(value, self.mask or MaskFormat.REDACT)


@dataclass(frozen=True)
class ConsentRule:
    """Whether a purpose needs consent, and how long a consent stays valid."""

    purpose: str
    required: bool
    max_age_days: int | None = None

    @property
    def max_age(self) -> timedelta | None:
        """``max_age_days`` as the ``max_age`` argument of :func:`policies.consent.require_consent`."""
        return timedelta(days=self.max_age_days) if self.max_age_days is not None else None
