"""Webhook verification primitives, one function per scheme; pure (bytes, secrets and ``now`` in).

Every check runs on the raw body before anything parses it, compares in constant time, and raises the
`connectors.errors` webhook errors: `SignatureInvalid`, `TimestampOutOfTolerance`,
`WebhookPayloadInvalid`.

- **Standard Webhooks** (also Svix): ``webhook-id``, ``webhook-timestamp``, ``webhook-signature`` =
  space-separated ``v1,<base64 HMAC-SHA256(key, "{id}.{ts}.{body}")>``; several signatures and several
  ``whsec_`` secrets during rotation; 5 minutes tolerance. `sign_standard_webhook` produces them (the
  hub's outbound deliveries).
- **Stripe-style**: ``t=<ts>,v1=<hex HMAC-SHA256(secret, "{t}.{body}")>`` (several ``v1`` allowed).
- **HMAC header**: hex or base64 HMAC-SHA256 of the raw body, optional ``sha256=`` prefix (HR system's
  ``X-HR-Signature``).
- **DingTalk / WeCom msg-crypt** (`MsgCrypt`): SHA-1 over the sorted token, timestamp, nonce and
  ciphertext; AES-256-CBC with the 43-character EncodingAESKey, IV = key[:16], 32-byte PKCS#7 blocks,
  plaintext = 16 random bytes + 4-byte big-endian length + message + receive id.
- **Feishu**: ``X-Lark-Signature`` = hex sha256(timestamp + nonce + encrypt_key + raw body); encrypted
  bodies ``{"encrypt": base64(iv + AES-256-CBC(sha256(encrypt_key)))}``.

Example:
    >>> secret = "whsec_" + base64.b64encode(b"k" * 24).decode()
    >>> sig = sign_standard_webhook(secret, "msg_1", 1741500000, b'{"a":1}')
    >>> verify_standard_webhook({"webhook-id": "msg_1", "webhook-timestamp": "1741500000",
    ...     "webhook-signature": sig}, b'{"a":1}', [secret], now=1741500100.0)
    'msg_1'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import struct
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from connectors.errors import SignatureInvalid, TimestampOutOfTolerance, WebhookPayloadInvalid

__all__ = [
    "DEFAULT_TOLERANCE",
    "MsgCrypt",
    "check_timestamp",
    "feishu_decrypt",
    "feishu_encrypt",
    "feishu_signature",
    "hmac_sha256",
    "parse_json_body",
    "parse_xml",
    "sha1_signature",
    "sign_standard_webhook",
    "sign_stripe",
    "verify_feishu_signature",
    "verify_hmac_signature",
    "verify_standard_webhook",
    "verify_stripe_signature",
]

DEFAULT_TOLERANCE = 300  # seconds, the Standard Webhooks recommendation
_MAX_BODY = 5 * 1024 * 1024


def check_timestamp(timestamp: float, *, now: float, tolerance: float = DEFAULT_TOLERANCE) -> None:
    """Refuse a signed timestamp older or newer than ``tolerance`` seconds."""
    if abs(now - timestamp) > tolerance:
        raise TimestampOutOfTolerance(
            f"signed timestamp is {abs(now - timestamp):.0f}s away from now (tolerance {tolerance:.0f}s)"
        )


def _int_header(value: str | None, name: str) -> int:
    if value is None or not value.strip().lstrip("-").isdigit():
        raise SignatureInvalid(f"missing or malformed {name}")
    return int(value.strip())


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


# --- Standard Webhooks ----------------------------------------------------------------------------


def _standard_key(secret: str) -> bytes:
    raw = secret.removeprefix("whsec_")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return raw.encode()  # a non-base64 secret is used as bytes, as some senders do


def sign_standard_webhook(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 signature>`` for one secret."""
    digest = hmac_sha256(_standard_key(secret), f"{msg_id}.{timestamp}.".encode() + body)
    return "v1," + base64.b64encode(digest).decode()


def verify_standard_webhook(
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    *,
    now: float,
    tolerance: float = DEFAULT_TOLERANCE,
) -> str:
    """Verify a Standard Webhooks delivery; return its message id. ``headers`` keys lower-case.

    Any offered ``v1`` signature matching any of ``secrets`` passes (rotation on either side).
    """
    prefix = "webhook-" if "webhook-id" in headers else "svix-"
    msg_id = headers.get(prefix + "id")
    offered = headers.get(prefix + "signature")
    if not msg_id or not offered:
        raise SignatureInvalid("missing webhook-id or webhook-signature header")
    timestamp = _int_header(headers.get(prefix + "timestamp"), "webhook-timestamp")
    signatures = [part.split(",", 1)[1] for part in offered.split() if part.startswith("v1,")]
    if not signatures:
        raise SignatureInvalid("no v1 signature in webhook-signature")
    signed = f"{msg_id}.{timestamp}.".encode() + body
    for secret in secrets:
        expected = base64.b64encode(hmac_sha256(_standard_key(secret), signed)).decode()
        if any(hmac.compare_digest(expected, candidate) for candidate in signatures):
            # The timestamp is checked after the signature so a forged one cannot probe the clock.
            check_timestamp(timestamp, now=now, tolerance=tolerance)
            return msg_id
    raise SignatureInvalid("no signature matches (wrong secret or tampered body)")


# --- Stripe-style ---------------------------------------------------------------------------------


def sign_stripe(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac_sha256(secret.encode(), f"{timestamp}.".encode() + body).hex()
    return f"t={timestamp},v1={digest}"


def verify_stripe_signature(
    header: str | None,
    body: bytes,
    secrets: Sequence[str],
    *,
    now: float,
    tolerance: float = DEFAULT_TOLERANCE,
) -> int:
    """Verify ``t=...,v1=...``; return the signed timestamp."""
    if not header:
        raise SignatureInvalid("missing signature header")
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureInvalid("signature header lacks t= or v1=")
    signed = f"{timestamp}.".encode() + body
    for secret in secrets:
        expected = hmac_sha256(secret.encode(), signed).hex()
        if any(hmac.compare_digest(expected, s) for s in signatures):
            check_timestamp(timestamp, now=now, tolerance=tolerance)
            return timestamp
    raise SignatureInvalid("no signature matches (wrong secret or tampered body)")


# --- plain HMAC header ----------------------------------------------------------------------------


def verify_hmac_signature(
    value: str | None,
    body: bytes,
    secrets: Sequence[str],
    *,
    prefix: str = "sha256=",
    encoding: str = "hex",
) -> None:
    """Verify ``<prefix><hex|base64 HMAC-SHA256(secret, body)>``; ``encoding`` may be ``hex``, ``base64``
    or ``base64url``. Several comma-separated signatures are accepted."""
    if not value:
        raise SignatureInvalid("missing signature header")
    offered = [v.strip().removeprefix(prefix) for v in value.split(",") if v.strip()]
    for secret in secrets:
        digest = hmac_sha256(secret.encode(), body)
        if encoding == "base64":
            expected = base64.b64encode(digest).decode()
        elif encoding == "base64url":
            expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")
            offered = [o.rstrip("=") for o in offered]
        else:
            expected = digest.hex()
            offered = [o.lower() for o in offered]
        if any(hmac.compare_digest(expected, o) for o in offered):
            return
    raise SignatureInvalid("no signature matches (wrong secret or tampered body)")


# --- DingTalk / WeCom msg-crypt -------------------------------------------------------------------


def sha1_signature(*parts: str) -> str:
    """SHA-1 hex of the parts sorted lexicographically and concatenated."""
    return hashlib.sha1("".join(sorted(parts)).encode(), usedforsecurity=False).hexdigest()


def _aes_cbc(key: bytes, iv: bytes, data: bytes, *, decrypt: bool) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.CBC(iv))
    ctx = cipher.decryptor() if decrypt else cipher.encryptor()
    return ctx.update(data) + ctx.finalize()


def _unpad(data: bytes, block: int) -> bytes:
    pad = data[-1] if data else 0
    if not 1 <= pad <= block or data[-pad:] != bytes([pad]) * pad:
        raise WebhookPayloadInvalid("decrypted body has bad padding (wrong key?)")
    return data[:-pad]


def _pad(data: bytes, block: int) -> bytes:
    pad = block - len(data) % block
    return data + bytes([pad]) * pad


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise WebhookPayloadInvalid("ciphertext is not valid base64") from None


class MsgCrypt:
    """DingTalk and WeCom callback crypto for one token, EncodingAESKey and receive id.

    ``receive_id`` (WeCom corpid; DingTalk appKey, corpId or suiteKey) is checked after decryption when
    given; pass None to skip the check.
    """

    BLOCK = 32

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str | None) -> None:
        try:
            key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(encoding_aes_key) != 43 or len(key) != 32:
            raise ValueError("EncodingAESKey must be 43 base64 characters (a 32-byte key)")
        self.token = token
        self._key = key
        self.receive_id = receive_id

    def signature(self, timestamp: str, nonce: str, encrypted: str) -> str:
        return sha1_signature(self.token, timestamp, nonce, encrypted)

    def verify(self, signature: str | None, timestamp: str | None, nonce: str | None, encrypted: str) -> None:
        if not signature or not timestamp or nonce is None:
            raise SignatureInvalid("missing signature, timestamp or nonce")
        expected = self.signature(timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected, signature.lower()):
            raise SignatureInvalid("signature does not match (wrong token or tampered body)")

    def decrypt(self, encrypted: str) -> bytes:
        raw = _b64decode(encrypted)
        if not raw or len(raw) % 16:
            raise WebhookPayloadInvalid("ciphertext length is not a multiple of the AES block")
        plain = _unpad(_aes_cbc(self._key, self._key[:16], raw, decrypt=True), self.BLOCK)
        if len(plain) < 20:
            raise WebhookPayloadInvalid("decrypted body is too short")
        (length,) = struct.unpack(">I", plain[16:20])
        message, receive_id = plain[20 : 20 + length], plain[20 + length :]
        if len(message) != length:
            raise WebhookPayloadInvalid("decrypted length prefix is wrong")
        if self.receive_id is not None and not hmac.compare_digest(receive_id, self.receive_id.encode()):
            raise WebhookPayloadInvalid("message is addressed to another receive id")
        return message

    def encrypt(self, message: bytes | str, *, random16: bytes | None = None) -> str:
        body = message.encode() if isinstance(message, str) else message
        prefix = random16 if random16 is not None else os.urandom(16)
        plain = prefix + struct.pack(">I", len(body)) + body + (self.receive_id or "").encode()
        return base64.b64encode(_aes_cbc(self._key, self._key[:16], _pad(plain, self.BLOCK), decrypt=False)).decode()


# --- Feishu ---------------------------------------------------------------------------------------


def feishu_signature(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode() + body).hexdigest()


def verify_feishu_signature(
    headers: Mapping[str, str],
    body: bytes,
    encrypt_key: str,
    *,
    now: float,
    tolerance: float = DEFAULT_TOLERANCE,
) -> None:
    """Check ``X-Lark-Signature`` (headers lower-case) and the request timestamp."""
    signature = headers.get("x-lark-signature")
    nonce = headers.get("x-lark-request-nonce")
    raw_ts = headers.get("x-lark-request-timestamp")
    if not signature or nonce is None:
        raise SignatureInvalid("missing X-Lark-Signature or X-Lark-Request-Nonce")
    timestamp = _int_header(raw_ts, "X-Lark-Request-Timestamp")
    expected = feishu_signature(str(raw_ts).strip(), nonce, encrypt_key, body)
    if not hmac.compare_digest(expected, signature.lower()):
        raise SignatureInvalid("X-Lark-Signature does not match (wrong encrypt key or tampered body)")
    check_timestamp(timestamp, now=now, tolerance=tolerance)


def feishu_decrypt(encrypt_key: str, encrypted: str) -> str:
    raw = _b64decode(encrypted)
    if len(raw) < 32 or len(raw) % 16:
        raise WebhookPayloadInvalid("ciphertext has a bad length")
    key = hashlib.sha256(encrypt_key.encode()).digest()
    plain = _unpad(_aes_cbc(key, raw[:16], raw[16:], decrypt=True), 16)
    try:
        return plain.decode()
    except UnicodeDecodeError:
        raise WebhookPayloadInvalid("decrypted body is not UTF-8 (wrong encrypt key?)") from None


def feishu_encrypt(encrypt_key: str, plaintext: str, *, iv: bytes | None = None) -> str:
    key = hashlib.sha256(encrypt_key.encode()).digest()
    vector = iv if iv is not None else os.urandom(16)
    return base64.b64encode(vector + _aes_cbc(key, vector, _pad(plaintext.encode(), 16), decrypt=False)).decode()


# --- body parsing ---------------------------------------------------------------------------------

_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


def parse_json_body(body: bytes | str) -> dict[str, Any]:
    """A JSON object, or `WebhookPayloadInvalid`."""
    if len(body) > _MAX_BODY:
        raise WebhookPayloadInvalid("body is too large")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookPayloadInvalid("body is not JSON") from None
    if not isinstance(data, dict):
        raise WebhookPayloadInvalid("body is not a JSON object")
    return data


def parse_xml(body: bytes) -> dict[str, Any]:
    """A WeCom-style XML document as nested dicts (text of leaves, CDATA included).

    DOCTYPE and ENTITY declarations are refused before parsing (no entity expansion attacks).
    """
    if len(body) > _MAX_BODY or _DTD.search(body):
        raise WebhookPayloadInvalid("XML body is too large or declares a DTD")
    try:
        root = ET.fromstring(body)  # noqa: S314 - DTDs refused above; expat does not fetch externals
    except ET.ParseError:
        raise WebhookPayloadInvalid("body is not well-formed XML") from None
    return _element(root)


def _element(node: ET.Element) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in node:
        value: Any = _element(child) if len(child) else (child.text or "").strip()
        if child.tag in out:  # repeated elements become a list
            previous = out[child.tag]
            out[child.tag] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            out[child.tag] = value
    return out
