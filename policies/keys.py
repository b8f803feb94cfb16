"""Envelope keys: a key-encryption key (KEK) wraps each tenant's data keys.

Values are encrypted with a tenant's *data keys* (AES-256); data keys are stored
wrapped by the *KEK*, which never touches the database. The KEK sits behind the
:class:`~policies.kek.KekProvider` protocol (see :mod:`policies.kek`), so a cloud KMS
can replace :class:`~policies.kek.LocalKek`.

Lifecycle of a data key (:class:`KeyStatus`)::

    generate()          promote()                  promote(other)      retire()
    ─────────► DECRYPT_ONLY ─────────► ACTIVE_PRIMARY ──────────► DECRYPT_ONLY ───────► RETIRED
                                                                              reactivate() ◄─┘

* A new key starts ``DECRYPT_ONLY`` so every hub process can learn it before anyone
  encrypts with it; ``promote`` makes it the one primary (the old primary drops to
  ``DECRYPT_ONLY``); a re-encryption job moves rows to the primary; ``retire`` marks
  a key no row uses any more (decrypting with it then raises ``KeyRetiredError``);
  ``destroy`` forgets a retired key for good.
* Rotating the KEK (:meth:`KeyRing.rewrap`) re-wraps the data keys only; no value
  is re-encrypted.
* Crypto-shredding: delete a tenant's ``DataKey`` records and every value encrypted
  for it is unreadable (``UnknownKeyError``).

The key ring returns changed :class:`DataKey` records; persisting them is the
caller's job (the hub's store), which keeps this module free of I/O.

Example:
    >>> kek = LocalKek(bytes(32))
    >>> ring = KeyRing.create("tenant-1", kek)
    >>> ring.primary.status
    <KeyStatus.ACTIVE_PRIMARY: 'ACTIVE_PRIMARY'>
"""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from policies.errors import KekError, KeyRetiredError, KeyStateError, TenantMismatchError, UnknownKeyError
from policies.kek import KekProvider, LocalKek

# KekProvider and LocalKek live in policies.kek and are re-exported here, next to the
# key ring that uses them.
__all__ = [
    "DataKey",
    "KekProvider",
    "KeyRing",
    "KeyStatus",
    "LocalKek",
    "new_key_id",
]

_KEY_BYTES = 32


class KeyStatus(StrEnum):
    """Where a data key is in its lifecycle (stored as these strings)."""

    ACTIVE_PRIMARY = "ACTIVE_PRIMARY"
    DECRYPT_ONLY = "DECRYPT_ONLY"
    RETIRED = "RETIRED"


def new_key_id() -> str:
    """A fresh data-key id: ``dk_`` and 16 base32 characters (80 random bits)."""
    return "dk_" + base64.b32encode(os.urandom(10)).decode("ascii").lower()


@dataclass(frozen=True)
class DataKey:
    """A tenant's data key as stored: the key material only in wrapped form.

    Attributes:
        key_id: globally unique id, also written into every token it encrypts.
        tenant_id: owner; the wrapping binds to it.
        status: lifecycle state.
        created_at: when it was generated (UTC).
        wrapped: the key wrapped by the KEK named ``kek_id``.
        kek_id: which KEK wrapped it (KEK rotation rewraps keys not yet on the new KEK).
    """

    key_id: str
    tenant_id: str
    status: KeyStatus
    created_at: datetime
    wrapped: bytes
    kek_id: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", KeyStatus(self.status))
        # The store may hand back a UUID; the ring and the wrapping context use its text.
        object.__setattr__(self, "tenant_id", str(self.tenant_id))

    def __repr__(self) -> str:
        return (
            f"DataKey(key_id={self.key_id!r}, tenant_id={self.tenant_id!r}, "
            f"status={self.status.value}, kek_id={self.kek_id!r})"
        )


def _context(tenant_id: str, key_id: str) -> bytes:
    return f"hub.dek.v1|{len(tenant_id)}:{tenant_id}|{key_id}".encode()


def _utcnow() -> datetime:
    return datetime.now(UTC)


class KeyRing:
    """One tenant's data keys, unwrapped lazily and cached as ready AES-GCM objects.

    Args:
        tenant_id: the tenant every record must belong to.
        records: the tenant's stored ``DataKey`` records (any order).
        kek: the provider that unwraps them.
        clock: returns "now" (UTC); injectable for tests.

    Raises:
        TenantMismatchError: a record belongs to another tenant.
        KeyStateError: more than one record is ``ACTIVE_PRIMARY``, or ids repeat.
    """

    def __init__(
        self,
        tenant_id: str | UUID,
        records: Iterable[DataKey],
        kek: KekProvider,
        *,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        tenant_id = str(tenant_id)
        self.tenant_id = tenant_id
        self._kek = kek
        self._clock = clock
        self._lock = threading.RLock()
        self._records: dict[str, DataKey] = {}
        self._aead: dict[str, AESGCM] = {}
        for record in records:
            if record.tenant_id != tenant_id:
                raise TenantMismatchError(f"data key {record.key_id!r} belongs to another tenant than {tenant_id!r}")
            if record.key_id in self._records:
                raise KeyStateError(f"data key {record.key_id!r} appears twice")
            self._records[record.key_id] = record
        primaries = [k for k, r in self._records.items() if r.status is KeyStatus.ACTIVE_PRIMARY]
        if len(primaries) > 1:
            raise KeyStateError(f"tenant {tenant_id!r} has {len(primaries)} primary data keys")
        self._primary_id: str | None = primaries[0] if primaries else None

    @classmethod
    def create(cls, tenant_id: str | UUID, kek: KekProvider, *, clock: Callable[[], datetime] = _utcnow) -> KeyRing:
        """A ring for a new tenant with one primary key (no process can hold data yet,
        so the decrypt-only stage is skipped). Persist ``ring.keys``."""
        ring = cls(tenant_id, (), kek, clock=clock)
        ring.promote(ring.generate().key_id)
        return ring

    # -- reading ----------------------------------------------------------------------

    @property
    def keys(self) -> tuple[DataKey, ...]:
        """Every record, oldest first (what the store should hold)."""
        return tuple(sorted(self._records.values(), key=lambda r: (r.created_at, r.key_id)))

    @property
    def kek(self) -> KekProvider:
        return self._kek

    @property
    def primary(self) -> DataKey:
        """The key new values are encrypted with.

        Raises:
            KeyStateError: no key has been promoted yet.
        """
        kid = self._primary_id
        if kid is None:
            raise KeyStateError(f"tenant {self.tenant_id!r} has no primary data key")
        return self._records[kid]

    def get(self, key_id: str) -> DataKey:
        """The record for ``key_id``.

        Raises:
            UnknownKeyError: the ring does not hold it (never did, or it was destroyed).
        """
        try:
            return self._records[key_id]
        except KeyError:
            raise UnknownKeyError(
                f"data key {key_id!r} is not in tenant {self.tenant_id!r}'s key ring", key_id=key_id
            ) from None

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._records

    def encryption_key(self) -> tuple[str, AESGCM]:
        """``(key_id, aead)`` of the primary key, for :class:`~policies.crypto.FieldCipher`."""
        kid = self._primary_id
        if kid is None:
            raise KeyStateError(f"tenant {self.tenant_id!r} has no primary data key")
        aead = self._aead.get(kid)
        return (kid, aead) if aead is not None else (kid, self._load(kid))

    def decryption_key(self, key_id: str) -> AESGCM:
        """The AEAD for ``key_id``.

        Raises:
            UnknownKeyError: the ring does not hold the key.
            KeyRetiredError: the key is retired.
        """
        aead = self._aead.get(key_id)
        if aead is not None:
            return aead
        record = self.get(key_id)
        if record.status is KeyStatus.RETIRED:
            raise KeyRetiredError(
                f"data key {key_id!r} is retired; reactivate it to read values still encrypted with it",
                key_id=key_id,
            )
        return self._load(key_id)

    def _load(self, key_id: str) -> AESGCM:
        with self._lock:
            aead = self._aead.get(key_id)
            if aead is None:
                record = self.get(key_id)
                # Checked again under the lock: a retire() may have run since the caller looked.
                if record.status is KeyStatus.RETIRED:
                    raise KeyRetiredError(f"data key {key_id!r} is retired", key_id=key_id)
                dek = self._kek.unwrap(record.wrapped, context=_context(self.tenant_id, key_id))
                if len(dek) != _KEY_BYTES:
                    raise KekError(f"data key {key_id!r} unwrapped to a key of the wrong size")
                aead = AESGCM(dek)
                self._aead[key_id] = aead
            return aead

    # -- lifecycle ----------------------------------------------------------------------

    def generate(self, tenant_id: str | UUID | None = None) -> DataKey:
        """Create a new random data key in ``DECRYPT_ONLY`` state and add it to the ring.

        Args:
            tenant_id: optional; must be this ring's tenant when given.
        """
        if tenant_id is not None and str(tenant_id) != self.tenant_id:
            raise TenantMismatchError(f"this key ring belongs to tenant {self.tenant_id!r}")
        with self._lock:
            key_id = new_key_id()
            while key_id in self._records:  # pragma: no cover - 80 random bits
                key_id = new_key_id()
            dek = AESGCM.generate_key(bit_length=256)
            record = DataKey(
                key_id=key_id,
                tenant_id=self.tenant_id,
                status=KeyStatus.DECRYPT_ONLY,
                created_at=self._clock(),
                wrapped=self._kek.wrap(dek, context=_context(self.tenant_id, key_id)),
                kek_id=self._kek.key_id,
            )
            self._records[key_id] = record
            self._aead[key_id] = AESGCM(dek)
            return record

    def promote(self, key_id: str) -> list[DataKey]:
        """Make ``key_id`` the primary; the previous primary becomes ``DECRYPT_ONLY``.

        Returns:
            The changed records (empty when ``key_id`` already is the primary).

        Raises:
            UnknownKeyError: no such key.
            KeyRetiredError: the key is retired (reactivate it first).
        """
        with self._lock:
            record = self.get(key_id)
            if record.status is KeyStatus.ACTIVE_PRIMARY:
                return []
            if record.status is KeyStatus.RETIRED:
                raise KeyRetiredError(f"data key {key_id!r} is retired and cannot be promoted", key_id=key_id)
            self._load(key_id)  # prove it unwraps before anyone encrypts with it
            changed = []
            if self._primary_id is not None:
                changed.append(self._set_status(self._primary_id, KeyStatus.DECRYPT_ONLY))
            changed.append(self._set_status(key_id, KeyStatus.ACTIVE_PRIMARY))
            self._primary_id = key_id
            return changed

    def retire(self, key_id: str) -> DataKey:
        """Mark a key no stored value uses any more; it stops decrypting.

        The caller checks that no row still names the key (``FieldCipher.key_id_of``).

        Raises:
            KeyStateError: the key is the primary.
        """
        with self._lock:
            record = self.get(key_id)
            if record.status is KeyStatus.ACTIVE_PRIMARY:
                raise KeyStateError(f"data key {key_id!r} is the primary; promote another key first")
            if record.status is KeyStatus.RETIRED:
                return record
            self._aead.pop(key_id, None)
            return self._set_status(key_id, KeyStatus.RETIRED)

    def reactivate(self, key_id: str) -> DataKey:
        """Bring a retired key back to ``DECRYPT_ONLY`` (a row was missed by re-encryption)."""
        with self._lock:
            record = self.get(key_id)
            if record.status is not KeyStatus.RETIRED:
                return record
            return self._set_status(key_id, KeyStatus.DECRYPT_ONLY)

    def destroy(self, key_id: str) -> DataKey:
        """Forget a retired key; the caller deletes its record. Values under it are
        lost for good (crypto-shredding of one key).

        Raises:
            KeyStateError: the key is not retired.
        """
        with self._lock:
            record = self.get(key_id)
            if record.status is not KeyStatus.RETIRED:
                raise KeyStateError(f"data key {key_id!r} must be retired before it is destroyed")
            del self._records[key_id]
            self._aead.pop(key_id, None)
            return record

    def rewrap(self, new_kek: KekProvider) -> list[DataKey]:
        """Re-wrap every data key with ``new_kek`` (KEK rotation) and use it from now on.

        Keys already wrapped by ``new_kek.key_id`` are skipped, so an interrupted rotation
        can simply run again. All keys are unwrapped before anything changes: either every
        key moves or none does.

        Returns:
            The changed records, to persist.
        """
        with self._lock:
            pending: list[tuple[DataKey, bytes]] = []
            for record in self._records.values():
                if record.kek_id == new_kek.key_id:
                    continue
                context = _context(self.tenant_id, record.key_id)
                dek = self._kek.unwrap(record.wrapped, context=context)
                pending.append((record, new_kek.wrap(dek, context=context)))
            changed = []
            for record, wrapped in pending:
                updated = replace(record, wrapped=wrapped, kek_id=new_kek.key_id)
                self._records[record.key_id] = updated
                changed.append(updated)
            self._kek = new_kek
            return changed

    def _set_status(self, key_id: str, status: KeyStatus) -> DataKey:
        updated = replace(self._records[key_id], status=status)
        self._records[key_id] = updated
        return updated

    def __repr__(self) -> str:
        return f"KeyRing(tenant_id={self.tenant_id!r}, keys={len(self._records)}, primary={self._primary_id!r})"
