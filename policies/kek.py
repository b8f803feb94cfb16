"""Key-encryption keys (KEKs): what wraps the tenants' data keys.

The KEK never touches the database; a wrapped data key is useless without it.
:class:`KekProvider` is the interface (a cloud KMS can implement it); :class:`LocalKek`
holds the key in process memory, loaded from ``HUB_KEK`` or a key file.

KEK rotation: load the new KEK first and the old one after it
(``HUB_KEK=new:<key>,old:<key>``), run :meth:`policies.keys.KeyRing.rewrap` for every
tenant, then drop the old KEK from the setting.

Example:
    >>> kek = LocalKek.from_env({"HUB_KEK": "2025:" + "A" * 43})
    >>> kek.key_id
    '2025'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from policies.errors import KekError

__all__ = ["KekProvider", "LocalKek"]

_KEY_BYTES = 32
_NONCE_BYTES = 12
_WRAP_VERSION = 1
_KID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@runtime_checkable
class KekProvider(Protocol):
    """Wraps and unwraps data keys. Implement it over a KMS to keep the KEK off-host.

    ``context`` is authenticated but not secret: the key ring passes the tenant and
    key id, so a wrapped key copied to another tenant's record does not unwrap.
    ``key_id`` names the KEK that ``wrap`` uses now; ``unwrap`` must accept keys
    wrapped by any KEK the provider still knows (rotation).
    """

    @property
    def key_id(self) -> str: ...

    def wrap(self, dek: bytes, *, context: bytes) -> bytes: ...

    def unwrap(self, wrapped: bytes, *, context: bytes) -> bytes: ...


class LocalKek:
    """A KEK held in process memory: AES-256-GCM key wrapping from 32 raw bytes.

    Several KEKs can be loaded during a KEK rotation: the first wraps, all unwrap.
    Wrapped keys are ``version(1) | len(kid)(1) | kid | nonce(12) | ciphertext+tag``,
    so ``unwrap`` finds the KEK by id without outside help.

    Args:
        key: 32 random bytes.
        key_id: a short name for the KEK; defaults to a fingerprint of the key.
        previous: older KEKs still accepted by ``unwrap``, as ``(key_id, key)`` pairs.
    """

    def __init__(self, key: bytes, *, key_id: str | None = None, previous: Sequence[tuple[str, bytes]] = ()) -> None:
        current = (key_id if key_id is not None else _fingerprint(key), key)
        self._keys: dict[str, AESGCM] = {}
        for kid, raw in (current, *previous):
            if not _KID_RE.match(kid):
                raise KekError("KEK id must be 1-64 characters of letters, digits, '_', '.', '-'")
            if not isinstance(raw, bytes | bytearray) or len(raw) != _KEY_BYTES:
                raise KekError(f"KEK {kid!r} must be exactly {_KEY_BYTES} bytes")
            if kid in self._keys:
                raise KekError(f"KEK id {kid!r} given twice")
            self._keys[kid] = AESGCM(bytes(raw))
        self._key_id = current[0]

    @classmethod
    def from_env(cls, environ: Mapping[str, str], var: str = "HUB_KEK") -> LocalKek:
        """Load from ``environ[var]``: one base64url key, or ``kid:key,kid:key`` (first wraps).

        Raises:
            KekError: the variable is missing or malformed (the message never echoes it).
        """
        raw = environ.get(var, "")
        if not raw.strip():
            raise KekError(f"{var} is not set")
        return cls.from_string(raw, origin=var)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> LocalKek:
        """Load from a file: 32 raw bytes, or the same text format as ``from_env``
        (commas or newlines between keys, ``#`` comments allowed)."""
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise KekError(f"cannot read KEK file {os.fspath(path)!r}: {exc.strerror}") from None
        if len(data) == _KEY_BYTES:
            return cls(data)
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError:
            raise KekError("KEK file is neither 32 raw bytes nor base64url text") from None
        lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
        spec = ",".join(line for line in lines if line)
        if not spec:
            raise KekError("KEK file holds no key")
        return cls.from_string(spec, origin="KEK file")

    @classmethod
    def from_string(cls, spec: str, *, origin: str = "KEK") -> LocalKek:
        """Parse ``<base64url key>`` or ``kid:key,kid:key`` (the first wraps); ``origin``
        names the source in error messages, which never echo key material."""
        if not spec.strip():
            raise KekError(f"{origin} is empty")
        entries: list[tuple[str | None, bytes]] = []
        for n, item in enumerate(part.strip() for part in spec.split(",")):
            if not item:
                raise KekError(f"{origin}: entry {n + 1} is empty")
            kid, sep, encoded = item.rpartition(":")
            entries.append((kid if sep else None, _decode_key(encoded, origin=origin, n=n + 1)))
        if len(entries) > 1 and any(kid is None for kid, _ in entries):
            raise KekError(f"{origin}: with several keys each needs a 'kid:' prefix")
        (first_id, first_key), rest = entries[0], entries[1:]
        return cls(first_key, key_id=first_id, previous=[(str(kid), key) for kid, key in rest])

    @property
    def key_id(self) -> str:
        return self._key_id

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every KEK id this provider can unwrap with, the wrapping one first."""
        return tuple(self._keys)

    def wrap(self, dek: bytes, *, context: bytes) -> bytes:
        kid = self._key_id
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._keys[kid].encrypt(nonce, dek, _wrap_aad(kid, context))
        kid_bytes = kid.encode("ascii")
        return bytes((_WRAP_VERSION, len(kid_bytes))) + kid_bytes + nonce + sealed

    def unwrap(self, wrapped: bytes, *, context: bytes) -> bytes:
        if len(wrapped) < 2 or wrapped[0] != _WRAP_VERSION:
            raise KekError("wrapped data key has an unknown format")
        end = 2 + wrapped[1]
        kid = wrapped[2:end].decode("ascii", "replace")
        aead = self._keys.get(kid)
        if aead is None:
            raise KekError(f"data key was wrapped by KEK {kid!r}, which is not loaded")
        nonce, sealed = wrapped[end : end + _NONCE_BYTES], wrapped[end + _NONCE_BYTES :]
        if len(nonce) != _NONCE_BYTES:
            raise KekError("wrapped data key is truncated")
        try:
            return aead.decrypt(nonce, sealed, _wrap_aad(kid, context))
        except InvalidTag:
            raise KekError(f"KEK {kid!r} could not unwrap the data key (altered or moved)") from None

    def __repr__(self) -> str:
        return f"LocalKek(key_id={self._key_id!r}, keys={len(self._keys)})"


def _wrap_aad(kek_id: str, context: bytes) -> bytes:
    return b"hub.kek.v1|" + kek_id.encode("ascii") + b"|" + context


def _fingerprint(key: bytes) -> str:
    # A short, stable name for an unnamed KEK; 40 bits of a hash reveal nothing useful.
    return "kek_" + hashlib.sha256(b"hub.kek.id|" + bytes(key)).hexdigest()[:10]


def _decode_key(encoded: str, *, origin: str, n: int) -> bytes:
    text = encoded.strip()
    try:
        if not re.fullmatch(r"[A-Za-z0-9_\-+/]+=*", text):
            raise ValueError
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise KekError(f"{origin}: key {n} is not valid base64url") from None
    if len(raw) != _KEY_BYTES:
        raise KekError(f"{origin}: key {n} decodes to {len(raw)} bytes, expected {_KEY_BYTES}")
    return raw
