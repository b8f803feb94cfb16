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

__all__ = ["Evidence", "with_quotes", "without_quotes"]


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


def _map_evidence(features: dict[str, Any], change: Any) -> dict[str, Any]:
    """A copy of features (``ResumeFeatures.to_dict()`` form) with ``change`` applied to every evidence."""
    out = dict(features)
    if "skills" in out:
        out["skills"] = [{**m, "evidence": change(m["evidence"])} for m in out["skills"]]
    if "years_evidence" in out:
        out["years_evidence"] = [change(e) for e in out["years_evidence"] or ()]
    if out.get("education_evidence") is not None:
        out["education_evidence"] = change(out["education_evidence"])
    return out


def without_quotes(features: dict[str, Any]) -> dict[str, Any]:
    """Features with every evidence reduced to its offsets: no text of the resume is left in them, so a cache
    of them holds none of the (sealed) resume. :func:`with_quotes` puts the quotes back from the text."""
    return _map_evidence(features, lambda e: {"start": e["start"], "end": e["end"]})


def with_quotes(features: dict[str, Any], source: str) -> dict[str, Any]:
    """Features whose evidence is quoted from ``source``, the text they were extracted from (the invariant
    ``text == source[start:end]`` holds by construction).

    Raises:
        ValueError: an evidence span lies outside ``source`` (the features are of another text).
    """
    length = len(source)

    def quote(e: dict[str, Any]) -> dict[str, Any]:
        start, end = int(e["start"]), int(e["end"])
        if not 0 <= start <= end <= length:
            raise ValueError(f"evidence [{start}, {end}) outside a text of length {length}")
        return {"text": source[start:end], "start": start, "end": end}

    return _map_evidence(features, quote)
