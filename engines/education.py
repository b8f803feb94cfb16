"""Education level: the highest degree a resume names (大专/专科, 本科/学士, 硕士/研究生, 博士; associate,
bachelor/BSc/BA, master/MSc/MBA, PhD/doctorate). High school and 中专 map to ``none``.

A degree marked as unfinished (``在读``, ``肄业``, ``candidate``, ``pursuing``, ``expected``) does not count.
English abbreviations that double as ordinary words (``MS``, ``MA``, ``BA``, ``BS``) count only in degree
phrasing (``MS in``, ``BA (Hons)``), so "MS Office" is not a master's degree.

Example:
    >>> extract_education("2012-2016 浙江大学 本科\\n2016-2019 清华大学 硕士").level
    'master'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engines.evidence import Evidence
from engines.features import EDUCATION_RANK, EducationLevel
from engines.normalize import ascii_lower, normalize_width

__all__ = ["EducationFact", "extract_education"]

# Chinese and English degrees scan separately: the English scanner may only start at a word's first
# letter, and stating that up front lets the regex engine skip every other position.
# No capture groups in the scanners: a group around each alternative disables the regex engine's
# first-character filter (measured 3-7x slower); the level is read from the matched text instead.
_DEGREE_ZH = re.compile(
    r"博士(?:研究生|学位|后)?|硕士(?:研究生|学位)?|研究生(?:学历)?|(?:统招)?本科|学士(?:学位)?"
    r"|大专|专科|高职|高中|中专|中技|职高"
)
_ZH_LEVEL: dict[str, EducationLevel] = {
    "博士": "phd",
    "硕士": "master",
    "研究": "master",
    "统招": "bachelor",
    "本科": "bachelor",
    "学士": "bachelor",
    "大专": "associate",
    "专科": "associate",
    "高职": "associate",
    "高中": "none",
    "中专": "none",
    "中技": "none",
    "职高": "none",
}
# English runs case-sensitively on ascii_lower(text) (same offsets), with the left word boundary checked
# in Python: a leading lookbehind or re.IGNORECASE would also disable the fast scan.
_DEGREE_EN = re.compile(
    r"(?:ph\.?\s?d\.?|d\.?phil|doctorate|doctoral\s+degree|doctor\s+of"
    r"|mba|emba|mphil|m\.?sc\.?|m\.?eng\.?|mpa|ll\.m\.?|m\.?s\.?(?=\s+(?:in|degree|,))"
    r"|m\.?a\.?(?=\s+in|\s*\()|master'?s?(?=\s+(?:degree|of|in))|masters"
    r"|bachelor'?s?|b\.?sc\.?|b\.?eng\.?|b\.?tech|b\.e\.|b\.?a\.?(?=\s+in|\s*\()"
    r"|b\.?s\.?(?=\s+(?:in|degree|,))|undergraduate\s+degree"
    r"|associate'?s?(?=\s+(?:degree|of|in))|higher\s+national\s+diploma|hnd"
    r"|high\s+school|secondary\s+school|ged"
    r")(?![a-z])"
)


def _en_level(found: str) -> EducationLevel:
    if found.startswith(("ph", "d")):
        return "phd"
    if found.startswith(("higher", "hnd", "associate")):
        return "associate"
    if found.startswith(("high", "secondary", "ged")):
        return "none"
    if found.startswith(("b", "undergraduate")):
        return "bachelor"
    return "master"


_UNFINISHED = re.compile(
    r"在读|肄业|未毕业|结业|预计|(?<![a-z])(?:candidate|pursuing|in\s+progress|expected|ongoing|incomplete)(?![a-z])"
)
_UNFINISHED_REACH = 16


def _letter_before(low: str, start: int) -> bool:
    return start > 0 and "a" <= low[start - 1] <= "z"


@dataclass(frozen=True, slots=True)
class EducationFact:
    """Highest level found (``None`` when no degree is named) and the text that named it."""

    level: EducationLevel | None
    evidence: Evidence | None


def extract_education(text: str, *, norm: str | None = None) -> EducationFact:
    """The highest completed education level named in ``text``."""
    if norm is None:
        norm = normalize_width(text)
    low = ascii_lower(norm)
    found = [(m, _en_level(m.group())) for m in _DEGREE_EN.finditer(low) if not _letter_before(low, m.start())]
    found += [(m, _ZH_LEVEL[m.group()[:2]]) for m in _DEGREE_ZH.finditer(low)]
    found.sort(key=lambda pair: pair[0].start())
    matches = [m for m, _ in found]
    best: tuple[int, EducationLevel, int, int] | None = None
    for i, (match, level) in enumerate(found):
        # The unfinished marker must sit beside THIS degree: same line, not past a neighbouring degree.
        line_lo = low.rfind("\n", 0, match.start()) + 1
        line_hi = low.find("\n", match.end())
        lo = max(line_lo, match.start() - _UNFINISHED_REACH, matches[i - 1].end() if i else 0)
        hi = min(
            len(low) if line_hi < 0 else line_hi,
            match.end() + _UNFINISHED_REACH,
            matches[i + 1].start() if i + 1 < len(matches) else len(low),
        )
        if _UNFINISHED.search(low, lo, hi):
            continue
        rank = EDUCATION_RANK[level]
        if best is None or rank > best[0]:
            best = (rank, level, match.start(), match.end())
    if best is None:
        return EducationFact(None, None)
    _, level_name, start, end = best
    return EducationFact(level_name, Evidence.from_span(text, start, end))
