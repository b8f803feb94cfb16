"""Blind indexes: normalization, and keys separated per tenant, field and from data keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies import (
    BlindIndexer,
    Secret,
    normalize,
    normalize_email,
    normalize_national_id,
    normalize_phone,
    normalize_text,
)

ROOT = bytes(range(32))
AT = {"tenant_id": "tenant-a", "entity": "candidate"}


@pytest.fixture
def indexer() -> BlindIndexer:
    return BlindIndexer(ROOT)


# -- normalization -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Wei.Zhang@Example.COM", "wei.zhang@example.com"),
        ("  wei.zhang@example.com \t\n", "wei.zhang@example.com"),
        ("ＷＥＩ＠ＥＸＡＭＰＬＥ．ＣＯＭ", "wei@example.com"),  # full-width input from a Chinese IME
        ("", None),
        ("   ", None),
    ],
)
def test_email(raw: str, expected: str | None) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("+86-138-0000-0000", "CN", "+8613800000000"),
        ("138 0000 0000", "CN", "+8613800000000"),
        ("13800000000", "CN", "+8613800000000"),
        ("0086 138 0000 0000", "CN", "+8613800000000"),
        ("008613800000000", "CN", "+8613800000000"),
        ("+86 (138) 0000-0000", "CN", "+8613800000000"),
        ("（+86）138 0000 0000", "CN", "+8613800000000"),
        ("＋８６ １３８００００００００", "CN", "+8613800000000"),
        ("+86 0138 0000 0000", "CN", "+8613800000000"),  # stray trunk zero after the code
        ("010-1234 5678", "CN", "+861012345678"),  # Beijing landline with trunk prefix
        ("+86 10 1234 5678", "CN", "+861012345678"),
        ("138.0000.0000 转 123", "CN", "+8613800000000"),
        ("(555) 010-1234", "US", "+15550101234"),
        ("1 (555) 010-1234", "US", "+15550101234"),
        ("+1 555 010 1234 ext. 7", "US", "+15550101234"),
        ("555-010-1234 x7", "US", "+15550101234"),
        ("011 86 138 0000 0000", "US", "+8613800000000"),
        ("0086 138 0000 0000", "US", "+8613800000000"),
        ("+44 (0)20 7946 0958", "CN", "+442079460958"),
        ("+44 020 7946 0958", "CN", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("+852 6123 4567", "CN", "+85261234567"),
        ("6123 4567", "HK", "+85261234567"),
        ("", "CN", None),
        ("  -- ", "CN", None),
        ("no phone", "CN", None),
        ("+", "CN", None),
        ("0", "CN", None),
    ],
)
def test_phone(raw: str, country: str, expected: str | None) -> None:
    assert normalize_phone(raw, default_country=country) == expected


def test_phone_unknown_country() -> None:
    with pytest.raises(ValueError, match="unknown default country"):
        normalize_phone("123", default_country="XX")
    with pytest.raises(ValueError):
        BlindIndexer(ROOT, default_country="XX")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("11010519491231002x", "11010519491231002X"),
        ("110105 19491231 002X", "11010519491231002X"),
        ("110105-1949-1231-002x", "11010519491231002X"),
        ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),
        ("e12.345.678", "E12345678"),
        ("A123456(7)", "A1234567"),  # a Hong Kong identity card number
        ("", None),
        (" - ", None),
    ],
)
def test_national_id(raw: str, expected: str | None) -> None:
    assert normalize_national_id(raw) == expected


def test_text() -> None:
    assert normalize_text("  Wei   ZHANG\t") == "wei zhang"
    assert normalize_text("Straße") == normalize_text("STRASSE")
    assert normalize_text("张  伟") == "张 伟"
    assert normalize_text(" \n ") is None


def test_normalize_dispatches_and_accepts_secrets() -> None:
    assert normalize(Secret(" A@B.cn "), "email") == "a@b.cn"
    assert normalize("138 0000 0000", "phone") == "+8613800000000"
    assert normalize("(555) 010-1234", "phone", default_country="US") == "+15550101234"
    with pytest.raises(ValueError, match="unknown blind index kind"):
        normalize("x", "name")  # type: ignore[arg-type]


PHONEISH = st.text(alphabet="0123456789 +-()（）.", max_size=25)


@settings(database=None, max_examples=300)
@given(raw=PHONEISH, country=st.sampled_from(["CN", "US", "GB", "HK"]))
def test_phone_normalization_is_idempotent_and_e164_shaped(raw: str, country: str) -> None:
    once = normalize_phone(raw, default_country=country)
    if once is None:
        return
    assert re.fullmatch(r"\+\d+", once)
    assert normalize_phone(once, default_country=country) == once


@settings(database=None, max_examples=300)
@given(raw=st.text(max_size=60))
def test_normalizers_are_idempotent_and_total(raw: str) -> None:
    for fn in (normalize_email, normalize_national_id, normalize_text):
        once = fn(raw)
        assert once is None or fn(once) == once


# -- indexing ------------------------------------------------------------------------------


def test_equal_values_index_equally(indexer: BlindIndexer) -> None:
    spellings = ["+86-138-0000-0000", "138 0000 0000", "0086 13800000000", "（+86）13800000000"]
    digests = {indexer.index(s, field="phones", kind="phone", **AT) for s in spellings}
    assert len(digests) == 1
    digest = digests.pop()
    assert digest is not None
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", digest)  # 128 bits, fits the 80-character column
    assert indexer.index("13800000001", field="phones", kind="phone", **AT) != digest


def test_secret_values_index_like_their_text(indexer: BlindIndexer) -> None:
    a = indexer.index(Secret("Wei@Example.com"), field="emails", kind="email", **AT)
    assert a == indexer.index("wei@example.com", field="emails", kind="email", **AT)


def test_empty_values_have_no_index(indexer: BlindIndexer) -> None:
    for value, kind in [("", "email"), ("  ", "text"), ("--", "phone"), (" - ", "national_id")]:
        assert indexer.index(value, field="f", kind=kind, **AT) is None  # type: ignore[arg-type]


def test_tenants_fields_and_entities_get_unrelated_digests(indexer: BlindIndexer) -> None:
    value = "wei.zhang@example.com"
    digests = {
        indexer.index(value, tenant_id="tenant-a", entity="candidate", field="emails", kind="email"),
        indexer.index(value, tenant_id="tenant-b", entity="candidate", field="emails", kind="email"),
        indexer.index(value, tenant_id="tenant-a", entity="person", field="emails", kind="email"),
        indexer.index(value, tenant_id="tenant-a", entity="candidate", field="email", kind="email"),
        indexer.index(value, tenant_id="tenant-a", entity="candidate", field="emails", kind="text"),
        # Length prefixes keep shifted names apart: ("ab", "c") is not ("a", "bc").
        indexer.index(value, tenant_id="tenant-a", entity="candidatee", field="mails", kind="email"),
    }
    assert len(digests) == 6


def test_another_root_secret_gives_other_digests(indexer: BlindIndexer) -> None:
    other = BlindIndexer(os.urandom(32))
    args = {"field": "phones", "kind": "phone", **AT}
    assert indexer.index("13800000000", **args) != other.index("13800000000", **args)  # type: ignore[arg-type]


def test_the_index_key_is_derived_not_the_root(indexer: BlindIndexer) -> None:
    digest = indexer.index("a@b.cn", field="emails", kind="email", **AT)
    naive = hmac.new(ROOT, b"a@b.cn", hashlib.sha256).digest()[:16]
    assert digest != base64.urlsafe_b64encode(naive).rstrip(b"=").decode()


def test_digests_are_stable_across_instances(indexer: BlindIndexer) -> None:
    # A golden value: changing derivation or normalization silently would orphan every stored index.
    digest = BlindIndexer(ROOT).index("wei.zhang@example.com", field="emails", kind="email", **AT)
    assert digest == indexer.index(" WEI.ZHANG@example.com ", field="emails", kind="email", **AT)
    assert digest == GOLDEN_EMAIL_DIGEST


GOLDEN_EMAIL_DIGEST = "SaL6yr7ATKMPYB2xbcB6KQ"


def test_root_secret_must_be_long_enough() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        BlindIndexer(b"short")


def test_unknown_kind(indexer: BlindIndexer) -> None:
    with pytest.raises(ValueError):
        indexer.index("x", field="f", kind="name", **AT)  # type: ignore[arg-type]


def test_repr_hides_the_root(indexer: BlindIndexer) -> None:
    assert ROOT.hex() not in repr(indexer)
    assert "BlindIndexer" in repr(indexer)
