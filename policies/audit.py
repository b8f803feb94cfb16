"""The audit trail: an append-only, hash-chained log of reads and changes.

Each entry records who (``actor``) did what (``read``, ``write``, ``admin``) to which
field of which record, and whether it was allowed. Entries are numbered per tenant
(``seq`` 1, 2, 3...) and chained::

    hash(n) = SHA-256( hash(n-1) || "\\n" || canonical_json(entry n) )     hash(0) = "0" * 64

``canonical_json`` is the entry without its hashes, keys sorted, no spaces, UTF-8,
times as ``2025-03-01T08:00:00.000000Z``. Changing, deleting, inserting or
reordering a row breaks the chain at that row, which :func:`verify_chain` reports.

Two limits, and their remedies:

* Whoever can rewrite the whole table can recompute every hash. Pass a ``key`` (kept
  outside the database) to make the chain an HMAC chain, and/or publish the head
  (``ChainAnchor(seq, hash)``) somewhere else and verify against it (``head=``).
* Deleting the newest rows leaves a valid, shorter chain; only a published head
  catches that.

Entries never contain personal values: ``detail`` is for codes and ids (a key id, a
mutation name, the reason of a denial), never for the value that was read.

Example:
    >>> e1 = next_entry(None, tenant_id="t1", actor="user:42", action="read",
    ...                 entity="candidate", record_id="0190...", field="phones", outcome="allowed")
    >>> verify_chain([e1]).ok
    True
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "GENESIS_HASH",
    "AuditAction",
    "AuditEntry",
    "AuditOutcome",
    "ChainAnchor",
    "ChainVerdict",
    "chain_hash",
    "next_entry",
    "verify_chain",
]

GENESIS_HASH = "0" * 64
_FORMAT_VERSION = 1


class AuditAction(StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


class AuditOutcome(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class AuditEntry:
    """One audit row.

    Attributes:
        seq: position in the tenant's chain, from 1.
        tenant_id: the tenant whose data was touched.
        at: when (timezone-aware; hashed at microsecond precision in UTC).
        actor: the principal, e.g. ``user:<id>``, ``integrator:<id>``, ``system:<job>``.
        action: read, write or admin.
        entity: canonical entity name (``candidate``), or the admin area (``keys``).
        record_id: the record touched, if one.
        field: the field touched, if one.
        outcome: allowed or denied.
        detail: codes and ids only, never personal values.
        prev_hash: hash of the previous entry (``GENESIS_HASH`` before seq 1).
        hash: this entry's chain hash.
    """

    seq: int
    tenant_id: str
    at: datetime
    actor: str
    action: AuditAction
    entity: str
    record_id: str | None
    field: str | None
    outcome: AuditOutcome
    detail: str | None = None
    prev_hash: str = ""
    hash: str = ""

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("AuditEntry.at must be timezone-aware")
        if self.seq < 1:
            raise ValueError("AuditEntry.seq starts at 1")
        object.__setattr__(self, "action", AuditAction(self.action))
        object.__setattr__(self, "outcome", AuditOutcome(self.outcome))

    def canonical(self) -> bytes:
        """The canonical JSON the chain hashes (everything but ``prev_hash`` and ``hash``)."""
        body = {
            "v": _FORMAT_VERSION,
            "seq": self.seq,
            "tenant_id": self.tenant_id,
            "at": _utc_text(self.at),
            "actor": self.actor,
            "action": self.action.value,
            "entity": self.entity,
            "record_id": self.record_id,
            "field": self.field,
            "outcome": self.outcome.value,
            "detail": self.detail,
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
            "utf-8", "surrogatepass"
        )

    def sealed(self, prev_hash: str, *, key: bytes | None = None) -> AuditEntry:
        """A copy with ``prev_hash`` set and ``hash`` computed."""
        return replace(self, prev_hash=prev_hash, hash=chain_hash(prev_hash, self, key=key))

    @property
    def anchor(self) -> ChainAnchor:
        """``(seq, hash)`` of this entry, to publish as a trusted head or to resume from."""
        return ChainAnchor(self.seq, self.hash)

    def to_dict(self) -> dict[str, Any]:
        """Plain values, column names as in the ``audit_log`` table."""
        return {
            "seq": self.seq,
            "tenant_id": self.tenant_id,
            "at": self.at,
            "actor": self.actor,
            "action": self.action.value,
            "entity": self.entity,
            "record_id": self.record_id,
            "field": self.field,
            "outcome": self.outcome.value,
            "detail": self.detail,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> AuditEntry:
        """From a stored row (a mapping with the ``to_dict`` keys)."""
        at = row["at"]
        if isinstance(at, str):
            at = datetime.fromisoformat(at.replace("Z", "+00:00"))
        return cls(
            seq=int(row["seq"]),
            tenant_id=str(row["tenant_id"]),
            at=at,
            actor=row["actor"],
            action=AuditAction(row["action"]),
            entity=row["entity"],
            record_id=row.get("record_id"),
            field=row.get("field"),
            outcome=AuditOutcome(row["outcome"]),
            detail=row.get("detail"),
            prev_hash=row.get("prev_hash") or "",
            hash=row.get("hash") or "",
        )


@dataclass(frozen=True)
class ChainAnchor:
    """A trusted point of a chain: the entry ``seq`` had hash ``hash``."""

    seq: int
    hash: str


@dataclass(frozen=True)
class ChainVerdict:
    """The result of :func:`verify_chain`.

    Attributes:
        ok: the chain is intact.
        first_bad_seq: the first seq found wrong (or missing), when not ok.
        problem: what is wrong, in words.
        kind: ``modified``, ``missing``, ``out_of_order``, ``relinked``, ``foreign``,
            ``truncated`` or ``head_mismatch`` when not ok.
        checked: entries verified before stopping.
        head: ``(seq, hash)`` of the last good entry (publish it; pass it as the next
            run's ``anchor`` to verify only new entries).
    """

    ok: bool
    first_bad_seq: int | None = None
    problem: str | None = None
    kind: str | None = None
    checked: int = 0
    head: ChainAnchor | None = None


def chain_hash(prev_hash: str, entry: AuditEntry, *, key: bytes | None = None) -> str:
    """SHA-256 (HMAC-SHA256 with ``key``) over the previous hash and the canonical entry."""
    message = prev_hash.encode("ascii", "replace") + b"\n" + entry.canonical()
    if key is not None:
        return hmac.new(key, message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


def next_entry(
    head: ChainAnchor | AuditEntry | None,
    *,
    tenant_id: str,
    actor: str,
    action: AuditAction | str,
    entity: str,
    outcome: AuditOutcome | str,
    record_id: str | None = None,
    field: str | None = None,
    detail: str | None = None,
    at: datetime | None = None,
    key: bytes | None = None,
) -> AuditEntry:
    """The sealed entry that follows ``head`` (None: the first entry of the chain).

    The caller must append entries of one tenant one at a time (e.g. under a lock on
    the tenant's chain head); two entries sealed on the same head fork the chain.
    """
    anchor = head.anchor if isinstance(head, AuditEntry) else head
    entry = AuditEntry(
        seq=anchor.seq + 1 if anchor is not None else 1,
        tenant_id=tenant_id,
        at=at or datetime.now(UTC),
        actor=actor,
        action=AuditAction(action),
        entity=entity,
        record_id=record_id,
        field=field,
        outcome=AuditOutcome(outcome),
        detail=detail,
    )
    return entry.sealed(anchor.hash if anchor is not None else GENESIS_HASH, key=key)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("ascii", "replace"), b.encode("ascii", "replace"))


def verify_chain(
    entries: Iterable[AuditEntry],
    *,
    anchor: ChainAnchor | None = None,
    head: ChainAnchor | None = None,
    key: bytes | None = None,
) -> ChainVerdict:
    """Check a tenant's entries in ``seq`` order; stops at the first problem.

    Args:
        entries: the rows, ordered by ``seq`` (streamed; need not fit in memory).
        anchor: a trusted entry just before ``entries`` (verify from a checkpoint);
            None: ``entries`` must start at seq 1 from the genesis hash.
        head: a trusted ``(seq, hash)`` published earlier; the chain must still contain
            it unchanged (catches deleted newest rows and a recomputed chain).
        key: the HMAC key, if the chain was written with one.
    """
    expected = anchor.seq + 1 if anchor is not None else 1
    prev = anchor.hash if anchor is not None else GENESIS_HASH
    tenant: str | None = None
    last: ChainAnchor | None = anchor
    checked = 0
    head_seen = head is None or (anchor is not None and anchor.seq >= head.seq)

    def bad(seq: int, kind: str, problem: str) -> ChainVerdict:
        return ChainVerdict(False, seq, problem, kind, checked, last)

    for entry in entries:
        if tenant is None:
            tenant = entry.tenant_id
        elif entry.tenant_id != tenant:
            return bad(entry.seq, "foreign", f"seq {entry.seq} belongs to another tenant")
        if entry.seq > expected:
            return bad(expected, "missing", f"seq {expected} is missing (deleted, or rows out of order)")
        if entry.seq < expected:
            return bad(entry.seq, "out_of_order", f"seq {entry.seq} repeated or out of order")
        if entry.prev_hash and not _same(entry.prev_hash, prev):
            return bad(
                entry.seq,
                "relinked",
                f"seq {entry.seq} does not link to the entry before it (a row was deleted, inserted or moved)",
            )
        if not _same(entry.hash, chain_hash(prev, entry, key=key)):
            return bad(entry.seq, "modified", f"seq {entry.seq} was modified (its hash does not match)")
        if head is not None and entry.seq == head.seq:
            if not _same(entry.hash, head.hash):
                return bad(entry.seq, "head_mismatch", f"seq {entry.seq} differs from the published head")
            head_seen = True
        prev = entry.hash
        last = entry.anchor
        expected += 1
        checked += 1
    if not head_seen and head is not None:
        return bad(
            expected,
            "truncated",
            f"the chain ends at seq {expected - 1} but the published head is seq {head.seq}",
        )
    return ChainVerdict(True, None, None, None, checked, last)
