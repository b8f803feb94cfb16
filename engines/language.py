"""Resume language: ``zh``, ``en`` or ``mixed``.

Chinese resumes are full of English tool names (熟悉Java、Spring Boot、MySQL) and stay ``zh``; an
English resume with a Chinese name or school stays ``en``. The share compares CJK characters with Latin
words, weighting a word like 1.5 characters (a Chinese word is about 1.5 characters long).

Example:
    >>> detect_language("熟悉Java、Spring Boot、MySQL，负责订单系统的设计与开发"), detect_language("Led a team")
    ('zh', 'en')
"""

from __future__ import annotations

import re

from engines.features import Language

__all__ = ["detect_language"]

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_ZH_SHARE = 0.65
_EN_SHARE = 0.15


def detect_language(norm: str) -> Language:
    """Language of width-normalized text (``normalize_width`` first for full-width input)."""
    cjk = len(_CJK.findall(norm))
    words = len(_LATIN_WORD.findall(norm))
    if cjk + words == 0:
        return "en"
    share = cjk / (cjk + 1.5 * words)
    if share >= _ZH_SHARE:
        return "zh"
    if share <= _EN_SHARE:
        return "en"
    return "mixed"
