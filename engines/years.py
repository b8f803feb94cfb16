"""Years of experience: stated claims (``5年``, ``十年以上``, ``3+ years``) and employment date ranges.

Two sources, and the larger wins:

* **Claims** such as ``5年工作经验``, ``五年以上``, ``工作年限：8年``, ``一年半``, ``3+ years of``,
  ``over 5 years in``. A bare ``5年`` counts only next to an experience word, so ``5年内完成`` or a
  calendar year is not a claim. ``十年以上`` and ``over 5`` count as their lower bound.
* **Date ranges** such as ``2018.03-至今``, ``2016年7月 - 2019年6月``, ``Mar 2019 – Present``,
  ``2019/03 - 2021/12``, ``2016-2019``. Ranges are merged as month intervals before summing, so
  overlapping jobs (or a project inside a job) are not double-counted. Ranges in the education section,
  or on a line naming a school or degree outside the experience and project sections, are ignored.
  ``至今``/``Present`` resolve against ``today``, a parameter, so results are reproducible.

Example:
    >>> from datetime import date
    >>> extract_years("2018.03-至今 某公司\\n2016年7月 - 2019年6月 另一家", today=date(2026, 3, 1)).years
    9.8
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from engines.evidence import Evidence
from engines.normalize import ascii_lower, normalize_width
from engines.sections import SectionMap, find_sections

__all__ = ["YearsFact", "extract_years", "merged_months", "parse_date"]

_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_ZH_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_EN_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
}

_Y = r"(?:19[5-9]\d|20\d\d)"
_M = r"(?:1[0-2]|0?[1-9])"
_MON = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
# All patterns below run on ascii_lower(normalize_width(text)): same offsets, lowercase English, so they
# can be case-sensitive (several times faster than re.IGNORECASE). Left word boundaries are checked in
# Python (_left_ok) rather than with a leading lookbehind, which would disable the engine's fast scan.
_DATE_FORMS = (
    re.compile(rf"(?P<y>{_Y})\s*年\s*(?P<m>{_M})\s*月(?:\s*\d{{1,2}}\s*[日号])?"),
    re.compile(rf"(?P<y>{_Y})\s*(?P<sep>[./\-])\s*(?P<m>{_M})(?:(?P=sep)\d{{1,2}}(?!\d))?"),
    re.compile(rf"(?P<m>{_M})\s*/\s*(?P<y>{_Y})"),
    re.compile(rf"(?P<mon>{_MON})\.?\s*,?\s*(?P<y>{_Y})"),
    re.compile(rf"(?P<y>{_Y})(?:\s*年)?"),
)


# Scanners have no capture groups (a group around alternatives disables the regex engine's
# first-character filter); the few matches are re-parsed with the grouped patterns below.
_DATE = (
    rf"(?:{_Y}\s*年\s*{_M}\s*月(?:\s*\d{{1,2}}\s*[日号])?"
    rf"|{_Y}\s*[./\-]\s*{_M}(?:[./\-]\d{{1,2}}(?!\d))?"
    rf"|{_M}\s*/\s*{_Y}"
    rf"|{_MON}\.?\s*,?\s*{_Y}"
    rf"|{_Y}(?:\s*年)?)"
)
_PRESENT = r"(?:至今|今|现在|目前|当前|now|present|current(?:ly)?|today|ongoing|date)"
_SEP = r"\s*(?:-{1,2}|~|至|到|to|until|till)\s*"
_RANGE_SCAN = re.compile(rf"{_DATE}(?!\d){_SEP}(?:{_PRESENT}(?![a-z])|{_DATE}(?!\d))")
_RANGE_PARTS = re.compile(rf"(?P<a>{_DATE})(?!\d)(?P<sep>{_SEP})(?P<b>{_PRESENT}(?![a-z])|{_DATE}(?!\d))")
_ZH_NUM = r"\d{1,2}(?:\.\d)?|[一二两三四五六七八九十]{1,3}|半"
# "年" not followed by what makes it a calendar word (年度 annual, 年底 year-end, 年龄 age, ...).
_CLAIM_ZH = re.compile(
    rf"(?:{_ZH_NUM})\s*(?:个)?\s*(?:\+|多|余)?\s*年(?![度代级薪初底中内后前终会报龄])\s*半?\s*(?:以上|多|\+)?"
)
_CLAIM_ZH_PARTS = re.compile(rf"(?P<num>{_ZH_NUM})[^年]*年\s*(?P<half>半)?")
_CLAIM_ZH_AFTER = re.compile(r"[^，,。；;\n]{0,12}?(?:经验|从业|工作经历|工龄|年限|资历)")
# Experience words shortly before the number, or a tool name right before it ("Java 8年").
_CLAIM_ZH_BEFORE = re.compile(
    r"(?:(?:工作年限|工作经验|从业|工龄|经验|工作了|从事|累计|相关经验)[^，,。；;\n]{0,6}|[a-z+#][ \t]?)$"
)
_EN_NUM = r"\d{1,2}(?:\.\d)?|" + "|".join(_EN_NUMBERS)
_CLAIM_EN = re.compile(
    rf"(?:{_EN_NUM})\s*\+?\s*(?:full\s+)?(?:years?|yrs?)(?![a-z])(?:'s|')?"
    r"(?=\s*(?:of|experience|exp\b|in|as|working|professional|industry|hands-on|track|relevant))"
)
_CLAIM_LABEL = re.compile(
    rf"(?:工作年限|工龄|工作经验|years\s+of\s+experience|experience)\s*[:：]\s*(?:{_ZH_NUM}|{_EN_NUM})"
    r"\s*\+?\s*(?:年|years?|yrs?)?"
)
_NUMBER_IN = re.compile(rf"{_ZH_NUM}|{_EN_NUM}")
_EDU_LINE = re.compile(
    r"大学|学院|学校|本科|硕士|博士|大专|专科|研究生|高中|中专|学士|university|college|school|institute|"
    r"bachelor|master|ph\.?d|b\.?sc|m\.?sc|mba|degree|diploma"
)


def _left_ok(low: str, start: int, forbidden: str) -> bool:
    """No character of ``forbidden`` (or ASCII letter, when it contains ``a``) just before ``start``."""
    if start == 0:
        return True
    before = low[start - 1]
    return before not in forbidden and not ("a" in forbidden and "a" <= before <= "z")


_COUNTED_SECTIONS = frozenset({"experience", "projects"})
_MAX_YEARS = 50.0


@dataclass(frozen=True, slots=True)
class YearsFact:
    """Total years (``None`` when the text states none) and the spans that produced it."""

    years: float | None
    evidence: tuple[Evidence, ...]


def _zh_number(numeral: str) -> float:
    if numeral == "半":
        return 0.5
    if numeral[0].isdigit():
        return float(numeral)
    if "十" in numeral:
        tens, _, ones = numeral.partition("十")
        return float((_ZH_DIGITS[tens] if tens else 1) * 10 + (_ZH_DIGITS[ones] if ones else 0))
    return float(_ZH_DIGITS[numeral])


def _number(token: str) -> float:
    low = token.lower()
    if low in _EN_NUMBERS:
        return float(_EN_NUMBERS[low])
    return _zh_number(token)


def parse_date(text: str) -> tuple[int, int] | None:
    """``(year, month)`` of a resume date (``2018.03``, ``2016年7月``, ``Mar 2019``, ``03/2019``, ``2016``).

    A year alone is read as January (so ``2016-2019`` spans three years).
    """
    cleaned = ascii_lower(normalize_width(text)).strip()
    for form in _DATE_FORMS:
        match = form.fullmatch(cleaned)
        if match is None:
            continue
        groups = match.groupdict()
        year = int(groups["y"])
        if groups.get("mon"):
            return year, _MONTHS[groups["mon"][:3]]
        return year, int(groups["m"]) if groups.get("m") else 1
    return None


def merged_months(intervals: list[tuple[int, int]]) -> int:
    """Total length of the union of half-open month intervals ``[start, end)``."""
    total = 0
    current_start, current_end = -1, -1
    for start, end in sorted(intervals):
        if start > current_end:
            total += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    return total + current_end - current_start


_YEARISH = re.compile(r"(?:19|20)\d\d")


def _lines_with(
    low: str, pattern: re.Pattern[str] | None = None, needles: tuple[str, ...] = ()
) -> list[tuple[int, int]]:
    """Spans of the lines holding a match of ``pattern`` or one of ``needles``, in order.

    The scanners below run only there: most of a resume's lines hold no date and no "years", and a
    fast search for the anchor beats running a many-branched pattern at every position.
    """
    starts: set[int] = set()
    if pattern is not None:
        starts.update(low.rfind("\n", 0, m.start()) + 1 for m in pattern.finditer(low))
    for needle in needles:
        position = low.find(needle)
        while position >= 0:
            starts.add(low.rfind("\n", 0, position) + 1)
            position = low.find(needle, position + len(needle))
    spans = []
    for start in sorted(starts):
        end = low.find("\n", start)
        spans.append((start, len(low) if end < 0 else end))
    return spans


def _ranges(text: str, low: str, sections: SectionMap, today: date) -> list[tuple[int, int, Evidence]]:
    now = today.year * 12 + today.month  # the current month counts, like an end month
    found: list[tuple[int, int, Evidence]] = []
    scans = (m for lo, hi in _lines_with(low, _YEARISH) for m in _RANGE_SCAN.finditer(low, lo, hi))
    for scanned in scans:
        if not _left_ok(low, scanned.start(), "0123456789.a"):
            continue
        match = _RANGE_PARTS.fullmatch(low, scanned.start(), scanned.end())
        if match is None:
            continue
        kind = sections.kind_at(match.start())
        if kind == "education":
            continue
        if kind not in _COUNTED_SECTIONS:
            line_start = low.rfind("\n", 0, match.start()) + 1
            line_end = low.find("\n", match.end())
            if _EDU_LINE.search(low, line_start, len(low) if line_end < 0 else line_end):
                continue
        first = parse_date(match.group("a"))
        if first is None:
            continue
        start = first[0] * 12 + first[1] - 1
        end_text = match.group("b")
        last = parse_date(end_text)
        end = now if last is None else last[0] * 12 + last[1]
        if last is not None and re.fullmatch(_Y + r"(?:\s*年)?", end_text.strip()):
            end -= 1  # a bare end year means "until that year began", mirroring a bare start year
        end = min(end, now)
        if start >= end or end - start > _MAX_YEARS * 12:
            continue
        found.append((start, end, Evidence.from_span(text, match.start(), match.end())))
    return found


def _claims(text: str, low: str, sections: SectionMap) -> list[tuple[float, Evidence]]:
    claims: list[tuple[float, Evidence]] = []
    for match in (m for lo, hi in _lines_with(low, needles=("年",)) for m in _CLAIM_ZH.finditer(low, lo, hi)):
        if not _left_ok(low, match.start(), "0123456789.") or sections.kind_at(match.start()) == "education":
            continue
        after = _CLAIM_ZH_AFTER.match(low, match.end())
        before = _CLAIM_ZH_BEFORE.search(low, max(0, match.start() - 12), match.start())
        if after is None and before is None:
            continue
        parts = _CLAIM_ZH_PARTS.match(match.group())
        if parts is None:
            continue
        value = _zh_number(parts.group("num")) + (0.5 if parts.group("half") else 0.0)
        claims.append((value, Evidence.from_span(text, match.start(), match.end())))
    english = (m for lo, hi in _lines_with(low, needles=("year", "yr")) for m in _CLAIM_EN.finditer(low, lo, hi))
    for pattern, matches in ((_CLAIM_EN, english), (_CLAIM_LABEL, _CLAIM_LABEL.finditer(low))):
        for match in matches:
            if not _left_ok(low, match.start(), "0123456789._a") or sections.kind_at(match.start()) == "education":
                continue
            number = _NUMBER_IN.search(match.group(), len(match.group()) - len(match.group().lstrip()))
            if pattern is _CLAIM_LABEL:
                number = _NUMBER_IN.search(match.group(), match.group().index(":") if ":" in match.group() else 0)
            if number is None:
                continue
            value = _number(number.group())
            claims.append((value, Evidence.from_span(text, match.start(), match.end())))
    return [(v, e) for v, e in claims if 0 < v <= _MAX_YEARS]


def extract_years(text: str, *, today: date, norm: str | None = None, sections: SectionMap | None = None) -> YearsFact:
    """Years of experience in ``text``: the larger of the best claim and the merged date ranges."""
    if norm is None:
        norm = normalize_width(text)
    if sections is None:
        sections = find_sections(text, norm)
    low = ascii_lower(norm)
    ranges = _ranges(text, low, sections, today)
    claims = _claims(text, low, sections)
    range_years = round(merged_months([(s, e) for s, e, _ in ranges]) / 12, 1) if ranges else None
    claim_years = max((v for v, _ in claims), default=None)
    if range_years is None and claim_years is None:
        return YearsFact(None, ())
    if claim_years is not None and (range_years is None or claim_years >= range_years):
        best = next(e for v, e in claims if v == claim_years)
        return YearsFact(claim_years, (best,))
    assert range_years is not None
    return YearsFact(range_years, tuple(e for _, _, e in ranges))
