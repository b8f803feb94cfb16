"""Mask formats, including the short, empty and Unicode edge cases."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from policies import MaskFormat, Secret, mask
from policies.masking import mask_email, mask_last4, mask_name, mask_phone


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("+8613812345678", "+86138****5678"),
        ("+86-138-1234-5678", "+86138****5678"),
        ("+15550101234", "+155****1234"),
        ("５５５０１２３４", "****1234"),  # full-width digits
        ("12345678", "****5678"),
        ("1234567", "****567"),
        ("12345", "****5"),
        ("1234", "****"),
        ("1", "*"),
        ("", ""),
        ("call me", "***"),
    ],
)
def test_phone(value: str, expected: str) -> None:
    assert mask_phone(value) == expected
    assert mask(value, "phone") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("wei.zhang@example.com", "w***@example.com"),
        ("  wei.zhang@example.com ", "w***@example.com"),
        ("abc@x.cn", "a***@x.cn"),
        ("ab@x.cn", "***@x.cn"),
        ("a@x.cn", "***@x.cn"),
        ("张伟伟@例子.中国", "张***@例子.中国"),
        ("😀😀😀@x.cn", "😀***@x.cn"),
        ("👩‍💻ab@x.cn", "👩‍💻***@x.cn"),  # a ZWJ emoji stays whole
        ("e\u0301lise@x.fr", "e\u0301***@x.fr"),  # a combining accent stays with its letter
        ('a"b@c"@x.cn', "a***@x.cn"),
        ("@x.cn", "***"),
        ("not-an-email", "***"),
        ("", ""),
    ],
)
def test_email(value: str, expected: str) -> None:
    assert mask_email(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("110105194912310021", "**************0021"),
        ("11010519491231002X", "**************002X"),
        ("110105-19491231-002X", "**************002X"),
        ("1234567812345678", "************5678"),
        ("12345678", "****5678"),
        ("1234567", "****567"),
        ("1234", "****"),
        ("12", "**"),
        ("", ""),
        ("１２３４５６７８", "****5678"),
    ],
)
def test_last4(value: str, expected: str) -> None:
    assert mask_last4(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("张伟", "张*"),
        ("欧阳娜娜", "欧***"),
        ("张", "*"),
        ("Wei Zhang", "W** Z****"),
        ("  Wei   Zhang ", "W** Z****"),
        ("Madonna", "M******"),
        ("J. R. Smith", "J* R* S****"),
        ("A B", "* *"),  # initials alone would be the whole name
        ("Élise", "É****"),
        ("E\u0301lise", "E\u0301****"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_name(value: str, expected: str) -> None:
    assert mask_name(value) == expected


def test_redact_hides_everything_even_emptiness() -> None:
    for value in ("", "x", "13812345678", "张伟"):
        assert mask(value, MaskFormat.REDACT) == "***"


def test_mask_takes_secrets() -> None:
    assert mask(Secret("13812345678"), MaskFormat.PHONE) == "138****5678"
    assert mask(Secret("wei.zhang@example.com"), "email") == "w***@example.com"


def test_unknown_format() -> None:
    with pytest.raises(ValueError):
        mask("x", "initials")


@settings(database=None, max_examples=300)
@given(value=st.text(max_size=40), fmt=st.sampled_from(list(MaskFormat)))
def test_masks_never_return_a_value_of_two_or_more_characters_whole(value: str, fmt: MaskFormat) -> None:
    assume("*" not in value)
    masked = mask(value, fmt)
    stripped = value.strip()
    if len(stripped) >= 2:
        assert stripped not in masked


@settings(database=None, max_examples=300)
@given(digits=st.text(alphabet="0123456789", min_size=1, max_size=16))
def test_phone_and_last4_always_hide_at_least_four(digits: str) -> None:
    for masked in (mask_phone(digits), mask_last4(digits)):
        assert masked.count("*") >= min(4, len(digits))
        assert len(masked) == len(digits)
