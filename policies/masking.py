"""Mask formats: how a value looks to a role that may see only part of it.

=========== ================================== ==================================
format      example                            rule
=========== ================================== ==================================
``phone``   ``13812345678`` -> ``138****5678``  digits only; the last 4 and the
            ``+8613812345678`` ->               leading digits beyond the last 8
            ``+86138****5678``                 stay; ``+`` is kept
``email``   ``wei.zhang@example.com`` ->        first character of the local part,
            ``w***@example.com``               then ``***``; the domain stays
``last4``   ``110105194912310021`` ->           last 4 characters stay, one ``*``
            ``**************0021``             per hidden character
``name``    ``张伟`` -> ``张*``,                 first character of each word, one
            ``Wei Zhang`` -> ``W** Z****``     ``*`` per hidden character
``redact``  anything -> ``***``                nothing stays
=========== ================================== ==================================

``phone`` and ``last4`` always hide at least 4 characters (digits for ``phone``):
a short value shows less, down to nothing (``1234`` masks to ``****``). ``name``
and ``email`` show at most one character per word or local part, and nothing when
that would be the whole word (``张`` -> ``*``, ``ab@x.com`` -> ``***@x.com``), so a
mask never gives away the whole value.
Characters are Unicode code points with their combining marks, so a mask never
splits an accented letter or an emoji. The empty string masks to the empty
string, except with ``redact`` (``***``).

Example:
    >>> mask("wei.zhang@example.com", "email")
    'w***@example.com'
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum

from policies.secret import REDACTED, Secret

__all__ = ["MaskFormat", "mask", "mask_email", "mask_last4", "mask_name", "mask_phone"]

_STAR = "*"
_MIN_HIDDEN = 4


class MaskFormat(StrEnum):
    """Named mask formats a policy can give a field."""

    PHONE = "phone"
    EMAIL = "email"
    LAST4 = "last4"
    NAME = "name"
    REDACT = "redact"


def _shown(length: int, wanted: int) -> int:
    """How many of ``length`` characters may show so at least ``_MIN_HIDDEN`` stay hidden."""
    return max(0, min(wanted, length - _MIN_HIDDEN))


def _clusters(text: str) -> list[str]:
    """Code points grouped with the combining marks and joiners that follow them."""
    out: list[str] = []
    for ch in text:
        if out and (
            unicodedata.combining(ch)
            or ch in "\u200d\ufe0e\ufe0f"
            or "\U0001f3fb" <= ch <= "\U0001f3ff"
            or out[-1].endswith("\u200d")
        ):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def mask_phone(value: str) -> str:
    """``138****5678``: keeps the last 4 digits and the digits before the last 8."""
    text = value.strip()
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isdecimal())
    if not digits:
        return "" if not text else REDACTED
    n = len(digits)
    suffix = _shown(n, 4)
    prefix = _shown(n - suffix, max(0, n - 8))
    plus = "+" if unicodedata.normalize("NFKC", text).startswith("+") else ""
    return plus + digits[:prefix] + _STAR * (n - prefix - suffix) + digits[n - suffix :]


def mask_email(value: str) -> str:
    """``w***@example.com``; local parts shorter than 3 characters show nothing."""
    text = value.strip()
    if not text:
        return ""
    local, at, domain = text.rpartition("@")
    if not at or not local:
        return REDACTED
    chars = _clusters(local)
    first = chars[0] if len(chars) >= 3 else ""
    return f"{first}***@{domain}"


def mask_last4(value: str) -> str:
    """``**************0021``: one star per hidden character, separators dropped."""
    chars = [c for c in _clusters(unicodedata.normalize("NFKC", value)) if c[0].isalnum()]
    n = len(chars)
    keep = _shown(n, 4)
    return _STAR * (n - keep) + "".join(chars[n - keep :])


def mask_name(value: str) -> str:
    """``张*`` / ``W** Z****``: the first character of each word, one star per other one.

    A single-character name shows nothing (``*``): the first character would be all of it.
    """
    words = value.split()
    if not words:
        return ""
    if all(len(_clusters(word)) == 1 for word in words):
        return " ".join(_STAR for _ in words)  # initials only would be the whole name
    masked = []
    for word in words:
        chars = _clusters(word)
        masked.append(chars[0] + _STAR * (len(chars) - 1))
    return " ".join(masked)


_MASKERS = {
    MaskFormat.PHONE: mask_phone,
    MaskFormat.EMAIL: mask_email,
    MaskFormat.LAST4: mask_last4,
    MaskFormat.NAME: mask_name,
}


def mask(value: str | Secret, fmt: MaskFormat | str) -> str:
    """Mask ``value`` (a ``str`` or a decrypted ``Secret``) with the named format.

    Raises:
        ValueError: ``fmt`` is not a known format.
    """
    fmt = MaskFormat(fmt)
    if fmt is MaskFormat.REDACT:
        return REDACTED
    text = value.reveal() if isinstance(value, Secret) else value
    return _MASKERS[fmt](text)
