"""``Secret``: a decrypted value that does not print itself.

Every way Python turns an object into text (``str``, ``repr``, f-strings with any
format spec or conversion, ``%s``/``%r`` logging) yields ``***``. The value comes out
only through :meth:`Secret.reveal`, so a plaintext reaching a log, an error message
or a Redis payload is always a visible ``.reveal()`` call in review.

``Secret`` is deliberately not a ``str`` subclass: ``json.dumps`` raises ``TypeError``
instead of serializing it, and ``pickle`` refuses it (the hub never pickles, and a
pickled secret would carry plaintext into Redis).

Example:
    >>> s = Secret("13812345678")
    >>> f"phone={s}", repr(s)
    ('phone=***', '***')
    >>> s.reveal()
    '13812345678'
"""

from __future__ import annotations

import hmac
from typing import Any, NoReturn

__all__ = ["REDACTED", "Secret"]

REDACTED = "***"


class Secret:
    """An immutable wrapper around a decrypted string.

    Equality and hashing go by value (comparison in constant time), so secrets can be
    compared and used as dict keys without revealing them. A ``Secret`` never equals
    a plain ``str``: compare ``s.reveal() == "..."`` on purpose.
    """

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"Secret wraps a str, not {type(value).__name__}")
        object.__setattr__(self, "_value", value)

    def reveal(self) -> str:
        """The plaintext. Call it only where the value is meant to leave the process."""
        return self._value

    def __str__(self) -> str:
        return REDACTED

    def __repr__(self) -> str:
        return REDACTED

    def __format__(self, format_spec: str) -> str:
        try:
            return format(REDACTED, format_spec)
        except ValueError:
            # A numeric spec such as ":d" must not fail loudly in a log call.
            return REDACTED

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(_raw(self._value), _raw(other._value))

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError("Secret is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("Secret is immutable")

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled; store the encrypted token instead")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self


def _raw(value: str) -> bytes:
    return value.encode("utf-8", "surrogatepass")
