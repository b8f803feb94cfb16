"""Context rules around a skill mention: negation, leadership versus participation, proficiency claims.

Resumes say "熟悉Java，不熟悉Go", "Led the migration to Kubernetes, Docker and Helm", "参与了支付系统开发，
负责Redis缓存设计". The rules here read cue words around a mention, scoped so a cue attaches only to what it
governs:

* **Negation** is clause-scoped: a cue (不熟悉, 没有, 未使用, no, not, without, never, lack) negates the
  mentions after it in the same clause (clauses end at ``，,；;。!?`` line breaks and bullets, and at a
  contrast word such as 但/but), within a short distance. A cue right AFTER a mention (``Go：不熟悉``,
  ``Docker没用过``) negates it only when nothing else follows the cue in the clause, so in "熟悉Java不熟悉Go"
  the cue belongs to Go, not Java.
* **Leadership and participation** are sentence-scoped: the nearest leadership cue (独立完成, 主导, 负责,
  带领, led, owned, architected, drove) or participation cue (参与, 协助, 配合, assisted, participated,
  helped) before the mention in its sentence wins; failing that, a cue after it in the same clause
  ("Python项目负责人").
* **Proficiency** (熟悉, 精通, 掌握, familiar, proficient) marks a claim rather than shown usage.

Rules run on the width-normalized text (same offsets as the original).

Example:
    >>> ctx = MentionContext("熟悉Java，不熟悉Go")
    >>> ctx.is_negated(2, 6, ()), ctx.is_negated(10, 12, ())
    (False, True)
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from typing import Literal

from engines.normalize import ascii_lower

__all__ = ["Cue", "MentionContext"]

Cue = Literal["led", "participated", "proficient"]

_NEG_ZH = (
    r"不(?:太|怎么|是很|很|够)?(?:熟悉|熟练|熟|精通|擅长|会用|会|懂|了解|掌握|具备|涉及|包括|含)"
    r"|没(?:有|怎么)?(?:用过|使用过|接触过|接触|学过|做过|碰过|使用)|没有"
    r"|未(?:曾|使用|用过|接触|掌握|涉及|学过|做过|参与|用)|从未|从来没|无相关|缺乏|欠缺|尚未|暂无|并非|而非"
    r"|无(?=[^,，。;；\n]{0,15}(?:经验|基础|了解|使用))"
)
_LEAD_ZH = (
    r"独立(?:完成|负责|开发|设计|搭建|承担|主导|实现|带领)|全面负责|总负责|主导|负责|牵头|带领|领导|统筹|主持"
    r"|一手搭建|从0到1|从零到一|从零搭建|组建|挂帅"
)
_PART_ZH = r"参与|协助|配合|辅助|参加|协同|帮助|跟随|在[^,，。;；\n]{0,12}指导下"
_PROF_ZH = r"熟悉|精通|掌握|熟练|了解|会使用|会用|能够使用|能使用|擅长|具备"
_CONTRAST_ZH = r"但是|但|而是|不过|可是|然而|却"
# One regex per kind: a literal alternation keeps the regex engine's first-character filter, which a
# combined pattern with named groups loses (measured: 5 separate scans are 4x faster than one).
_ZH_SCANNERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        ("neg", _NEG_ZH),
        ("led", _LEAD_ZH),
        ("participated", _PART_ZH),
        ("proficient", _PROF_ZH),
        ("contrast", _CONTRAST_ZH),
    )
)

# English cues are found word by word: a dictionary lookup per word beats lookbehind-guarded regexes.
# Each entry: first word -> list of (following words, kind); an empty tuple means the word alone.
_EN_PHRASES: dict[str, list[tuple[tuple[str, ...], str]]] = {}


def _en(kind: str, *phrases: str) -> None:
    for phrase in phrases:
        first, *rest = phrase.split()
        _EN_PHRASES.setdefault(first, []).append((tuple(rest), kind))


_en(
    "neg",
    "no",
    "not",
    "without",
    "never",
    "lack",
    "lacks",
    "lacking",
    "none",
    "unfamiliar",
    "cannot",
    "neither",
    "nor",
    "don't",
    "doesn't",
    "didn't",
    "haven't",
    "hasn't",
    "hadn't",
    "can't",
    "couldn't",
    "isn't",
    "wasn't",
    "aren't",
    "weren't",
    "won't",
)
_en(
    "led",
    "led",
    "lead",
    "leading",
    "owned",
    "own",
    "owning",
    "owner",
    "architected",
    "drove",
    "driving",
    "spearheaded",
    "spearheading",
    "headed",
    "managed",
    "managing",
    "directed",
    "oversaw",
    "overseeing",
    "supervised",
    "responsible for",
    "in charge of",
    "independently",
    "single-handedly",
    "from scratch",
    "founded",
    "established",
    "initiated",
    "championed",
    "took ownership",
)
_en(
    "participated",
    "participated",
    "participating",
    "participate",
    "assisted",
    "assisting",
    "assist",
    "helped",
    "helping",
    "supported",
    "supporting",
    "contributed",
    "contributing",
    "involved in",
    "part of",
    "member of",
    "collaborated",
    "under the guidance",
    "under the supervision",
)
_en(
    "proficient",
    "familiar",
    "proficient",
    "proficiency",
    "skilled",
    "knowledge of",
    "expertise",
    "experienced in",
    "experienced with",
    "fluent",
    "competent",
    "working knowledge",
    "good command",
)
_en("contrast", "but", "however", "though", "although", "yet", "whereas")
# A cue word followed by one of these is not that cue: "no matter", "not only", "lead generation".
_EN_NOT_A_CUE: dict[str, frozenset[str]] = {
    "no": frozenset({"matter", "longer", "less", "fewer", "more", "doubt"}),
    "not": frozenset({"only", "just", "limited", "merely", "simply", "least"}),
    "lead": frozenset({"generation", "gen", "time", "times"}),
    "leading": frozenset({"generation", "provider", "company", "companies", "brand", "brands"}),
    "own": frozenset(),
    "yet": frozenset(),
}
for _options in _EN_PHRASES.values():
    _options.sort(key=lambda option: -len(option[0]))  # longest phrase first
# First words of English cues, longest first; the left word boundary is checked in Python, which keeps
# the regex a plain alternation the engine scans fast. Runs on ascii_lower(text).
_EN_FIRST = re.compile("(?:" + "|".join(sorted(map(re.escape, _EN_PHRASES), key=len, reverse=True)) + ")(?![a-z'-])")
_EN_NEXT = re.compile(r"\s+([a-z][a-z'-]*[a-z]|[a-z])")
_BOUNDARY = re.compile(r"(?P<comma>[，,])|[。；;！!？?\n\r•●▪■◆◇►▶★☆|]|\.(?=\s|$)")
_EXCEPT = re.compile(
    r"除了|除去|除(?=[^，,。；;\n]{0,20}(?:以外|之外))|(?<![a-z])(?:apart from|other than|besides|except)(?![a-z])",
    re.I,
)
_NEG_REACH = 40  # chars between a negation cue and the mention it governs
_POST_REACH = 8  # chars between a mention and a negation cue after it
_AFTER_REACH = 12  # chars between a mention and an involvement cue after it ("Python项目负责人")


def _english_cues(low: str, cues: dict[str, list[tuple[int, int]]]) -> None:
    for match in _EN_FIRST.finditer(low):
        start, end = match.span()
        if start and ("a" <= low[start - 1] <= "z" or low[start - 1] in "'-"):
            continue  # inside a word: "led" in "skilled"
        word = match.group()
        following: list[tuple[str, int]] = []
        position = end
        while len(following) < 3:
            nxt = _EN_NEXT.match(low, position)
            if nxt is None:
                break
            following.append((nxt.group(1), nxt.end()))
            position = nxt.end()
        if following and following[0][0] in _EN_NOT_A_CUE.get(word, ()):
            continue
        for rest, kind in _EN_PHRASES[word]:
            n = len(rest)
            if n and tuple(w for w, _ in following[:n]) != rest:
                continue
            cues[kind].append((start, following[n - 1][1] if n else end))
            break


class MentionContext:
    """Cue and boundary index for one text; query it per mention in O(log n)."""

    def __init__(self, norm: str) -> None:
        self.norm = norm
        self._clause_ends: list[int] = []
        self._sentence_ends: list[int] = []
        for match in _BOUNDARY.finditer(norm):
            self._clause_ends.append(match.start())
            if match.lastgroup is None:
                self._sentence_ends.append(match.start())
        cues: dict[str, list[tuple[int, int]]] = {
            "neg": [],
            "led": [],
            "participated": [],
            "proficient": [],
            "contrast": [],
        }
        for kind, scanner in _ZH_SCANNERS:
            cues[kind].extend(m.span() for m in scanner.finditer(norm))
        _english_cues(ascii_lower(norm), cues)
        for spans in cues.values():
            spans.sort()
        if cues["neg"] and cues["proficient"]:
            # "熟悉" inside "不熟悉" is the negation, not a proficiency claim.
            negs = cues["neg"]
            cues["proficient"] = [
                (a, b) for a, b in cues["proficient"] if not any(n0 <= a and b <= n1 for n0, n1 in negs)
            ]
        self._cues = cues
        self._starts = {kind: [s for s, _ in spans] for kind, spans in cues.items()}

    def _bounds(self, ends: list[int], start: int, end: int) -> tuple[int, int]:
        """``[lo, hi)`` of the clause or sentence holding the span ``[start, end)``."""
        i = bisect_left(ends, start)
        lo = ends[i - 1] + 1 if i > 0 else 0
        j = bisect_left(ends, end)
        hi = ends[j] if j < len(ends) else len(self.norm)
        return lo, hi

    def _spans_in(self, kind: str, lo: int, hi: int) -> list[tuple[int, int]]:
        starts = self._starts[kind]
        return self._cues[kind][bisect_left(starts, lo) : bisect_left(starts, hi)]

    def clause(self, start: int, end: int) -> tuple[int, int]:
        """Character span of the clause around ``[start, end)``."""
        return self._bounds(self._clause_ends, start, end)

    def sentence(self, start: int, end: int) -> tuple[int, int]:
        """Character span of the sentence around ``[start, end)``."""
        return self._bounds(self._sentence_ends, start, end)

    def is_negated(self, start: int, end: int, mention_starts: Sequence[int]) -> bool:
        """Whether the mention ``[start, end)`` is negated; ``mention_starts`` are all mentions' starts."""
        lo, hi = self.clause(start, end)
        contrasts = self._spans_in("contrast", lo, hi)
        for cue_start, cue_end in self._spans_in("neg", lo, hi):
            if cue_end <= start:
                if (
                    start - cue_end <= _NEG_REACH
                    and not any(cue_end <= c < start for c, _ in contrasts)
                    and not _EXCEPT.search(self.norm, cue_end, start)  # "no experience except Java"
                ):
                    return True
            elif cue_start >= end and cue_start - end <= _POST_REACH and not _EXCEPT.search(self.norm, lo, start):
                # A cue after the mention governs it only when the cue has no object of its own, and not
                # when the mention is the exception ("除了Java以外没有其他语言经验").
                k = bisect_right(mention_starts, end - 1)
                later = mention_starts[k] if k < len(mention_starts) else hi
                if later >= hi and not any(end <= c < cue_start for c, _ in contrasts):
                    return True
        return False

    def cue_for(self, start: int, end: int) -> Cue | None:
        """The involvement cue governing ``[start, end)``: nearest before in the sentence, else after."""
        s_lo, _ = self.sentence(start, end)
        _, c_hi = self.clause(start, end)
        best: tuple[int, Cue] | None = None
        for kind, lo in (("led", s_lo), ("participated", s_lo), ("proficient", s_lo)):
            # A cue may start the mention itself: the alias "managed a team" carries its own verb.
            for _cue_start, cue_end in self._spans_in(kind, lo, start + 1):
                if best is None or cue_end > best[0]:
                    best = (cue_end, kind)  # type: ignore[assignment]
        if best is not None:
            return best[1]
        after: tuple[int, Cue] | None = None
        for kind in ("led", "participated", "proficient"):
            for cue_start, _cue_end in self._spans_in(kind, end, min(c_hi, end + _AFTER_REACH)):
                if after is None or cue_start < after[0]:
                    after = (cue_start, kind)  # type: ignore[assignment]
                break
        return None if after is None else after[1]
