"""Blind indexes: equality search over encrypted values without decrypting them.

``index(value)`` is ``HMAC-SHA256(k, normalize(value))`` truncated to 128 bits and
written as 22 base64url characters. ``k`` is derived with HKDF-SHA256 from a root
secret, separately for every (tenant, entity, field, kind), so:

* the same e-mail gives unrelated digests in two tenants or two fields (no joining
  across tenants, no telling that a candidate's phone equals an employee's);
* the index key is never a data key: knowing one reveals nothing about the other.

The root secret is not a data key either. Keep one per tenant (wrapped by the KEK
like a data key) if deleting a tenant's keys must also make its indexes useless.

Normalization makes equal values index equally (see ``normalize``):

``email``
    NFKC, trimmed, lower-cased: ``" Wei.Zhang@Example.COM "`` -> ``wei.zhang@example.com``.
``phone``
    E.164: ``+86-138-0000-0000``, ``138 0000 0000``, ``0086 13800000000`` and
    ``（+86）13800000000`` all give ``+8613800000000``; national numbers take the
    ``default_country`` (``CN`` unless told): ``(555) 010-1234`` with ``US`` gives
    ``+15550101234``. An extension (``ext. 12``, ``x12``, ``#12``, ``转12``) is dropped.
``national_id``
    NFKC, upper-cased, without spaces or punctuation: ``11010519491231002x`` -> ``...002X``.
``text``
    compatibility caseless (NFKD, case-folded), whitespace collapsed: exact-match lookups
    of names and the like.

A value that normalizes to nothing (empty, only spaces or separators) has no index:
``index`` returns ``None``.

Example:
    >>> bi = BlindIndexer(bytes(32))
    >>> bi.index("+86 138-0000-0000", tenant_id="t1", entity="candidate", field="phones",
    ...          kind="phone") == bi.index("13800000000", tenant_id="t1", entity="candidate",
    ...          field="phones", kind="phone")
    True
"""

from __future__ import annotations

import base64
import hmac
import re
import threading
import unicodedata
from typing import Final, Literal
from uuid import UUID

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from policies.secret import Secret

__all__ = [
    "COUNTRY_CALLING_CODES",
    "BlindIndexKind",
    "BlindIndexer",
    "normalize",
    "normalize_email",
    "normalize_national_id",
    "normalize_phone",
    "normalize_text",
]

BlindIndexKind = Literal["email", "phone", "national_id", "text"]
_KINDS: Final = frozenset({"email", "phone", "national_id", "text"})
_DIGEST_BYTES = 16
_MIN_ROOT_BYTES = 32

#: Calling code and national trunk prefix of the countries the hub meets most.
COUNTRY_CALLING_CODES: Final[dict[str, tuple[str, str]]] = {
    "CN": ("86", "0"),
    "HK": ("852", ""),
    "MO": ("853", ""),
    "TW": ("886", "0"),
    "SG": ("65", ""),
    "MY": ("60", "0"),
    "JP": ("81", "0"),
    "KR": ("82", "0"),
    "IN": ("91", "0"),
    "US": ("1", "1"),
    "CA": ("1", "1"),
    "GB": ("44", "0"),
    "DE": ("49", "0"),
    "FR": ("33", "0"),
    "AU": ("61", "0"),
}
# Codes whose numbers people often write with the trunk "0" after the code: +86 010 ...
_TRUNK_ZERO_CODES: Final = frozenset(code for code, trunk in COUNTRY_CALLING_CODES.values() if trunk == "0")
_INTERNATIONAL_PREFIX: Final = {"US": "011", "CA": "011", "JP": "010", "AU": "0011"}

_EXTENSION_RE = re.compile(r"(?:ext\.?|extension|x|#|转|分机)\s*\d+\s*$", re.IGNORECASE)
_PHONE_NOISE_RE = re.compile(r"[\s\-.()/\u00a0\u3000（）]")
_NOT_DIGIT_RE = re.compile(r"\D")
_ID_SEPARATORS_RE = re.compile(r"[\W_]", re.UNICODE)
_SPACES_RE = re.compile(r"\s+")


def normalize_email(value: str) -> str | None:
    """Trimmed and lower-cased (after NFKC, which folds full-width ``＠`` and letters)."""
    text = unicodedata.normalize("NFKC", value).strip().lower()
    return text or None


def normalize_phone(value: str, *, default_country: str = "CN") -> str | None:
    """E.164 (``+`` and up to 15 digits), or None when no digit is left.

    Args:
        value: a phone number as people type it.
        default_country: ISO 3166 code for numbers written without a country code.

    Raises:
        ValueError: ``default_country`` is not in :data:`COUNTRY_CALLING_CODES`.
    """
    if default_country not in COUNTRY_CALLING_CODES:
        raise ValueError(f"unknown default country {default_country!r}")
    calling_code, trunk = COUNTRY_CALLING_CODES[default_country]
    text = unicodedata.normalize("NFKC", value).strip()
    text = _EXTENSION_RE.sub("", text)
    text = text.replace("(0)", "")  # "+44 (0)20 ...": the trunk zero in brackets
    text = _PHONE_NOISE_RE.sub("", text)
    international = text.startswith("+")
    digits = _NOT_DIGIT_RE.sub("", text)
    if not digits:
        return None
    if not international:
        idd = _INTERNATIONAL_PREFIX.get(default_country, "00")
        if digits.startswith(idd):
            international, digits = True, digits[len(idd) :]
        elif digits.startswith("00") and idd != "00":
            international, digits = True, digits[2:]
    if international:
        for width in (1, 2, 3):
            code = digits[:width]
            if code in _TRUNK_ZERO_CODES and digits[width : width + 1] == "0":
                digits = code + digits[width + 1 :]
                break
        return "+" + digits if digits else None
    # National significant numbers never start with the trunk prefix in these countries
    # (CN "010 1234 5678", US "1 555 010 1234"), so a leading one is always the prefix.
    if trunk and digits.startswith(trunk):
        digits = digits[len(trunk) :]
    return "+" + calling_code + digits if digits else None


def normalize_national_id(value: str) -> str | None:
    """Upper-cased, without spaces, dashes, dots or other separators."""
    text = _ID_SEPARATORS_RE.sub("", unicodedata.normalize("NFKC", value)).upper()
    return text or None


def normalize_text(value: str) -> str | None:
    """Unicode compatibility caseless form, inner whitespace collapsed to one space, trimmed.

    ``NFKD(casefold(NFKD(casefold(NFD(value)))))`` is the Unicode standard's compatibility
    caseless match (section 3.13); it is stable, so normalizing twice changes nothing.
    """
    folded = unicodedata.normalize("NFD", value).casefold()
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", folded).casefold())
    text = _SPACES_RE.sub(" ", folded).strip()
    return text or None


def normalize(value: str | Secret, kind: BlindIndexKind, *, default_country: str = "CN") -> str | None:
    """Normalize ``value`` the way ``kind`` is indexed; None when nothing is left."""
    text = value.reveal() if isinstance(value, Secret) else value
    if kind == "email":
        return normalize_email(text)
    if kind == "phone":
        return normalize_phone(text, default_country=default_country)
    if kind == "national_id":
        return normalize_national_id(text)
    if kind == "text":
        return normalize_text(text)
    raise ValueError(f"unknown blind index kind {kind!r}; expected one of {sorted(_KINDS)}")


class BlindIndexer:
    """Computes blind indexes from a root secret; derived keys are cached per field.

    Args:
        root_secret: at least 32 random bytes, kept apart from data keys.
        default_country: country assumed for phone numbers without a calling code.
    """

    __slots__ = ("_default_country", "_keys", "_lock", "_root")

    def __init__(self, root_secret: bytes, *, default_country: str = "CN") -> None:
        if not isinstance(root_secret, bytes | bytearray) or len(root_secret) < _MIN_ROOT_BYTES:
            raise ValueError(f"blind index root secret must be at least {_MIN_ROOT_BYTES} bytes")
        if default_country not in COUNTRY_CALLING_CODES:
            raise ValueError(f"unknown default country {default_country!r}")
        self._root = bytes(root_secret)
        self._default_country = default_country
        self._keys: dict[tuple[str, str, str, str], bytes] = {}
        self._lock = threading.Lock()

    def index(
        self,
        value: str | Secret,
        *,
        tenant_id: str | UUID,
        entity: str,
        field: str,
        kind: BlindIndexKind,
        default_country: str | None = None,
    ) -> str | None:
        """The blind index of ``value`` for this tenant and field, or None when the value
        normalizes to nothing. Use the same call for stored values and for lookups."""
        normalized = normalize(value, kind, default_country=default_country or self._default_country)
        if normalized is None:
            return None
        key = self._key(tenant_id if type(tenant_id) is str else str(tenant_id), entity, field, kind)
        digest = hmac.digest(key, normalized.encode("utf-8", "surrogatepass"), "sha256")[:_DIGEST_BYTES]
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def _key(self, tenant_id: str, entity: str, field: str, kind: str) -> bytes:
        cache_key = (tenant_id, entity, field, kind)
        key = self._keys.get(cache_key)
        if key is None:
            if kind not in _KINDS:
                raise ValueError(f"unknown blind index kind {kind!r}")
            info = (
                f"hub.blind-index.v1|{len(tenant_id)}:{tenant_id}|{len(entity)}:{entity}|{len(field)}:{field}|{kind}"
            ).encode("utf-8", "surrogatepass")
            key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(self._root)
            with self._lock:
                self._keys[cache_key] = key
        return key

    def __repr__(self) -> str:
        return f"BlindIndexer(default_country={self._default_country!r})"
