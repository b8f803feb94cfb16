"""Signature and encryption schemes of the upstream dialects, written from the vendors' documentation.

The simulators use these to PRODUCE callbacks; the hub's connectors verify them with their own, independent
code, and the tests of both sides cross-check. Every function here is pure (bytes and strings in and out).

- DingTalk and WeCom share the "msg crypt" scheme (`MsgCrypt`): the 43-character EncodingAESKey plus ``=``
  is base64 of a 32-byte AES key; the IV is the key's first 16 bytes; the plaintext is 16 random bytes, the
  message length as 4 big-endian bytes, the message, then the receive id (WeCom corpid, DingTalk appKey,
  corpId or suiteKey); PKCS#7 padding to a 32-byte block; AES-256-CBC; base64. The signature is the SHA-1 hex
  digest of the sorted, concatenated token, timestamp, nonce and ciphertext.
- Feishu: ``X-Lark-Signature`` is sha256(timestamp + nonce + encrypt_key + raw body) in hex; an encrypted
  event body is ``{"encrypt": base64(iv + AES-256-CBC(key=sha256(encrypt_key), PKCS#7 16))}``.
- Standard Webhooks: ``webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`` where
  the key is the base64 part of a ``whsec_`` secret.
- HR system: ``X-HR-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>``.

Example:
    >>> crypt = MsgCrypt("token", "a" * 43, "corp1")
    >>> crypt.decrypt(crypt.encrypt("success"))
    b'success'
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = [
    "MsgCrypt",
    "SignatureError",
    "feishu_decrypt",
    "feishu_encrypt",
    "feishu_signature",
    "hr_signature",
    "new_encoding_aes_key",
    "new_webhook_secret",
    "sha1_signature",
    "standard_webhook_signature",
    "verify_standard_webhook",
]


class SignatureError(ValueError):
    """A signature, padding or receive id did not check out."""


def sha1_signature(*parts: str) -> str:
    """SHA-1 hex of the parts sorted and concatenated (DingTalk and WeCom ``signature``)."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()  # noqa: S324 - the vendors' scheme


def new_encoding_aes_key() -> str:
    """A fresh 43-character EncodingAESKey as the vendor consoles generate."""
    return base64.b64encode(os.urandom(32)).decode().rstrip("=")


def _pkcs7_pad(data: bytes, block: int) -> bytes:
    amount = block - len(data) % block
    return data + bytes([amount]) * amount


def _pkcs7_unpad(data: bytes, block: int) -> bytes:
    if not data:
        raise SignatureError("empty plaintext")
    amount = data[-1]
    if not 1 <= amount <= block or data[-amount:] != bytes([amount]) * amount:
        raise SignatureError("bad PKCS#7 padding")
    return data[:-amount]


def _aes_cbc(key: bytes, iv: bytes, data: bytes, *, encrypt: bool) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.CBC(iv))
    worker = cipher.encryptor() if encrypt else cipher.decryptor()
    return worker.update(data) + worker.finalize()


class MsgCrypt:
    """The DingTalk / WeCom callback crypto for one token, EncodingAESKey and receive id."""

    BLOCK = 32

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        if len(encoding_aes_key) != 43:
            raise ValueError("EncodingAESKey must be 43 characters")
        self.token = token
        self.key = base64.b64decode(encoding_aes_key + "=")
        self.receive_id = receive_id

    def encrypt(self, message: str | bytes, *, random_prefix: bytes | None = None) -> str:
        """Encrypt one message; ``random_prefix`` (16 bytes) is for reproducible tests only."""
        body = message.encode() if isinstance(message, str) else message
        prefix = random_prefix if random_prefix is not None else os.urandom(16)
        plain = prefix + struct.pack(">I", len(body)) + body + self.receive_id.encode()
        padded = _pkcs7_pad(plain, self.BLOCK)
        return base64.b64encode(_aes_cbc(self.key, self.key[:16], padded, encrypt=True)).decode()

    def decrypt(self, encrypted: str, *, check_receive_id: bool = True) -> bytes:
        """Decrypt one message; raises SignatureError when padding or the receive id is wrong."""
        try:
            raw = base64.b64decode(encrypted, validate=True)
        except ValueError as exc:
            raise SignatureError("ciphertext is not base64") from exc
        if not raw or len(raw) % 16:
            raise SignatureError("ciphertext length is not a multiple of the AES block")
        plain = _pkcs7_unpad(_aes_cbc(self.key, self.key[:16], raw, encrypt=False), self.BLOCK)
        if len(plain) < 20:
            raise SignatureError("plaintext too short")
        (length,) = struct.unpack(">I", plain[16:20])
        message, receive_id = plain[20 : 20 + length], plain[20 + length :]
        if len(message) != length:
            raise SignatureError("message length field is wrong")
        if check_receive_id and receive_id.decode(errors="replace") != self.receive_id:
            raise SignatureError("receive id does not match")
        return message

    def signature(self, timestamp: str, nonce: str, encrypted: str) -> str:
        """The SHA-1 signature over token, timestamp, nonce and ciphertext."""
        return sha1_signature(self.token, timestamp, nonce, encrypted)

    def verify(self, signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        """Raise SignatureError unless ``signature`` matches."""
        if not hmac.compare_digest(signature, self.signature(timestamp, nonce, encrypted)):
            raise SignatureError("signature mismatch")


def feishu_signature(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    """``X-Lark-Signature``: sha256 hex of timestamp + nonce + encrypt_key + raw body."""
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode() + body).hexdigest()


def feishu_encrypt(encrypt_key: str, plaintext: str, *, iv: bytes | None = None) -> str:
    """Feishu event encryption: base64(iv + AES-256-CBC(sha256(encrypt_key), PKCS#7 16))."""
    key = hashlib.sha256(encrypt_key.encode()).digest()
    vector = iv if iv is not None else os.urandom(16)
    padded = _pkcs7_pad(plaintext.encode(), 16)
    return base64.b64encode(vector + _aes_cbc(key, vector, padded, encrypt=True)).decode()


def feishu_decrypt(encrypt_key: str, encrypted: str) -> str:
    """Inverse of `feishu_encrypt`; raises SignatureError on bad input."""
    key = hashlib.sha256(encrypt_key.encode()).digest()
    try:
        raw = base64.b64decode(encrypted, validate=True)
    except ValueError as exc:
        raise SignatureError("ciphertext is not base64") from exc
    if len(raw) < 32 or len(raw) % 16:
        raise SignatureError("ciphertext has a bad length")
    return _pkcs7_unpad(_aes_cbc(key, raw[:16], raw[16:], encrypt=False), 16).decode()


def new_webhook_secret() -> str:
    """A fresh ``whsec_`` secret (24 random bytes, base64)."""
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


def _webhook_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def standard_webhook_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` per the Standard Webhooks spec."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_webhook_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify_standard_webhook(
    secrets: list[str], headers: dict[str, str], body: bytes, *, now: float, tolerance: int = 300
) -> None:
    """Raise SignatureError unless one of ``secrets`` signed the message within ``tolerance`` seconds.

    ``headers`` needs lower-case ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` keys.
    """
    try:
        msg_id = headers["webhook-id"]
        timestamp = int(headers["webhook-timestamp"])
        offered = headers["webhook-signature"].split()
    except (KeyError, ValueError) as exc:
        raise SignatureError("missing or malformed webhook headers") from exc
    if abs(now - timestamp) > tolerance:
        raise SignatureError("timestamp outside the tolerance")
    for secret in secrets:
        expected = standard_webhook_signature(secret, msg_id, timestamp, body)
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return
    raise SignatureError("no matching signature")


def hr_signature(secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256(secret, raw body)>`` for the HR system's ``X-HR-Signature``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
