"""The signing helpers against published vectors and against the independent implementations."""

from __future__ import annotations

import base64
import time

import pytest

from simulators.signing import (
    MsgCrypt,
    SignatureError,
    feishu_decrypt,
    feishu_encrypt,
    feishu_signature,
    hr_signature,
    new_encoding_aes_key,
    new_webhook_secret,
    sha1_signature,
    standard_webhook_signature,
    verify_standard_webhook,
)
from tests.simulators import independent

AES_KEY = "c2ltLWRpbmd0YWxrLWFlcy1rZXktMzItYnl0ZXMhISE"


def test_standard_webhooks_published_vector() -> None:
    # The example from the Standard Webhooks specification / Svix documentation.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    signature = standard_webhook_signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_standard_webhooks_verify_tolerance_and_rotation() -> None:
    old, new = new_webhook_secret(), new_webhook_secret()
    now = int(time.time())
    body = b'{"type":"session.submitted"}'
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(now),
        "webhook-signature": "v1,bm9wZQ== " + standard_webhook_signature(new, "msg_1", now, body),
    }
    verify_standard_webhook([old, new], headers, body, now=now)
    assert independent.standard_webhooks_valid(new, headers, body)
    with pytest.raises(SignatureError):
        verify_standard_webhook([old], headers, body, now=now)
    with pytest.raises(SignatureError):
        verify_standard_webhook([new], headers, body, now=now + 301)
    with pytest.raises(SignatureError):
        verify_standard_webhook([new], headers, body + b" ", now=now)


def test_feishu_published_decryption_example() -> None:
    # The example from Feishu's event-subscription documentation.
    assert feishu_decrypt("test key", "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=") == "hello world"


def test_feishu_encrypt_and_signature_match_independent_code() -> None:
    encrypted = feishu_encrypt("k3y", '{"a":"审批"}')
    assert independent.lark_decrypt("k3y", encrypted) == '{"a":"审批"}'
    body = b'{"encrypt":"abc"}'
    assert feishu_signature("1700000000", "n0nce", "k3y", body) == independent.lark_signature(
        "1700000000", "n0nce", "k3y", body
    )


@pytest.mark.parametrize("message", ["success", "", "x" * 31, "审批" * 100, '{"EventType":"check_url"}'])
def test_msg_crypt_round_trips_with_independent_code(message: str) -> None:
    crypt = MsgCrypt("token", AES_KEY, "dingcorp")
    encrypted = crypt.encrypt(message)
    assert len(base64.b64decode(encrypted)) % 32 == 0  # PKCS#7 to 32-byte blocks
    assert independent.wx_decrypt(AES_KEY, encrypted) == (message.encode(), b"dingcorp")
    theirs = independent.wx_encrypt(AES_KEY, message.encode(), b"dingcorp")
    assert crypt.decrypt(theirs) == message.encode()


def test_msg_crypt_rejects_wrong_receive_id_and_garbage() -> None:
    ours = MsgCrypt("token", AES_KEY, "corp-a")
    other = MsgCrypt("token", AES_KEY, "corp-b")
    with pytest.raises(SignatureError):
        other.decrypt(ours.encrypt("hi"))
    assert other.decrypt(ours.encrypt("hi"), check_receive_id=False) == b"hi"
    with pytest.raises(SignatureError):
        ours.decrypt("not base64!!")
    with pytest.raises(SignatureError):
        ours.decrypt(base64.b64encode(b"x" * 32).decode())
    with pytest.raises(ValueError, match="43"):
        MsgCrypt("t", "short", "r")


def test_sha1_signature_is_order_independent_and_matches() -> None:
    crypt = MsgCrypt("tok", new_encoding_aes_key(), "r")
    assert crypt.signature("1", "n", "enc") == independent.wx_signature("tok", "1", "n", "enc")
    assert sha1_signature("b", "a") == sha1_signature("a", "b")
    crypt.verify(crypt.signature("1", "n", "enc"), "1", "n", "enc")
    with pytest.raises(SignatureError):
        crypt.verify("0" * 40, "1", "n", "enc")


def test_hr_signature() -> None:
    header = hr_signature("s3cret", b'{"id":1}')
    assert independent.hr_valid("s3cret", header, b'{"id":1}')
    assert not independent.hr_valid("other", header, b'{"id":1}')
