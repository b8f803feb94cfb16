"""Straightforward, independent implementations of the vendors' schemes, written from their documentation,
to check what the simulators produce (deliberately sharing no code with `simulators.signing`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def wx_signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    items = [token, timestamp, nonce, encrypt]
    items.sort()
    return hashlib.sha1("".join(items).encode("utf-8")).hexdigest()


def wx_decrypt(encoding_aes_key: str, encrypt: str) -> tuple[bytes, bytes]:
    """Decrypt a DingTalk/WeCom ciphertext; returns (message, receive id)."""
    key = base64.b64decode(encoding_aes_key + "=")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    padded = decryptor.update(base64.b64decode(encrypt)) + decryptor.finalize()
    unpadder = padding.PKCS7(256).unpadder()  # 32-byte blocks
    plain = unpadder.update(padded) + unpadder.finalize()
    length = int.from_bytes(plain[16:20], "big")
    return plain[20 : 20 + length], plain[20 + length :]


def wx_encrypt(encoding_aes_key: str, message: bytes, receive_id: bytes) -> str:
    key = base64.b64decode(encoding_aes_key + "=")
    plain = os.urandom(16) + len(message).to_bytes(4, "big") + message + receive_id
    padder = padding.PKCS7(256).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()


def lark_signature(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    h = hashlib.sha256()
    h.update((timestamp + nonce + encrypt_key).encode("utf-8"))
    h.update(body)
    return h.hexdigest()


def lark_decrypt(encrypt_key: str, encrypt: str) -> str:
    key = hashlib.sha256(encrypt_key.encode()).digest()
    raw = base64.b64decode(encrypt)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(raw[:16])).decryptor()
    padded = decryptor.update(raw[16:]) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return (unpadder.update(padded) + unpadder.finalize()).decode()


def standard_webhooks_valid(secret: str, headers: dict[str, str], body: bytes) -> bool:
    key = base64.b64decode(secret.split("_", 1)[1])
    content = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{body.decode()}"
    expected = base64.b64encode(hmac.new(key, content.encode(), hashlib.sha256).digest()).decode()
    offered = [part.split(",", 1)[1] for part in headers["webhook-signature"].split(" ") if part.startswith("v1,")]
    return any(hmac.compare_digest(expected, sig) for sig in offered)


def hr_valid(secret: str, header: str, body: bytes) -> bool:
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return header.startswith("sha256=") and hmac.compare_digest(header[len("sha256=") :], expected)
