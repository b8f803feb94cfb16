"""Key-encryption keys, data keys and the key ring: lifecycle, rotation, shredding."""

from __future__ import annotations

import base64
import os
import pickle
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from policies import (
    DataKey,
    FieldCipher,
    KekError,
    KekProvider,
    KeyRetiredError,
    KeyRing,
    KeyStateError,
    KeyStatus,
    LocalKek,
    TenantMismatchError,
    UnknownKeyError,
    key_id_of,
    new_key_id,
)

TENANT = "tenant-a"
WHERE = {"tenant_id": TENANT, "entity": "candidate", "field": "phones", "record_id": "r-1"}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


def _reload(ring: KeyRing, kek: KekProvider | None = None) -> KeyRing:
    """What another hub process builds from the stored records."""
    return KeyRing(ring.tenant_id, ring.keys, kek or ring.kek)


# -- LocalKek ------------------------------------------------------------------------------


def test_local_kek_is_a_kek_provider() -> None:
    assert isinstance(LocalKek(bytes(32)), KekProvider)


def test_wrap_unwrap_binds_the_context() -> None:
    kek = LocalKek(os.urandom(32), key_id="k1")
    dek = os.urandom(32)
    wrapped = kek.wrap(dek, context=b"tenant-a|dk_1")
    assert dek not in wrapped
    assert kek.unwrap(wrapped, context=b"tenant-a|dk_1") == dek
    with pytest.raises(KekError):
        kek.unwrap(wrapped, context=b"tenant-b|dk_1")
    with pytest.raises(KekError):
        LocalKek(os.urandom(32), key_id="k1").unwrap(wrapped, context=b"tenant-a|dk_1")
    with pytest.raises(KekError, match="not loaded"):
        LocalKek(os.urandom(32), key_id="k2").unwrap(wrapped, context=b"tenant-a|dk_1")
    for broken in (b"", b"\x02" + wrapped[1:], wrapped[:20], wrapped[:-1]):
        with pytest.raises(KekError):
            kek.unwrap(broken, context=b"tenant-a|dk_1")


def test_from_env_single_key() -> None:
    raw = os.urandom(32)
    for text in (_b64(raw), _b64(raw).rstrip("="), f"  {_b64(raw)}\n", base64.b64encode(raw).decode()):
        kek = LocalKek.from_env({"HUB_KEK": text})
        assert kek.key_id.startswith("kek_")
        assert kek.key_id == LocalKek(raw).key_id  # a stable fingerprint names an unnamed key
        assert kek.unwrap(LocalKek(raw).wrap(b"k" * 32, context=b"c"), context=b"c") == b"k" * 32


def test_from_env_several_keys_first_wraps_all_unwrap() -> None:
    old, new = os.urandom(32), os.urandom(32)
    wrapped_by_old = LocalKek(old, key_id="2024").wrap(b"d" * 32, context=b"c")
    kek = LocalKek.from_env({"MY_KEK": f"2025:{_b64(new)}, 2024:{_b64(old)}"}, var="MY_KEK")
    assert kek.key_id == "2025"
    assert kek.key_ids == ("2025", "2024")
    assert kek.unwrap(wrapped_by_old, context=b"c") == b"d" * 32
    assert kek.wrap(b"d" * 32, context=b"c")[2:6] == b"2025"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "not set"),
        ("not base64!!", "not valid base64url"),
        (_b64(b"short"), "expected 32"),
        (f"a:{_b64(bytes(32))},{_b64(bytes(32))}", "kid"),
        (f"a:{_b64(bytes(32))},a:{_b64(bytes(32))}", "twice"),
        (f"a:{_b64(bytes(32))},,", "empty"),
        (f"bad id:{_b64(bytes(32))}", "KEK id"),
    ],
)
def test_from_env_errors_never_echo_the_key(value: str, message: str) -> None:
    with pytest.raises(KekError, match=message) as info:
        LocalKek.from_env({"HUB_KEK": value})
    assert info.value.code == "KEK_INVALID"
    secret_part = value.rpartition(":")[2]
    if len(secret_part) > 8:
        assert secret_part not in str(info.value)


def test_from_env_missing_variable() -> None:
    with pytest.raises(KekError, match="HUB_KEK is not set"):
        LocalKek.from_env({})


def test_from_file(tmp_path: Path) -> None:
    raw = os.urandom(32)
    binary = tmp_path / "kek.bin"
    binary.write_bytes(raw)
    assert LocalKek.from_file(binary).key_id == LocalKek(raw).key_id
    text = tmp_path / "kek.txt"
    text.write_text(f"# rotated 2025-03\nnew:{_b64(os.urandom(32))}\nold:{_b64(raw)}  # until rewrap is done\n")
    kek = LocalKek.from_file(text)
    assert kek.key_ids == ("new", "old")
    (tmp_path / "empty").write_text("# nothing\n")
    with pytest.raises(KekError, match="no key"):
        LocalKek.from_file(tmp_path / "empty")
    (tmp_path / "binary").write_bytes(b"\xff" * 40)
    with pytest.raises(KekError, match="neither"):
        LocalKek.from_file(tmp_path / "binary")
    with pytest.raises(KekError, match="cannot read"):
        LocalKek.from_file(tmp_path / "missing")


def test_local_kek_rejects_bad_keys() -> None:
    with pytest.raises(KekError):
        LocalKek(b"x" * 31)
    with pytest.raises(KekError):
        LocalKek(bytes(32), previous=[("k", b"short")])


# -- data keys and the ring ----------------------------------------------------------------


def test_key_ids_are_short_and_unique() -> None:
    ids = {new_key_id() for _ in range(10_000)}
    assert len(ids) == 10_000
    assert all(len(i) == 19 and i.startswith("dk_") for i in ids)


def test_create_gives_one_primary(ring: KeyRing, kek: LocalKek) -> None:
    assert ring.primary.status is KeyStatus.ACTIVE_PRIMARY
    assert ring.primary.tenant_id == TENANT
    assert ring.primary.kek_id == kek.key_id
    assert len(ring.keys) == 1
    assert ring.get(ring.primary.key_id) == ring.primary
    assert ring.primary.key_id in ring


def test_data_key_records_hold_no_clear_key_material(ring: KeyRing) -> None:
    record = ring.primary
    assert len(record.wrapped) > 32
    assert "wrapped" not in repr(record)
    assert record.key_id in repr(record)


def test_status_round_trips_as_a_plain_string(ring: KeyRing) -> None:
    stored = {**ring.primary.__dict__, "status": "ACTIVE_PRIMARY"}
    assert DataKey(**stored).status is KeyStatus.ACTIVE_PRIMARY
    with pytest.raises(ValueError):
        DataKey(**{**stored, "status": "PRIMARY"})


def test_generated_keys_start_decrypt_only(ring: KeyRing) -> None:
    primary = ring.primary
    new = ring.generate()
    assert new.status is KeyStatus.DECRYPT_ONLY
    assert ring.primary == primary  # encryption does not move until promoted
    assert key_id_of(FieldCipher(ring).encrypt("x", **WHERE)) == primary.key_id
    assert ring.generate(TENANT).tenant_id == TENANT
    with pytest.raises(TenantMismatchError):
        ring.generate("tenant-b")


def test_full_rotation(ring: KeyRing) -> None:
    """generate -> decrypt-only -> promote -> re-encrypt -> retire -> destroy."""
    cipher = FieldCipher(ring)
    first = ring.primary.key_id
    rows = {f"r-{n}": cipher.encrypt(f"1380000{n:04d}", **{**WHERE, "record_id": f"r-{n}"}) for n in range(50)}

    # 1. A new key is distributed before anyone encrypts with it.
    second = ring.generate().key_id
    other_process = FieldCipher(_reload(ring))
    assert other_process.keyring.get(second).status is KeyStatus.DECRYPT_ONLY

    # 2. Promote: new writes use it; the old key still decrypts.
    changed = ring.promote(second)
    assert {(k.key_id, k.status) for k in changed} == {
        (first, KeyStatus.DECRYPT_ONLY),
        (second, KeyStatus.ACTIVE_PRIMARY),
    }
    assert ring.promote(second) == []
    fresh = cipher.encrypt("13899990000", **{**WHERE, "record_id": "r-new"})
    assert key_id_of(fresh) == second
    assert other_process.decrypt(fresh, **{**WHERE, "record_id": "r-new"}).reveal() == "13899990000"

    # 3. Re-encrypt every row (idempotently) onto the primary.
    for record_id, token in list(rows.items()):
        where = {**WHERE, "record_id": record_id}
        rows[record_id] = cipher.reencrypt(token, **where)
        assert cipher.reencrypt(rows[record_id], **where) == rows[record_id]
    assert {key_id_of(t) for t in rows.values()} == {second}

    # 4. Retire the old key once no row uses it.
    retired = ring.retire(first)
    assert retired.status is KeyStatus.RETIRED
    for record_id, token in rows.items():
        assert cipher.decrypt(token, **{**WHERE, "record_id": record_id}).reveal().startswith("1380000")
    assert {k.key_id: k.status for k in ring.keys} == {first: KeyStatus.RETIRED, second: KeyStatus.ACTIVE_PRIMARY}


def test_retired_keys_stop_decrypting_until_reactivated(ring: KeyRing) -> None:
    cipher = FieldCipher(ring)
    first = ring.primary.key_id
    token = cipher.encrypt("13812345678", **WHERE)
    ring.promote(ring.generate().key_id)
    ring.retire(first)
    with pytest.raises(KeyRetiredError) as info:
        cipher.decrypt(token, **WHERE)
    assert info.value.code == "KEY_RETIRED"
    assert "13812345678" not in str(info.value)
    with pytest.raises(KeyRetiredError):  # also in a process that loads the stored records
        FieldCipher(_reload(ring)).decrypt(token, **WHERE)
    with pytest.raises(KeyRetiredError):
        ring.promote(first)
    assert ring.retire(first).status is KeyStatus.RETIRED  # retiring twice is harmless
    assert ring.reactivate(first).status is KeyStatus.DECRYPT_ONLY
    assert cipher.decrypt(token, **WHERE).reveal() == "13812345678"
    assert ring.reactivate(first).status is KeyStatus.DECRYPT_ONLY


def test_the_primary_cannot_be_retired_or_destroyed(ring: KeyRing) -> None:
    with pytest.raises(KeyStateError):
        ring.retire(ring.primary.key_id)
    with pytest.raises(KeyStateError):
        ring.destroy(ring.primary.key_id)
    decrypt_only = ring.generate()
    with pytest.raises(KeyStateError, match="retired before"):
        ring.destroy(decrypt_only.key_id)


def test_destroying_a_key_shreds_its_values(ring: KeyRing) -> None:
    cipher = FieldCipher(ring)
    first = ring.primary.key_id
    token = cipher.encrypt("13812345678", **WHERE)
    ring.promote(ring.generate().key_id)
    ring.retire(first)
    destroyed = ring.destroy(first)
    assert destroyed.key_id == first
    assert first not in ring
    with pytest.raises(UnknownKeyError):
        cipher.decrypt(token, **WHERE)
    with pytest.raises(UnknownKeyError):
        ring.get(first)


def test_deleting_a_tenants_keys_is_crypto_shredding(ring: KeyRing, kek: LocalKek) -> None:
    cipher = FieldCipher(ring)
    tokens = [cipher.encrypt(v, **WHERE) for v in ("13812345678", "wei@example.com", "")]
    shredded = FieldCipher(KeyRing(TENANT, [], kek))  # the stored records were deleted
    for token in tokens:
        with pytest.raises(UnknownKeyError) as info:
            shredded.decrypt(token, **WHERE)
        assert info.value.code == "KEY_UNKNOWN"
    with pytest.raises(KeyStateError):
        shredded.encrypt("x", **WHERE)


def test_kek_rotation_rewraps_data_keys_only(ring: KeyRing, kek: LocalKek) -> None:
    cipher = FieldCipher(ring)
    ring.generate()  # a decrypt-only key is rewrapped too
    token = cipher.encrypt("13812345678", **WHERE)
    new_kek = LocalKek(os.urandom(32), key_id="kek-2")
    changed = ring.rewrap(new_kek)
    assert len(changed) == 2
    assert {k.kek_id for k in ring.keys} == {"kek-2"}
    assert ring.rewrap(new_kek) == []  # resumable: nothing left to do
    assert ring.kek is new_kek
    # The stored token is untouched and still decrypts with only the new KEK loaded.
    after = FieldCipher(KeyRing(TENANT, ring.keys, new_kek))
    assert after.decrypt(token, **WHERE).reveal() == "13812345678"
    # The records wrapped by the old KEK no longer open with the new one alone.
    with pytest.raises(KekError):
        FieldCipher(KeyRing(TENANT, [replace(k, kek_id=kek.key_id) for k in ring.keys], kek)).decrypt(token, **WHERE)


def test_kek_rotation_from_the_environment(kek: LocalKek) -> None:
    old_raw = os.urandom(32)
    old = LocalKek(old_raw, key_id="2024")
    ring = KeyRing.create(TENANT, old)
    token = FieldCipher(ring).encrypt("wei@example.com", **WHERE)
    stored = ring.keys
    rotating = LocalKek.from_env({"HUB_KEK": f"2025:{_b64(os.urandom(32))},2024:{_b64(old_raw)}"})
    ring = KeyRing(TENANT, stored, rotating)
    assert FieldCipher(ring).decrypt(token, **WHERE).reveal() == "wei@example.com"
    assert [k.kek_id for k in ring.rewrap(rotating)] == ["2025"]
    assert FieldCipher(KeyRing(TENANT, ring.keys, rotating)).decrypt(token, **WHERE).reveal() == "wei@example.com"


def test_rewrap_is_all_or_nothing(ring: KeyRing, kek: LocalKek) -> None:
    ring.generate()
    broken = list(ring.keys)
    broken[1] = replace(broken[1], wrapped=broken[1].wrapped[:-1] + bytes([broken[1].wrapped[-1] ^ 1]))
    damaged = KeyRing(TENANT, broken, kek)
    with pytest.raises(KekError):
        damaged.rewrap(LocalKek(os.urandom(32), key_id="kek-2"))
    assert {k.kek_id for k in damaged.keys} == {kek.key_id}
    assert damaged.kek is kek


def test_a_wrapped_key_moved_to_another_tenant_does_not_unwrap(ring: KeyRing, kek: LocalKek) -> None:
    token = FieldCipher(ring).encrypt("x", **WHERE)
    stolen = [replace(k, tenant_id="tenant-b") for k in ring.keys]
    other = FieldCipher(KeyRing("tenant-b", stolen, kek))
    with pytest.raises(KekError):
        other.decrypt(token, **{**WHERE, "tenant_id": "tenant-b"})


def test_ring_rejects_inconsistent_records(ring: KeyRing, kek: LocalKek) -> None:
    with pytest.raises(TenantMismatchError):
        KeyRing("tenant-b", ring.keys, kek)
    with pytest.raises(KeyStateError, match="twice"):
        KeyRing(TENANT, [*ring.keys, *ring.keys], kek)
    second = replace(ring.generate(), status=KeyStatus.ACTIVE_PRIMARY)
    with pytest.raises(KeyStateError, match="2 primary"):
        KeyRing(TENANT, [ring.primary, second], kek)
    with pytest.raises(KeyStateError, match="no primary"):
        _ = KeyRing(TENANT, [], kek).primary


def test_unknown_keys(ring: KeyRing) -> None:
    for action in (ring.get, ring.promote, ring.retire, ring.destroy, ring.decryption_key):
        with pytest.raises(UnknownKeyError):
            action("dk_missing")


def test_rotation_under_concurrent_use(ring: KeyRing) -> None:
    cipher = FieldCipher(ring)
    failures: list[BaseException] = []
    stop = threading.Event()

    def churn(n: int) -> None:
        where = {**WHERE, "record_id": f"r-{n}"}
        try:
            while not stop.is_set():
                token = cipher.encrypt("13812345678", **where)
                assert cipher.decrypt(token, **where).reveal() == "13812345678"
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    workers = [threading.Thread(target=churn, args=(n,)) for n in range(4)]
    for worker in workers:
        worker.start()
    for _ in range(20):
        ring.promote(ring.generate().key_id)
    stop.set()
    for worker in workers:
        worker.join()
    assert failures == []
    assert len(ring.keys) == 21


def test_errors_pickle_for_job_queues(ring: KeyRing) -> None:
    try:
        ring.get("dk_missing")
    except UnknownKeyError as exc:
        copy = pickle.loads(pickle.dumps(exc))
        assert type(copy) is UnknownKeyError
        assert copy.key_id == "dk_missing"
        assert str(copy) == str(exc)


def test_from_string_is_what_from_env_uses() -> None:
    raw = os.urandom(32)
    assert LocalKek.from_string(f"a:{_b64(raw)}").key_id == "a"
    with pytest.raises(KekError, match="HUB_KEK setting is empty"):
        LocalKek.from_string(" ", origin="HUB_KEK setting")
