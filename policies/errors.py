"""Every error the policy layer raises, in one tree.

::

    PolicyError                              POLICY_ERROR
    ├── DecryptionError                      DECRYPTION_FAILED
    │   ├── UnknownKeyError                  KEY_UNKNOWN
    │   ├── MalformedCiphertextError         CIPHERTEXT_MALFORMED
    │   └── AuthenticationFailedError        CIPHERTEXT_AUTH_FAILED
    ├── KeyringError                         KEYRING_ERROR
    │   ├── KeyRetiredError                  KEY_RETIRED
    │   ├── KeyStateError                    KEY_STATE_INVALID
    │   ├── TenantMismatchError              TENANT_MISMATCH
    │   └── KekError                         KEK_INVALID
    ├── PolicyFileError                      POLICY_INVALID
    └── ConsentRequiredError                 CONSENT_REQUIRED

Each class carries a stable ``code`` that the GraphQL layer puts in
``extensions.code``. Messages name keys, entities, fields and record ids, which
are not personal; they never contain a plaintext, a ciphertext or key material,
so an error is always safe to log or to show.

``KeyRetiredError`` is raised when a retired data key is asked to decrypt (a row
the re-encryption job missed) or to become primary again. It is deliberately not a
``DecryptionError``: the value is intact, an operator can reactivate the key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "AuthenticationFailedError",
    "ConsentRequiredError",
    "DecryptionError",
    "KekError",
    "KeyRetiredError",
    "KeyStateError",
    "KeyringError",
    "MalformedCiphertextError",
    "PolicyError",
    "PolicyFileError",
    "PolicyProblem",
    "TenantMismatchError",
    "UnknownKeyError",
]


class PolicyError(Exception):
    """Base of every policy-layer error; ``code`` is stable and client-visible."""

    code: ClassVar[str] = "POLICY_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class DecryptionError(PolicyError):
    """A stored value could not be decrypted. Never carries the value itself.

    Attributes:
        key_id: the data key the token names, when it could be read.
        where: ``entity.field`` of the value, when known.
        record_id: the record the value was read for, when known.
    """

    code: ClassVar[str] = "DECRYPTION_FAILED"

    def __init__(
        self,
        message: str,
        *,
        key_id: str | None = None,
        where: str | None = None,
        record_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.key_id = key_id
        self.where = where
        self.record_id = record_id

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.__dict__.copy()))


class UnknownKeyError(DecryptionError):
    """The token names a data key this key ring does not hold (never had it, or it
    was destroyed: crypto-shredding)."""

    code: ClassVar[str] = "KEY_UNKNOWN"


class MalformedCiphertextError(DecryptionError):
    """The stored value is not a token this version understands (truncated, bad
    encoding, unknown version or algorithm)."""

    code: ClassVar[str] = "CIPHERTEXT_MALFORMED"


class AuthenticationFailedError(DecryptionError):
    """AES-GCM rejected the value: it was altered, or it belongs to another record,
    field, entity or tenant (the associated data no longer matches)."""

    code: ClassVar[str] = "CIPHERTEXT_AUTH_FAILED"


class KeyringError(PolicyError):
    """A key-management operation is not possible in the key ring's current state."""

    code: ClassVar[str] = "KEYRING_ERROR"


class KeyRetiredError(KeyringError):
    """A retired data key was asked to decrypt or to be promoted."""

    code: ClassVar[str] = "KEY_RETIRED"

    def __init__(self, message: str, *, key_id: str | None = None) -> None:
        super().__init__(message)
        self.key_id = key_id

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.__dict__.copy()))


class KeyStateError(KeyringError):
    """The key ring cannot do this now: no primary key, retiring the primary, ..."""

    code: ClassVar[str] = "KEY_STATE_INVALID"


class TenantMismatchError(KeyringError):
    """A key or value of one tenant was handed to another tenant's key ring."""

    code: ClassVar[str] = "TENANT_MISMATCH"


class KekError(KeyringError):
    """The key-encryption key is missing, malformed, or cannot unwrap a data key."""

    code: ClassVar[str] = "KEK_INVALID"


@dataclass(frozen=True)
class PolicyProblem:
    """One thing wrong in a policy file.

    Attributes:
        path: dotted location, e.g. ``fields.candidate.phones.roles.hr`` (empty for the root).
        message: what is wrong, in words an operator understands.
        line: 1-based line in the YAML source, when known.
    """

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.path or "<root>"
        line = f" (line {self.line})" if self.line is not None else ""
        return f"{where}{line}: {self.message}"


class PolicyFileError(PolicyError):
    """A policy file failed to parse or validate; ``problems`` lists every finding."""

    code: ClassVar[str] = "POLICY_INVALID"

    def __init__(self, problems: Sequence[PolicyProblem], *, source: str = "<policy>") -> None:
        self.problems: list[PolicyProblem] = list(problems)
        self.source = source
        shown = "; ".join(str(p) for p in self.problems[:5])
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        super().__init__(f"invalid policy {source}: {shown}{more}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_policy_file_error, (type(self), self.problems, self.source))


class ConsentRequiredError(PolicyError):
    """An action needs the subject's consent for ``purpose`` and there is none valid."""

    code: ClassVar[str] = "CONSENT_REQUIRED"

    def __init__(self, purpose: str, reason: str) -> None:
        self.purpose = purpose
        self.reason = reason
        super().__init__(f"consent for {purpose!r} is required: {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.purpose, self.reason))


def _rebuild(cls: type[PolicyError], message: str, state: dict[str, Any]) -> PolicyError:
    # Keyword-only constructor arguments break Exception's default pickling; RQ and
    # multiprocessing pickle exceptions, so rebuild explicitly.
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


def _rebuild_policy_file_error(
    cls: type[PolicyFileError], problems: list[PolicyProblem], source: str
) -> PolicyFileError:
    return cls(problems, source=source)
