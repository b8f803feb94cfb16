"""connectors/webhooks.py: every scheme, good and bad, cross-checked against simulators.signing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from connectors.errors import SignatureInvalid, TimestampOutOfTolerance, WebhookPayloadInvalid
from connectors.webhooks import (
    MsgCrypt,
    feishu_decrypt,
    feishu_encrypt,
    feishu_signature,
    parse_xml,
    sign_standard_webhook,
    sign_stripe,
    verify_feishu_signature,
    verify_hmac_signature,
    verify_standard_webhook,
    verify_stripe_signature,
)
from simulators import signing

NOW = 1741502800.0
SECRET = "whsec_" + base64.b64encode(b"current-secret-0123456789ab").decode()
OLD = "whsec_" + base64.b64encode(b"previous-secret-0123456789a").decode()
BODY = b'{"type":"session.submitted","data":{"sessionId":"ais_1"}}'


def standard(body: bytes = BODY, *, secrets=(SECRET,), at: float = NOW, msg_id: str = "msg_1") -> dict[str, str]:
    stamp = int(at)
    sigs = " ".join(signing.standard_webhook_signature(s, msg_id, stamp, body) for s in secrets)
    return {"webhook-id": msg_id, "webhook-timestamp": str(stamp), "webhook-signature": sigs}


# --- Standard Webhooks -----------------------------------------------------------------------------------


def test_standard_good_delivery_returns_the_message_id() -> None:
    assert verify_standard_webhook(standard(), BODY, [SECRET], now=NOW) == "msg_1"


def test_standard_our_signature_matches_the_independent_one() -> None:
    ours = sign_standard_webhook(SECRET, "msg_9", 1741500000, BODY)
    assert ours == signing.standard_webhook_signature(SECRET, "msg_9", 1741500000, BODY)
    signing.verify_standard_webhook(
        [SECRET],
        {"webhook-id": "msg_9", "webhook-timestamp": "1741500000", "webhook-signature": ours},
        BODY,
        now=1741500000,
    )


def test_standard_wrong_secret_is_refused() -> None:
    with pytest.raises(SignatureInvalid):
        verify_standard_webhook(standard(), BODY, [OLD], now=NOW)


def test_standard_tampered_body_is_refused() -> None:
    with pytest.raises(SignatureInvalid):
        verify_standard_webhook(standard(), BODY.replace(b"ais_1", b"ais_2"), [SECRET], now=NOW)


def test_standard_tampered_id_or_timestamp_is_refused() -> None:
    headers = standard()
    with pytest.raises(SignatureInvalid):
        verify_standard_webhook({**headers, "webhook-id": "msg_2"}, BODY, [SECRET], now=NOW)
    with pytest.raises(SignatureInvalid):
        verify_standard_webhook({**headers, "webhook-timestamp": str(int(NOW) + 1)}, BODY, [SECRET], now=NOW)


@pytest.mark.parametrize("offset", [-301, 301, -86400])
def test_standard_stale_or_future_timestamp_is_refused(offset: int) -> None:
    with pytest.raises(TimestampOutOfTolerance):
        verify_standard_webhook(standard(at=NOW + offset), BODY, [SECRET], now=NOW)


def test_standard_within_tolerance_passes() -> None:
    assert verify_standard_webhook(standard(at=NOW - 299), BODY, [SECRET], now=NOW)


def test_standard_rotation_sender_signs_with_both_receiver_knows_one() -> None:
    both = standard(secrets=(OLD, SECRET))
    assert verify_standard_webhook(both, BODY, [SECRET], now=NOW)
    assert verify_standard_webhook(both, BODY, [OLD], now=NOW)


def test_standard_rotation_receiver_accepts_old_and_new_secrets() -> None:
    assert verify_standard_webhook(standard(secrets=(OLD,)), BODY, [SECRET, OLD], now=NOW)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"webhook-id": "m", "webhook-timestamp": "x", "webhook-signature": "v1,abc"},
        {"webhook-id": "m", "webhook-timestamp": str(int(NOW)), "webhook-signature": "v2,abc"},
        {"webhook-id": "m", "webhook-timestamp": str(int(NOW))},
    ],
)
def test_standard_missing_or_malformed_headers(headers: dict[str, str]) -> None:
    with pytest.raises(SignatureInvalid):
        verify_standard_webhook(headers, BODY, [SECRET], now=NOW)


def test_standard_accepts_svix_prefixed_headers() -> None:
    headers = {k.replace("webhook-", "svix-"): v for k, v in standard().items()}
    assert verify_standard_webhook(headers, BODY, [SECRET], now=NOW) == "msg_1"


# --- Stripe-style -----------------------------------------------------------------------------------------


def test_stripe_good_bad_stale_and_rotated() -> None:
    header = sign_stripe("sk_1", int(NOW), BODY)
    expected = hmac.new(b"sk_1", f"{int(NOW)}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={int(NOW)},v1={expected}"
    assert verify_stripe_signature(header, BODY, ["sk_1"], now=NOW) == int(NOW)
    with pytest.raises(SignatureInvalid):
        verify_stripe_signature(header, BODY + b" ", ["sk_1"], now=NOW)
    with pytest.raises(SignatureInvalid):
        verify_stripe_signature(header, BODY, ["sk_2"], now=NOW)
    with pytest.raises(TimestampOutOfTolerance):
        verify_stripe_signature(sign_stripe("sk_1", int(NOW) - 400, BODY), BODY, ["sk_1"], now=NOW)
    rotated = header + "," + sign_stripe("sk_0", int(NOW), BODY).split(",")[1]
    assert verify_stripe_signature(rotated, BODY, ["sk_0"], now=NOW)
    for broken in (None, "", "t=abc,v1=00", "v1=00"):
        with pytest.raises(SignatureInvalid):
            verify_stripe_signature(broken, BODY, ["sk_1"], now=NOW)


# --- plain HMAC header (HR system) ---------------------------------------------------------------------


def test_hmac_header_matches_the_hr_system() -> None:
    header = signing.hr_signature("hr-secret", BODY)
    verify_hmac_signature(header, BODY, ["hr-secret"])
    verify_hmac_signature(header.upper().replace("SHA256=", "sha256="), BODY, ["hr-secret"])  # hex case
    with pytest.raises(SignatureInvalid):
        verify_hmac_signature(header, BODY + b"x", ["hr-secret"])
    with pytest.raises(SignatureInvalid):
        verify_hmac_signature(header, BODY, ["other"])
    with pytest.raises(SignatureInvalid):
        verify_hmac_signature(None, BODY, ["hr-secret"])
    verify_hmac_signature(header, BODY, ["new", "hr-secret"])  # rotation


@pytest.mark.parametrize("encoding", ["base64", "base64url"])
def test_hmac_header_base64_encodings(encoding: str) -> None:
    digest = hmac.new(b"k", BODY, hashlib.sha256).digest()
    value = base64.b64encode(digest).decode() if encoding == "base64" else base64.urlsafe_b64encode(digest).decode()
    verify_hmac_signature(value, BODY, ["k"], prefix="", encoding=encoding)


# --- DingTalk / WeCom msg-crypt ----------------------------------------------------------------------


AES = "c2ltLWRpbmd0YWxrLWFlcy1rZXktMzItYnl0ZXMhISE"


def test_msgcrypt_decrypts_what_the_independent_implementation_encrypts() -> None:
    theirs = signing.MsgCrypt("token", AES, "dingappkey")
    ours = MsgCrypt("token", AES, "dingappkey")
    encrypted = theirs.encrypt('{"EventType":"check_url"}')
    assert ours.decrypt(encrypted) == b'{"EventType":"check_url"}'
    assert ours.signature("1741502800000", "n", encrypted) == theirs.signature("1741502800000", "n", encrypted)
    assert theirs.decrypt(ours.encrypt("success")) == b"success"


def test_msgcrypt_wrong_token_or_key_or_receiver() -> None:
    theirs = signing.MsgCrypt("token", AES, "corp1")
    encrypted = theirs.encrypt("hello")
    signature = theirs.signature("1", "n", encrypted)
    with pytest.raises(SignatureInvalid):
        MsgCrypt("other-token", AES, "corp1").verify(signature, "1", "n", encrypted)
    with pytest.raises(SignatureInvalid):
        MsgCrypt("token", AES, "corp1").verify(signature, "2", "n", encrypted)
    with pytest.raises(WebhookPayloadInvalid):
        MsgCrypt("token", "b" * 43, "corp1").decrypt(encrypted)
    with pytest.raises(WebhookPayloadInvalid):
        MsgCrypt("token", AES, "corp2").decrypt(encrypted)
    assert MsgCrypt("token", AES, None).decrypt(encrypted) == b"hello"  # receive id check skipped
    with pytest.raises(WebhookPayloadInvalid):
        MsgCrypt("token", AES, None).decrypt("not base64!!")
    with pytest.raises(ValueError, match="43"):
        MsgCrypt("token", "short", None)


# --- Feishu ----------------------------------------------------------------------------------------------


def test_feishu_signature_and_encryption_interoperate() -> None:
    body = b'{"encrypt":"x"}'
    assert feishu_signature("1741502800", "nonce", "key", body) == signing.feishu_signature(
        "1741502800", "nonce", "key", body
    )
    assert feishu_decrypt("key", signing.feishu_encrypt("key", '{"a":1}')) == '{"a":1}'
    assert signing.feishu_decrypt("key", feishu_encrypt("key", "中文")) == "中文"
    with pytest.raises(WebhookPayloadInvalid):
        feishu_decrypt("other-key", signing.feishu_encrypt("key", '{"a":1}' * 5))


def test_feishu_header_check() -> None:
    body = json.dumps({"uuid": "1"}).encode()
    headers = {
        "x-lark-request-timestamp": str(int(NOW)),
        "x-lark-request-nonce": "n",
        "x-lark-signature": signing.feishu_signature(str(int(NOW)), "n", "key", body),
    }
    verify_feishu_signature(headers, body, "key", now=NOW)
    with pytest.raises(SignatureInvalid):
        verify_feishu_signature(headers, body + b" ", "key", now=NOW)
    with pytest.raises(SignatureInvalid):
        verify_feishu_signature(headers, body, "wrong", now=NOW)
    with pytest.raises(TimestampOutOfTolerance):
        verify_feishu_signature(headers, body, "key", now=NOW + 600)
    with pytest.raises(SignatureInvalid):
        verify_feishu_signature({}, body, "key", now=NOW)


# --- XML -------------------------------------------------------------------------------------------------


def test_parse_xml_reads_cdata_nesting_and_repeats() -> None:
    doc = parse_xml(b"<xml><A><![CDATA[x]]></A><B><C>1</C><C>2</C></B></xml>")
    assert doc == {"A": "x", "B": {"C": ["1", "2"]}}


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><xml>&a;</xml>',
        b"<xml><unclosed></xml>",
        b"not xml",
    ],
)
def test_parse_xml_refuses_dtds_and_garbage(body: bytes) -> None:
    with pytest.raises(WebhookPayloadInvalid):
        parse_xml(body)
