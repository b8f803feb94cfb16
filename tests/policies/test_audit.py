"""The audit hash chain: modified, deleted, reordered and inserted rows are caught."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from policies import (
    GENESIS_HASH,
    AuditAction,
    AuditEntry,
    AuditOutcome,
    ChainAnchor,
    chain_hash,
    next_entry,
    verify_chain,
)

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
KEY = b"k" * 32


def build(n: int = 10, *, key: bytes | None = None, tenant: str = "tenant-a") -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    for i in range(n):
        entries.append(
            next_entry(
                entries[-1] if entries else None,
                tenant_id=tenant,
                actor=f"user:{i % 3}",
                action="read" if i % 4 else "admin",
                entity="candidate" if i % 4 else "keys",
                record_id=f"rec-{i}",
                field="phones" if i % 4 else None,
                outcome="denied" if i % 5 == 4 else "allowed",
                detail="keys.rotate dk_aaaaaaaaaaaaaaaa" if i % 4 == 0 else None,
                at=T0 + timedelta(seconds=i),
                key=key,
            )
        )
    return entries


def test_an_intact_chain_verifies() -> None:
    entries = build()
    verdict = verify_chain(entries)
    assert verdict.ok
    assert (verdict.first_bad_seq, verdict.problem, verdict.kind) == (None, None, None)
    assert verdict.checked == 10
    assert verdict.head == entries[-1].anchor == ChainAnchor(10, entries[-1].hash)
    assert [e.seq for e in entries] == list(range(1, 11))
    assert entries[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))


def test_an_empty_chain_is_fine() -> None:
    assert verify_chain([]).ok


@pytest.mark.parametrize(
    "change",
    [
        {"actor": "user:evil"},
        {"outcome": AuditOutcome.ALLOWED},
        {"action": AuditAction.WRITE},
        {"field": "emails"},
        {"record_id": "rec-other"},
        {"detail": "nothing happened"},
        {"at": T0 + timedelta(seconds=4, microseconds=1)},
        {"tenant_id": "tenant-b"},
        {"entity": "person"},
    ],
)
def test_a_modified_row_is_caught(change: dict[str, object]) -> None:
    entries = build()
    entries[4] = replace(entries[4], **change)  # type: ignore[arg-type]
    verdict = verify_chain(entries)
    assert not verdict.ok
    assert verdict.first_bad_seq == 5
    assert verdict.kind in {"modified", "foreign"}
    assert verdict.checked == 4
    assert verdict.head == entries[3].anchor


def test_a_rewritten_hash_is_caught() -> None:
    entries = build()
    entries[4] = replace(entries[4], actor="user:evil").sealed(entries[3].hash)  # consistent row, stale successor
    verdict = verify_chain(entries)
    assert (verdict.first_bad_seq, verdict.kind) == (6, "relinked")


def test_a_deleted_row_is_caught() -> None:
    entries = build()
    del entries[6]
    verdict = verify_chain(entries)
    assert (verdict.ok, verdict.first_bad_seq, verdict.kind) == (False, 7, "missing")
    assert "seq 7 is missing" in (verdict.problem or "")


def test_a_deleted_row_with_renumbering_is_caught() -> None:
    entries = build()
    del entries[6]
    entries[6:] = [replace(e, seq=e.seq - 1) for e in entries[6:]]
    verdict = verify_chain(entries)
    assert (verdict.first_bad_seq, verdict.kind) == (7, "relinked")


def test_reordered_rows_are_caught() -> None:
    entries = build()
    entries[3], entries[4] = entries[4], entries[3]
    verdict = verify_chain(entries)
    assert (verdict.first_bad_seq, verdict.kind) == (4, "missing")
    # Swapping the contents but keeping seq order (an UPDATE of two rows' seq values):
    entries = build()
    a, b = entries[3], entries[4]
    entries[3], entries[4] = replace(b, seq=a.seq), replace(a, seq=b.seq)
    verdict = verify_chain(entries)
    assert (verdict.first_bad_seq, verdict.kind) == (4, "relinked")


def test_repeated_rows_are_caught() -> None:
    entries = build()
    entries.insert(5, entries[4])
    verdict = verify_chain(entries)
    assert (verdict.first_bad_seq, verdict.kind) == (5, "out_of_order")


def test_an_inserted_row_is_caught() -> None:
    entries = build()
    forged = next_entry(
        entries[2], tenant_id="tenant-a", actor="user:9", action="read", entity="candidate", outcome="allowed", at=T0
    )
    shifted = [replace(e, seq=e.seq + 1) for e in entries[3:]]
    verdict = verify_chain([*entries[:3], forged, *shifted])
    assert not verdict.ok
    assert (verdict.first_bad_seq, verdict.kind) == (5, "relinked")


def test_a_row_of_another_tenant_is_caught() -> None:
    ours, theirs = build(), build(tenant="tenant-b")
    verdict = verify_chain([*ours[:3], theirs[3]])
    assert (verdict.first_bad_seq, verdict.kind) == (4, "foreign")


def test_a_fully_recomputed_chain_needs_the_key_or_a_published_head() -> None:
    genuine = build()
    head = genuine[-1].anchor
    # Someone with write access rewrites row 5 and recomputes every later hash.
    forged: list[AuditEntry] = []
    for entry in genuine:
        if entry.seq == 5:
            entry = replace(entry, outcome=AuditOutcome.ALLOWED, actor="user:nobody")
        forged.append(entry.sealed(forged[-1].hash if forged else GENESIS_HASH))
    assert verify_chain(forged).ok  # a keyless chain alone cannot tell
    verdict = verify_chain(forged, head=head)
    assert (verdict.ok, verdict.first_bad_seq, verdict.kind) == (False, 10, "head_mismatch")

    keyed = build(key=KEY)
    assert verify_chain(keyed, key=KEY).ok
    assert not verify_chain(keyed).ok  # verifying without the key fails at once
    reforged: list[AuditEntry] = []
    for entry in keyed:
        if entry.seq == 5:
            entry = replace(entry, actor="user:nobody")
        reforged.append(entry.sealed(reforged[-1].hash if reforged else GENESIS_HASH))  # no key at hand
    verdict = verify_chain(reforged, key=KEY)
    assert (verdict.first_bad_seq, verdict.kind) == (1, "modified")


def test_deleting_the_newest_rows_needs_a_published_head() -> None:
    entries = build()
    head = entries[-1].anchor
    assert verify_chain(entries[:7]).ok
    verdict = verify_chain(entries[:7], head=head)
    assert (verdict.ok, verdict.first_bad_seq, verdict.kind) == (False, 8, "truncated")
    assert verify_chain(entries, head=head).ok
    assert verify_chain(entries, head=entries[4].anchor).ok  # a head in the middle


def test_verifying_from_a_checkpoint() -> None:
    entries = build(20)
    checkpoint = verify_chain(entries[:12]).head
    assert checkpoint == entries[11].anchor
    assert verify_chain(entries[12:], anchor=checkpoint).ok
    assert verify_chain(entries[12:], anchor=checkpoint, head=entries[-1].anchor).ok
    verdict = verify_chain(entries[13:], anchor=checkpoint)
    assert (verdict.first_bad_seq, verdict.kind) == (13, "missing")
    verdict = verify_chain(entries[12:], anchor=ChainAnchor(12, "f" * 64))
    assert (verdict.first_bad_seq, verdict.kind) == (13, "relinked")
    without_links = [replace(e, prev_hash="") for e in entries[12:]]  # rows that do not store prev_hash
    verdict = verify_chain(without_links, anchor=ChainAnchor(12, "f" * 64))
    assert (verdict.first_bad_seq, verdict.kind) == (13, "modified")


def test_canonical_form_and_hash_are_stable() -> None:
    entry = AuditEntry(
        seq=1,
        tenant_id="tenant-a",
        at=datetime(2025, 3, 1, 16, 0, tzinfo=UTC),
        actor="user:42",
        action=AuditAction.READ,
        entity="candidate",
        record_id="rec-1",
        field="phones",
        outcome=AuditOutcome.ALLOWED,
        detail="原因",
    )
    assert (
        entry.canonical()
        == (
            '{"action":"read","actor":"user:42","at":"2025-03-01T16:00:00.000000Z","detail":"原因",'
            '"entity":"candidate","field":"phones","outcome":"allowed","record_id":"rec-1","seq":1,'
            '"tenant_id":"tenant-a","v":1}'
        ).encode()
    )
    # The same moment in another zone hashes the same.
    shanghai = entry.at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert replace(entry, at=shanghai).canonical() == entry.canonical()
    assert chain_hash(GENESIS_HASH, entry) == GOLDEN_HASH
    assert chain_hash(GENESIS_HASH, entry, key=KEY) != GOLDEN_HASH
    assert replace(entry, hash="x", prev_hash="y").canonical() == entry.canonical()


GOLDEN_HASH = "3b41fa1e6c162b7755aa9684ee5beff23f7c901b025b203959f19c56c1271184"


def test_rows_round_trip_through_the_store_form() -> None:
    entries = build()
    rows = [e.to_dict() for e in entries]
    assert set(rows[0]) == {
        "seq",
        "tenant_id",
        "at",
        "actor",
        "action",
        "entity",
        "record_id",
        "field",
        "outcome",
        "detail",
        "prev_hash",
        "hash",
    }
    assert [AuditEntry.from_dict(r) for r in rows] == entries
    as_text = [{**r, "at": r["at"].isoformat().replace("+00:00", "Z")} for r in rows]
    assert verify_chain(AuditEntry.from_dict(r) for r in as_text).ok  # streamed, from ISO strings


def test_entries_validate_their_fields() -> None:
    with pytest.raises(ValueError):
        next_entry(None, tenant_id="t", actor="a", action="delete", entity="e", outcome="allowed")
    with pytest.raises(ValueError):
        next_entry(None, tenant_id="t", actor="a", action="read", entity="e", outcome="maybe")
    with pytest.raises(ValueError):
        next_entry(
            None, tenant_id="t", actor="a", action="read", entity="e", outcome="allowed", at=datetime(2025, 1, 1)
        )
    with pytest.raises(ValueError):
        replace(build(1)[0], seq=0)


def test_next_entry_defaults() -> None:
    first = next_entry(None, tenant_id="t", actor="a", action="read", entity="e", outcome="allowed")
    assert first.seq == 1 and first.prev_hash == GENESIS_HASH and first.at.tzinfo is not None
    second = next_entry(first.anchor, tenant_id="t", actor="a", action="write", entity="e", outcome="denied")
    assert second.seq == 2 and second.prev_hash == first.hash
    assert verify_chain([first, second]).ok
