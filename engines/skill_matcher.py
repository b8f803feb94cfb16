"""The gazetteer compiled into one spaCy PhraseMatcher.

All aliases are matched on ``LOWER`` (width-normalized, lowercased; see :mod:`engines.pipeline`), so
matching is case- and width-insensitive. Aliases the gazetteer marks case-sensitive (``Go``, ``R``,
``Excel``) are kept only when the text has that exact case, or when the hit is glued to Chinese text
(``熟悉go`` is Go; ``let's go`` is not). Overlapping hits resolve to the longest, then leftmost, so
``Spring Boot`` beats ``Spring`` and the blocker ``C端`` swallows the ``C`` inside it.

Speed: :meth:`SkillMatcher.find` does not build a Doc of every token. It scans the text with the
tokenizer's rules and keeps only tokens that occur in some alias (for Chinese: characters that form one of
the aliases' character bigrams with a neighbour), collapsing every stretch of other tokens into one
placeholder. A phrase can only match a run of alias tokens, so the matches are exactly those on the full
Doc, on a Doc a fraction of the size, and the vocabulary stops growing with every new name and e-mail.

Example:
    >>> [(m.skill_id, m.start, m.end) for m in get_skill_matcher().find("熟悉SpringBoot和C端产品")]
    [('spring_boot', 2, 12)]
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from engines.gazetteer import Gazetteer, get_gazetteer, skill_key
from engines.normalize import ascii_lower, is_cjk, normalize_width
from engines.pipeline import get_nlp
from engines.tokenizer import scan_words, word_pieces

__all__ = ["SkillHit", "SkillMatcher", "get_skill_matcher"]

_BLOCK = "__blocker__"
_CASED = "cased:"
_GAP = "\x00"  # placeholder for a stretch of tokens that occur in no alias
_ANY_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True, slots=True)
class SkillHit:
    """A raw alias hit: skill id and the character span ``[start, end)`` in the original text."""

    skill_id: str
    start: int
    end: int


class SkillMatcher:
    """Finds gazetteer skills in text. Build once per process (:func:`get_skill_matcher`)."""

    def __init__(self, nlp: Language, gazetteer: Gazetteer) -> None:
        self.nlp = nlp
        self.gazetteer = gazetteer
        self._matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        self._key_of: dict[int, str] = {}
        self._cased_forms: dict[str, frozenset[str]] = {}
        self._pattern_docs: list[Doc] = []
        strings = nlp.vocab.strings
        taken = {skill_key(n) for skill in gazetteer.skills.values() for n in skill.all_names()}
        for skill in gazetteer.skills.values():
            # Display names match too, unless a case-sensitive alias owns that spelling ("Go", "R").
            cased = {skill_key(a) for a in skill.case_sensitive}
            names = tuple(n for n in (skill.name, skill.name_zh) if skill_key(n) not in cased)
            spellings = (*skill.aliases, *names)
            self._add(skill.skill_id, (*spellings, *_plurals(spellings, taken)))
            if skill.case_sensitive:
                self._add(_CASED + skill.skill_id, skill.case_sensitive)
                self._cased_forms[skill.skill_id] = frozenset(normalize_width(a) for a in skill.case_sensitive)
        self._add(_BLOCK, gazetteer.blockers)
        for key in (*(s for s in gazetteer.skills), *(_CASED + s for s in self._cased_forms), _BLOCK):
            self._key_of[strings.add(key)] = key
        # What a token must look like to take part in any match (see the module docstring).
        self._vocab = frozenset(t.lower_ for doc in self._pattern_docs for t in doc)
        bigrams: set[str] = set()
        lone: set[str] = set()
        for doc in self._pattern_docs:
            runs = [""]
            for token in doc:
                if len(token.lower_) == 1 and is_cjk(token.lower_):
                    runs[-1] += token.lower_
                else:
                    runs.append("")
            for run in runs:
                if len(run) == 1:
                    lone.add(run)
                bigrams.update(run[i : i + 2] for i in range(len(run) - 1))
        self._bigrams = frozenset(bigrams)
        self._lone = frozenset(lone)
        single_chars = sorted(lone | {t for t in self._vocab if len(t) == 1 and not t.isalnum()})
        self._singles = re.compile("[" + "".join(re.escape(c) for c in single_chars) + "]")
        del self._pattern_docs

    def _add(self, key: str, phrases: tuple[str, ...]) -> None:
        docs = [self.nlp.make_doc(p) for p in phrases if p.strip()]
        if docs:
            self._matcher.add(key, docs)
            self._pattern_docs.extend(docs)

    def _compact(self, text: str) -> tuple[list[str], list[int], list[int]]:
        """Alias-relevant tokens (lowercased, normalized) with their spans; other stretches become gaps.

        Kept are: word tokens that occur in some alias (with the tokenizer's split of glued versions),
        CJK characters that form an alias bigram with a neighbour, and alias punctuation or lone CJK
        characters standing as tokens of their own. Two kept tokens stay adjacent only when nothing but
        one plain space separates them, exactly as in a Doc of every token.
        """
        norm = normalize_width(text)
        low = norm.lower()
        if len(low) != len(norm):
            low = ascii_lower(norm)
        vocab = self._vocab
        kept: list[tuple[int, int, str]] = []
        word_starts: list[int] = []
        word_ends: list[int] = []
        for match in scan_words(norm):
            start, end = match.span()
            word_starts.append(start)
            word_ends.append(end)
            piece = low[start:end]
            if piece in vocab:
                kept.append((start, end, piece))
            elif not (piece.isalpha() or piece.isdigit()):
                for piece_start, piece_end in word_pieces(norm, start, end):
                    part = low[piece_start:piece_end]
                    if part in vocab:
                        kept.append((piece_start, piece_end, part))
        characters: set[int] = set()
        if _ANY_CJK.search(low) is not None:
            bigrams = self._bigrams
            hits = [i for i in range(len(low) - 1) if low[i : i + 2] in bigrams]
            characters.update(hits)
            characters.update(i + 1 for i in hits)
        for match in self._singles.finditer(low):
            start = match.start()
            # Punctuation inside a word token ("." in "Node.js") is not a token of its own.
            k = bisect_right(word_starts, start) - 1
            if k < 0 or word_ends[k] <= start:
                characters.add(start)
        kept.extend((i, i + 1, low[i]) for i in characters)
        kept.sort()
        words: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        previous = -1
        for start, end, token in kept:
            if previous >= 0 and start != previous and not (start == previous + 1 and text[previous] == " "):
                words.append(_GAP)
                starts.append(previous)
                ends.append(start)
            words.append(token)
            starts.append(start)
            ends.append(end)
            previous = end
        return words, starts, ends

    def find_in_doc(self, doc: Doc, text: str | None = None) -> list[SkillHit]:
        """Skill hits in a Doc made by this matcher's pipeline (``nlp.make_doc``), in text order.

        Pass ``text`` (the string the doc was made from) to skip rebuilding ``doc.text``.
        """
        starts = [t.idx for t in doc]
        ends = [t.idx + len(t.text) for t in doc]
        return self._select(self._matcher(doc), starts, ends, doc.text if text is None else text)

    def find(self, text: str) -> list[SkillHit]:
        """Skill hits in ``text``, in text order, without overlaps; offsets point into ``text``."""
        words, starts, ends = self._compact(text)
        if not words:
            return []
        doc = Doc(self.nlp.vocab, words=words, spaces=[False] * len(words))
        return self._select(self._matcher(doc), starts, ends, text)

    def _select(self, raw: list[tuple[int, int, int]], starts: list[int], ends: list[int], text: str) -> list[SkillHit]:
        if not raw:
            return []
        # Longest first, then leftmost: greedy selection of non-overlapping token spans.
        raw.sort(key=lambda m: (m[1] - m[2], m[1]))
        taken = bytearray(len(starts))
        chosen: list[tuple[int, int, int]] = []
        for match_id, start, end in raw:
            if any(taken[start:end]):
                continue
            taken[start:end] = b"\x01" * (end - start)
            chosen.append((match_id, start, end))
        chosen.sort(key=lambda m: m[1])
        hits: list[SkillHit] = []
        for match_id, start, end in chosen:
            key = self._key_of[match_id]
            if key == _BLOCK:
                continue
            char_start, char_end = starts[start], ends[end - 1]
            if key.startswith(_CASED):
                key = key[len(_CASED) :]
                exact = normalize_width(text[char_start:char_end]) in self._cased_forms[key]
                glued = (char_start > 0 and is_cjk(text[char_start - 1])) or (
                    char_end < len(text) and is_cjk(text[char_end])
                )
                if not (exact or glued):
                    continue
            hits.append(SkillHit(key, char_start, char_end))
        return hits


def _plurals(spellings: tuple[str, ...], taken: set[str]) -> tuple[str, ...]:
    """English plurals of aliases ending in a lowercase word ("A/B test" -> "A/B tests"), unless taken."""
    plurals = []
    for spelling in spellings:
        last = spelling.rsplit(" ", 1)[-1].rsplit("/", 1)[-1]
        if len(last) < 3 or not (last.isascii() and last.isalpha() and last.islower()) or last.endswith("s"):
            continue
        plural = spelling + ("es" if spelling.endswith(("x", "ch", "sh")) else "s")
        if skill_key(plural) not in taken:
            plurals.append(plural)
    return tuple(plurals)


@lru_cache(maxsize=1)
def get_skill_matcher() -> SkillMatcher:
    """The process-wide matcher for the packaged gazetteer."""
    return SkillMatcher(get_nlp(), get_gazetteer())
