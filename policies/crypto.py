"""Field encryption: one AES-256-GCM token per stored value.

Token format (ASCII, colon separated, safe in any text column and in JSON)::

    enc:v1:A256GCM:<key id>:<nonce>:<ciphertext>
    enc:v1:A256GCM:dk_k3x7q2mfa5rbc4dn:Lq0dJ1V5m2sd8XyA:Zt7c0Y...w

* ``enc`` marks an encrypted value (plaintext never starts with it in the hub's
  columns, so a migration can tell the two apart with :func:`looks_encrypted`);
* ``v1`` is the format version and ``A256GCM`` the algorithm; both are checked;
* ``<key id>`` names the tenant data key (see :mod:`policies.keys`);
* ``<nonce>`` is 12 random bytes and ``<ciphertext>`` the AES-GCM output (ciphertext
  and 16-byte tag), both in standard base64 without padding (``A-Z a-z 0-9 + /``;
  the standard alphabet decodes without a translation step). Encodings must be
  canonical: no two strings decode to the same token.

The associated data binds the header (version, algorithm, key id), the tenant,
entity, field and record id, each length-prefixed so no two combinations collide.
A token copied to another row, field, entity or tenant fails authentication.

Size: ``73 + ceil(4 * utf8_bytes / 3)`` characters; an 11-digit phone number makes an
88-character token, a 2 KB text about 2.8 KB.

Example:
    >>> from policies.keys import KeyRing, LocalKek
    >>> cipher = FieldCipher(KeyRing.create("t1", LocalKek(bytes(32))))
    >>> token = cipher.encrypt("13812345678", tenant_id="t1", entity="candidate",
    ...                        field="phones", record_id="0190...")
    >>> cipher.decrypt(token, tenant_id="t1", entity="candidate", field="phones",
    ...                record_id="0190...").reveal()
    '13812345678'
"""

from __future__ import annotations

import binascii
import os
import re
from functools import lru_cache
from uuid import UUID

from cryptography.exceptions import InvalidTag

from policies.errors import (
    AuthenticationFailedError,
    KeyRetiredError,
    MalformedCiphertextError,
    TenantMismatchError,
    UnknownKeyError,
)
from policies.keys import KeyRing
from policies.secret import Secret

__all__ = ["TOKEN_PREFIX", "FieldCipher", "key_id_of", "looks_encrypted"]

TOKEN_PREFIX = "enc:"  # noqa: S105 - a format marker, not a password
_HEADER = "enc:v1:A256GCM:"
_NONCE_BYTES = 12
_TAG_BYTES = 16
_AAD_CACHE_SIZE = 4096
_KID_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")

#: Ids may be given as UUIDs; they bind (and compare) as their canonical string form.
IdLike = str | UUID


def looks_encrypted(value: object) -> bool:
    """True when ``value`` has the shape of a token (cheap; does not verify it)."""
    return isinstance(value, str) and value.startswith(TOKEN_PREFIX)


def key_id_of(token: str) -> str:
    """The data-key id a token was encrypted with, without decrypting it.

    Raises:
        MalformedCiphertextError: ``token`` is not a v1 token.
    """
    try:
        return _parse(token)[0]
    except _Malformed as exc:
        raise MalformedCiphertextError(exc.problem, key_id=exc.key_id) from None


def _b64encode(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).rstrip(b"=").decode("ascii")


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_PADDING = ("", "", "==", "=")
# In an unpadded encoding the last character carries 4 (or 2) bits that must be zero;
# otherwise two strings would decode to the same bytes and a flipped bit would pass.
# Checking the last character also refuses a trailing "=" (strict decoding refuses the
# rest: characters outside the alphabet, padding in the middle).
_LAST_CHAR_OK: tuple[frozenset[str], ...] = (
    frozenset(_ALPHABET),
    frozenset(),
    frozenset(c for i, c in enumerate(_ALPHABET) if i & 0xF == 0),
    frozenset(c for i, c in enumerate(_ALPHABET) if i & 0x3 == 0),
)


def _b64decode(text: str) -> bytes | None:
    """Strict, canonical, unpadded base64; None for anything else."""
    rest = len(text) & 3
    if text and text[-1] not in _LAST_CHAR_OK[rest]:
        return None
    try:
        return binascii.a2b_base64(text + _PADDING[rest], strict_mode=True)
    except ValueError:  # binascii.Error, or a non-ASCII str
        return None


class _Malformed(Exception):
    def __init__(self, problem: str, key_id: str | None = None) -> None:
        self.problem = problem
        self.key_id = key_id


@lru_cache(maxsize=1024)
def _valid_kid(kid: str) -> bool:
    # Only ids of this shape are ever echoed in an error message.
    return _KID_RE.fullmatch(kid) is not None


def _parse(token: object) -> tuple[str, bytes, bytes]:
    """``(key id, nonce, ciphertext)`` of a v1 token; raises ``_Malformed`` otherwise."""
    if type(token) is not str or not token.startswith(_HEADER):
        if isinstance(token, str) and token.startswith(TOKEN_PREFIX):
            raise _Malformed("unsupported token version or algorithm")
        raise _Malformed("not an encrypted token")
    parts = token.split(":")
    if len(parts) != 6:
        raise _Malformed("token does not have the expected parts")
    kid = parts[3]
    if not _valid_kid(kid):
        raise _Malformed("token has an invalid key id")
    nonce = _b64decode(parts[4])
    body = _b64decode(parts[5])
    if nonce is None or body is None or len(nonce) != _NONCE_BYTES or len(body) < _TAG_BYTES:
        raise _Malformed("token nonce or ciphertext is not valid", kid)
    return kid, nonce, body


def _describe(problem: str, where: str | None, record_id: str | None) -> str:
    if where is None:
        return problem
    return f"cannot decrypt {where} of record {record_id}: {problem}"


def _aad_prefix(header: str, tenant_id: str, entity: str, field: str) -> bytes:
    # Length prefixes make the encoding injective: no two (tenant, entity, field, record)
    # tuples share associated data, whatever characters they contain.
    return (f"{header}|{len(tenant_id)}:{tenant_id}|{len(entity)}:{entity}|{len(field)}:{field}|").encode(
        "utf-8", "surrogatepass"
    )


class FieldCipher:
    """Encrypts and decrypts single field values for one tenant's key ring.

    The cipher holds no state of its own beyond the ring, which caches one AES-GCM
    object per key; it is safe to share between threads.

    Args:
        keyring: the tenant's key ring; its primary key encrypts, any non-retired key decrypts.
    """

    __slots__ = ("_aad_prefixes", "_keyring", "_tenant_id")

    def __init__(self, keyring: KeyRing) -> None:
        self._keyring = keyring
        self._tenant_id = keyring.tenant_id
        self._aad_prefixes: dict[tuple[str, str, str, str], bytes] = {}

    @property
    def keyring(self) -> KeyRing:
        return self._keyring

    def encrypt(self, value: str | Secret, *, tenant_id: IdLike, entity: str, field: str, record_id: IdLike) -> str:
        """Encrypt ``value`` with the primary key; returns a token.

        Raises:
            TenantMismatchError: ``tenant_id`` is not the key ring's tenant.
            KeyStateError: the ring has no primary key.
        """
        if type(tenant_id) is not str:
            tenant_id = str(tenant_id)
        if tenant_id != self._tenant_id:
            raise TenantMismatchError(f"this cipher encrypts for tenant {self._tenant_id!r} only")
        if type(value) is not str:
            if not isinstance(value, Secret | str):
                raise TypeError(f"can only encrypt str or Secret, not {type(value).__name__}")
            value = value.reveal() if isinstance(value, Secret) else str(value)
        rid = record_id if type(record_id) is str else str(record_id)
        kid, aead = self._keyring.encryption_key()
        prefix = self._aad_prefixes.get((kid, tenant_id, entity, field)) or self._aad_prefix(
            kid, tenant_id, entity, field
        )
        nonce = os.urandom(_NONCE_BYTES)
        body = aead.encrypt(
            nonce,
            value.encode("utf-8", "surrogatepass"),
            prefix + f"{len(rid)}:{rid}".encode("utf-8", "surrogatepass"),
        )
        return f"{_HEADER}{kid}:{_b64encode(nonce)}:{_b64encode(body)}"

    def decrypt(self, token: str, *, tenant_id: IdLike, entity: str, field: str, record_id: IdLike) -> Secret:
        """Decrypt a token written for exactly this tenant, entity, field and record.

        Raises:
            MalformedCiphertextError: not a well-formed v1 token.
            UnknownKeyError: the key is not in the ring (destroyed: crypto-shredded).
            KeyRetiredError: the key is retired.
            AuthenticationFailedError: altered, or written for another row/field/entity/tenant.
        """
        rid = record_id if type(record_id) is str else str(record_id)
        try:
            kid, nonce, body = _parse(token)
        except _Malformed as exc:
            where = f"{entity}.{field}"
            raise MalformedCiphertextError(
                _describe(exc.problem, where, rid), key_id=exc.key_id, where=where, record_id=rid
            ) from None
        try:
            aead = self._keyring.decryption_key(kid)
        except UnknownKeyError:
            where = f"{entity}.{field}"
            raise UnknownKeyError(
                _describe(f"data key {kid!r} is not in the key ring (destroyed or never held)", where, rid),
                key_id=kid,
                where=where,
                record_id=rid,
            ) from None
        except KeyRetiredError:
            raise KeyRetiredError(
                _describe(f"data key {kid!r} is retired", f"{entity}.{field}", rid), key_id=kid
            ) from None
        tid = tenant_id if type(tenant_id) is str else str(tenant_id)
        prefix = self._aad_prefixes.get((kid, tid, entity, field)) or self._aad_prefix(kid, tid, entity, field)
        try:
            plain = aead.decrypt(nonce, body, prefix + f"{len(rid)}:{rid}".encode("utf-8", "surrogatepass"))
        except InvalidTag:
            raise AuthenticationFailedError(
                _describe(
                    "authentication failed (altered, or copied from another record, field, entity or tenant)",
                    f"{entity}.{field}",
                    rid,
                ),
                key_id=kid,
                where=f"{entity}.{field}",
                record_id=rid,
            ) from None
        try:
            return Secret(plain.decode("utf-8", "surrogatepass"))
        except UnicodeDecodeError:  # pragma: no cover - authenticated data was UTF-8 when sealed
            raise MalformedCiphertextError(
                _describe("plaintext is not UTF-8", f"{entity}.{field}", rid), key_id=kid
            ) from None

    def _aad_prefix(self, kid: str, tenant_id: str, entity: str, field: str) -> bytes:
        # Everything in the associated data but the record id repeats from call to call,
        # so its encoding is cached; the callers append the record id.
        if len(self._aad_prefixes) >= _AAD_CACHE_SIZE:
            self._aad_prefixes.clear()
        prefix = _aad_prefix(_HEADER + kid, tenant_id, entity, field)
        self._aad_prefixes[(kid, tenant_id, entity, field)] = prefix
        return prefix

    def reencrypt(self, token: str, *, tenant_id: IdLike, entity: str, field: str, record_id: IdLike) -> str:
        """The same value under the primary key; returns ``token`` unchanged when it is
        already there (so a resumed re-encryption job rewrites nothing twice)."""
        if key_id_of(token) == self._keyring.primary.key_id:
            return token
        value = self.decrypt(token, tenant_id=tenant_id, entity=entity, field=field, record_id=record_id)
        return self.encrypt(value, tenant_id=tenant_id, entity=entity, field=field, record_id=record_id)

    def needs_reencryption(self, token: str) -> bool:
        """True when ``token`` is encrypted with a key other than the primary."""
        return key_id_of(token) != self._keyring.primary.key_id

    key_id_of = staticmethod(key_id_of)

    def __repr__(self) -> str:
        return f"FieldCipher(tenant_id={self._tenant_id!r})"
