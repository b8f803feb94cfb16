"""Evidence: a span of the ORIGINAL input text that backs a finding.

Every finding the engines produce (a skill mention, a years fact, an education level, a screening
reason) carries one or more :class:`Evidence` values. The invariant is simple and checked by tests:
``evidence.text == source[evidence.start:evidence.end]`` where ``source`` is the exact string the caller
passed in, before any normalization.

Example:
    >>> text = "熟悉Java，不熟悉Go"
    >>> ev = Evidence.from_span(text, 2, 6)
    >>> ev.text
    'Java'
    >>> ev.is_valid_for(text)
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Evidence"]


@dataclass(frozen=True, slots=True)
class Evidence:
    """The matched text and its character offsets ``[start, end)`` in the original text."""

    text: str
    start: int
    end: int

    @classmethod
    def from_span(cls, source: str, start: int, end: int) -> Evidence:
        """Build evidence by slicing ``source`` so the invariant holds by construction."""
        if not 0 <= start <= end <= len(source):
            raise ValueError(f"span [{start}, {end}) outside text of length {len(source)}")
        return cls(source[start:end], start, end)

    def is_valid_for(self, source: str) -> bool:
        """True when this evidence points at exactly its text inside ``source``."""
        return 0 <= self.start <= self.end <= len(source) and source[self.start : self.end] == self.text

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form."""
        return {"text": self.text, "start": self.start, "end": self.end}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evidence:
        """Inverse of :meth:`to_dict`."""
        return cls(str(data["text"]), int(data["start"]), int(data["end"]))
