"""FieldCipher: round trips, the token format, tampering, swapping and bad tokens."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies import (
    AuthenticationFailedError,
    DataKey,
    DecryptionError,
    FieldCipher,
    KeyRing,
    LocalKek,
    MalformedCiphertextError,
    Secret,
    TenantMismatchError,
    UnknownKeyError,
    key_id_of,
    looks_encrypted,
)

TENANT = "tenant-a"
RECORD = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
WHERE = {"tenant_id": TENANT, "entity": "candidate", "field": "phones", "record_id": RECORD}
TOKEN_RE = re.compile(r"^enc:v1:A256GCM:dk_[a-z2-7]{16}:[A-Za-z0-9+/]{16}:[A-Za-z0-9+/]{22,}$")
HYPOTHESIS = settings(database=None, max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])

values = st.one_of(
    st.just(""),
    st.text(),
    st.text(min_size=2_000, max_size=20_000),
    st.text(alphabet=st.sampled_from("😀👩‍💻🇨🇳张伟\u0301\x00"), max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300).map(lambda s: f"\x00{s}\x00"),
)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    # Lenient on purpose (as base64.b64decode is): it ignores the spare bits of the last character.
    return base64.b64decode(text + "=" * (-len(text) % 4))


# -- round trips ---------------------------------------------------------------------------


@HYPOTHESIS
@given(value=values)
def test_round_trip_any_text(cipher: FieldCipher, value: str) -> None:
    token = cipher.encrypt(value, **WHERE)
    assert TOKEN_RE.match(token)
    secret = cipher.decrypt(token, **WHERE)
    assert isinstance(secret, Secret)
    assert secret.reveal() == value


@HYPOTHESIS
@given(value=st.text(max_size=50), record=st.uuids(), entity=st.text(min_size=1), field=st.text(min_size=1))
def test_round_trip_any_binding(cipher: FieldCipher, value: str, record: uuid.UUID, entity: str, field: str) -> None:
    token = cipher.encrypt(value, tenant_id=TENANT, entity=entity, field=field, record_id=record)
    assert cipher.decrypt(token, tenant_id=TENANT, entity=entity, field=field, record_id=record).reveal() == value


def test_round_trip_edge_values(cipher: FieldCipher) -> None:
    for value in ["", "\x00", "a\x00b", "😀" * 5_000, "x" * 1_000_000, "\ud800 lone surrogate", "张伟\r\n"]:
        assert cipher.decrypt(cipher.encrypt(value, **WHERE), **WHERE).reveal() == value


def test_encrypting_twice_gives_different_tokens(cipher: FieldCipher) -> None:
    tokens = {cipher.encrypt("13812345678", **WHERE) for _ in range(100)}
    assert len(tokens) == 100  # a fresh random nonce every time


def test_secret_and_uuid_inputs(cipher: FieldCipher) -> None:
    record = uuid.UUID(RECORD)
    token = cipher.encrypt(
        Secret("13812345678"), tenant_id=TENANT, entity="candidate", field="phones", record_id=record
    )
    # A UUID binds exactly like its canonical string form.
    assert cipher.decrypt(token, **WHERE).reveal() == "13812345678"


def test_encrypt_rejects_non_text(cipher: FieldCipher) -> None:
    with pytest.raises(TypeError):
        cipher.encrypt(b"bytes", **WHERE)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cipher.encrypt(None, **WHERE)  # type: ignore[arg-type]


def test_encrypt_for_another_tenant_is_refused(cipher: FieldCipher) -> None:
    with pytest.raises(TenantMismatchError) as info:
        cipher.encrypt("x", **{**WHERE, "tenant_id": "tenant-b"})
    assert info.value.code == "TENANT_MISMATCH"


# -- the token format ----------------------------------------------------------------------


def test_token_is_self_describing(cipher: FieldCipher, ring: KeyRing) -> None:
    token = cipher.encrypt("13812345678", **WHERE)
    prefix, version, algorithm, kid, nonce, body = token.split(":")
    assert (prefix, version, algorithm) == ("enc", "v1", "A256GCM")
    assert kid == ring.primary.key_id == key_id_of(token) == cipher.key_id_of(token)
    assert len(_unb64(nonce)) == 12
    assert len(_unb64(body)) == len("13812345678") + 16  # ciphertext and GCM tag
    assert looks_encrypted(token)
    assert not looks_encrypted("13812345678")
    assert not looks_encrypted(None)
    assert len(token) == 88  # what a phone column must hold


def test_token_reveals_nothing_of_the_value(cipher: FieldCipher) -> None:
    token = cipher.encrypt("wei.zhang@example.com", **WHERE)
    assert "wei" not in token
    assert "example" not in token


# -- tampering -----------------------------------------------------------------------------


def _expected_for_region(token: str, position: int) -> tuple[type[DecryptionError], ...]:
    kid_start = len("enc:v1:A256GCM:")
    kid_end = token.index(":", kid_start)
    if position < kid_start:
        return (MalformedCiphertextError,)
    if position < kid_end:
        return (UnknownKeyError, MalformedCiphertextError)
    # In the nonce or ciphertext a flip either breaks the encoding or the GCM tag.
    return (AuthenticationFailedError, MalformedCiphertextError)


@pytest.mark.parametrize("value", ["13812345678", "", "wei.zhang@example.com"])
def test_flipping_any_bit_of_the_token_is_rejected(cipher: FieldCipher, value: str) -> None:
    token = cipher.encrypt(value, **WHERE)
    for position, char in enumerate(token):
        for bit in range(8):
            tampered = token[:position] + chr(ord(char) ^ (1 << bit)) + token[position + 1 :]
            with pytest.raises(DecryptionError) as info:
                cipher.decrypt(tampered, **WHERE)
            assert isinstance(info.value, _expected_for_region(token, position)), (position, bit, info.value)


def test_flipping_any_bit_of_nonce_or_ciphertext_fails_authentication(cipher: FieldCipher) -> None:
    token = cipher.encrypt("13812345678", **WHERE)
    head, nonce_text, body_text = token.rsplit(":", 2)
    for part in ("nonce", "body"):
        raw = bytearray(_unb64(nonce_text if part == "nonce" else body_text))
        for i in range(len(raw) * 8):
            flipped = bytearray(raw)
            flipped[i // 8] ^= 1 << (i % 8)
            if part == "nonce":
                tampered = f"{head}:{_b64(bytes(flipped))}:{body_text}"
            else:
                tampered = f"{head}:{nonce_text}:{_b64(bytes(flipped))}"
            with pytest.raises(AuthenticationFailedError):
                cipher.decrypt(tampered, **WHERE)


@pytest.mark.parametrize(("value", "spare_bits"), [("x", 2), ("", 4)])
def test_non_canonical_base64_is_rejected(cipher: FieldCipher, value: str, spare_bits: int) -> None:
    # A 17-byte body ends in a character with 2 unused bits, a 16-byte one with 4.
    token = cipher.encrypt(value, **WHERE)
    head, nonce_text, body_text = token.rsplit(":", 2)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet.index(body_text[-1])
    for spare in range(1, 1 << spare_bits):
        variant = body_text[:-1] + alphabet[last ^ spare]
        assert _unb64(variant) == _unb64(body_text)  # the lenient decoder cannot tell them apart
        with pytest.raises(MalformedCiphertextError):
            cipher.decrypt(f"{head}:{nonce_text}:{variant}", **WHERE)
    # Padding, and the URL-safe alphabet's characters, are other spellings: refused too.
    for variant in (body_text + "=", body_text + "==", "-" + body_text[1:], "_" + body_text[1:]):
        with pytest.raises(MalformedCiphertextError):
            cipher.decrypt(f"{head}:{nonce_text}:{variant}", **WHERE)


def test_truncated_and_extended_tokens_are_rejected(cipher: FieldCipher) -> None:
    token = cipher.encrypt("13812345678", **WHERE)
    for cut in range(len(token)):
        with pytest.raises(DecryptionError):
            cipher.decrypt(token[:cut], **WHERE)
    for extra in ("A", "AAAA", ":", ":x", " ", "\n"):
        with pytest.raises(DecryptionError):
            cipher.decrypt(token + extra, **WHERE)


# -- swapping ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"record_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c"},
        {"field": "emails"},
        {"entity": "person"},
        {"tenant_id": "tenant-b"},
    ],
    ids=["other record", "other field", "other entity", "other tenant"],
)
def test_a_token_copied_elsewhere_fails_authentication(cipher: FieldCipher, change: dict[str, str]) -> None:
    token = cipher.encrypt("13812345678", **WHERE)
    with pytest.raises(AuthenticationFailedError) as info:
        cipher.decrypt(token, **{**WHERE, **change})
    assert info.value.code == "CIPHERTEXT_AUTH_FAILED"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"entity": "ab", "field": "c"}, {"entity": "a", "field": "bc"}),
        ({"entity": "a|1:b", "field": "c"}, {"entity": "a", "field": "b|1:c"}),
        ({"field": "x", "record_id": "1"}, {"field": "x|1:1", "record_id": ""}),
        ({"tenant_id": TENANT, "entity": ""}, {"tenant_id": TENANT + "|0:", "entity": ""}),
    ],
)
def test_bindings_cannot_be_shifted_between_parts(
    cipher: FieldCipher, first: dict[str, str], second: dict[str, str]
) -> None:
    base = {**WHERE, "tenant_id": TENANT}
    token = cipher.encrypt("v", **{**base, **first})
    with pytest.raises(DecryptionError):
        cipher.decrypt(token, **{**base, **second})


def test_a_token_moved_to_another_tenants_key_ring_names_an_unknown_key(make_ring: Callable[..., KeyRing]) -> None:
    ours, theirs = FieldCipher(make_ring("tenant-a")), FieldCipher(make_ring("tenant-b"))
    token = ours.encrypt("13812345678", **WHERE)
    with pytest.raises(UnknownKeyError):
        theirs.decrypt(token, **{**WHERE, "tenant_id": "tenant-b"})


def test_a_token_with_its_key_id_rewritten_is_rejected(make_ring: Callable[..., KeyRing]) -> None:
    ring = make_ring()
    cipher = FieldCipher(ring)
    old = ring.primary.key_id
    token = cipher.encrypt("13812345678", **WHERE)
    ring.promote(ring.generate().key_id)
    relabelled = token.replace(old, ring.primary.key_id)
    with pytest.raises(AuthenticationFailedError):
        cipher.decrypt(relabelled, **WHERE)


# -- unknown keys and malformed tokens -----------------------------------------------------


def test_unknown_key(cipher: FieldCipher) -> None:
    token = cipher.encrypt("13812345678", **WHERE)
    other = ":".join(["enc", "v1", "A256GCM", "dk_aaaaaaaaaaaaaaaa", *token.split(":")[4:]])
    with pytest.raises(UnknownKeyError) as info:
        cipher.decrypt(other, **WHERE)
    assert info.value.code == "KEY_UNKNOWN"
    assert info.value.key_id == "dk_aaaaaaaaaaaaaaaa"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "13812345678",
        "enc:",
        "enc:v2:A256GCM:dk_aaaaaaaaaaaaaaaa:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA",
        "enc:v1:A128GCM:dk_aaaaaaaaaaaaaaaa:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA",
        "enc:v1:A256GCM:dk_aaaaaaaaaaaaaaaa:AAAAAAAAAAAAAAAA",
        "enc:v1:A256GCM::AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA",
        "enc:v1:A256GCM:dk aa:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA",
        "enc:v1:A256GCM:" + "k" * 65 + ":AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA",
        "enc:v1:A256GCM:dk_aaaaaaaaaaaaaaaa:AAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA",
        "enc:v1:A256GCM:dk_aaaaaaaaaaaaaaaa:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAA",
        "enc:v1:A256GCM:dk_aaaaaaaaaaaaaaaa:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA:",
        "enc:v1:A256GCM:dk_aaaaaaaaaaaaaaaa:AAAAAAAAAAAAAAA*:AAAAAAAAAAAAAAAAAAAAAA",
        "enc:v1:A256GCM:dk_aaaaaaaaaaaaaaaa:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAé",
        "ENC:V1:A256GCM:dk_aaaaaaaaaaaaaaaa:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA",
    ],
)
def test_malformed_tokens(cipher: FieldCipher, token: str) -> None:
    with pytest.raises(MalformedCiphertextError) as info:
        cipher.decrypt(token, **WHERE)
    assert info.value.code == "CIPHERTEXT_MALFORMED"
    with pytest.raises(MalformedCiphertextError):
        key_id_of(token)


@pytest.mark.parametrize("token", [None, b"enc:v1", 42])
def test_non_string_tokens_are_malformed(cipher: FieldCipher, token: object) -> None:
    with pytest.raises(MalformedCiphertextError):
        cipher.decrypt(token, **WHERE)  # type: ignore[arg-type]


@HYPOTHESIS
@given(garbage=st.text(max_size=200))
def test_garbage_never_decrypts_and_never_crashes_otherwise(cipher: FieldCipher, garbage: str) -> None:
    for token in (garbage, "enc:v1:A256GCM:" + garbage):
        with pytest.raises(DecryptionError):
            cipher.decrypt(token, **WHERE)


def test_errors_never_contain_plaintext_or_ciphertext(cipher: FieldCipher) -> None:
    value = "13899990000"
    token = cipher.encrypt(value, **WHERE)
    _, nonce, body = token.rsplit(":", 2)
    attempts: list[Callable[[], object]] = [
        lambda: cipher.decrypt(token, **{**WHERE, "record_id": "other"}),
        lambda: cipher.decrypt(token[:-3], **WHERE),
        lambda: cipher.decrypt(token.replace("A256GCM", "A128GCM"), **WHERE),
        lambda: cipher.decrypt(value, **WHERE),
        lambda: cipher.decrypt("enc:v1:A256GCM:dk_aaaaaaaaaaaaaaaa:" + token.split(":", 4)[4], **WHERE),
    ]
    for attempt in attempts:
        with pytest.raises(DecryptionError) as info:
            attempt()
        text = f"{info.value} {info.value!r} {info.value.args}"
        for leaked in (value, nonce, body, body[:10], token):
            assert leaked not in text
        assert "candidate.phones" in text


# -- re-encryption helpers ------------------------------------------------------------------


def test_reencrypt_moves_a_token_to_the_primary_once(ring: KeyRing) -> None:
    cipher = FieldCipher(ring)
    old = cipher.encrypt("13812345678", **WHERE)
    assert not cipher.needs_reencryption(old)
    assert cipher.reencrypt(old, **WHERE) == old  # already on the primary: untouched
    ring.promote(ring.generate().key_id)
    assert cipher.needs_reencryption(old)
    new = cipher.reencrypt(old, **WHERE)
    assert key_id_of(new) == ring.primary.key_id
    assert cipher.reencrypt(new, **WHERE) == new
    assert cipher.decrypt(new, **WHERE).reveal() == "13812345678"


def test_cipher_repr_shows_no_keys(cipher: FieldCipher, kek: LocalKek) -> None:
    assert repr(cipher) == "FieldCipher(tenant_id='tenant-a')"
    assert "kek-1" in repr(kek)


def test_uuid_tenant_and_record_ids_bind_as_their_text(kek: LocalKek) -> None:
    tenant, record = uuid.uuid4(), uuid.uuid4()
    ring = KeyRing.create(tenant, kek)
    assert ring.tenant_id == str(tenant)
    stored = [DataKey(**{**k.__dict__, "tenant_id": tenant}) for k in ring.keys]  # as the store returns them
    cipher = FieldCipher(KeyRing(tenant, stored, kek))
    token = cipher.encrypt("x", tenant_id=tenant, entity="candidate", field="phones", record_id=record)
    text_ids = {"tenant_id": str(tenant), "entity": "candidate", "field": "phones", "record_id": str(record)}
    assert cipher.decrypt(token, **text_ids).reveal() == "x"
