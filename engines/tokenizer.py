"""A tokenizer for resumes that mix Chinese and English, registered with spaCy so pipelines serialize.

Rules, applied to the width-normalized text (:func:`engines.normalize.normalize_width`, one char to one
char, so offsets are shared with the original):

* every CJK ideograph is its own token (``熟悉Java`` -> ``熟``, ``悉``, ``Java``); the gazetteer matches
  Chinese phrases as token sequences, so no word segmenter (jieba, pkuseg) is needed;
* a Latin/digit run is one token, keeping the joiners tech names need: ``C++``, ``C#``, ``F#``,
  ``Node.js``, ``.NET``, ``ASP.NET``, ``R&D``, ``GD&T``, ``2018.03``, ``3+``;
* a version glued to a word splits off when the word has 2+ letters (``Python3`` -> ``Python``, ``3``;
  ``HTML5`` -> ``HTML``, ``5``) while short codes stay whole (``5S``, ``8D``, ``C1``, ``B2C``, ``K8s``);
* hyphens and slashes split (``CI/CD`` -> ``CI``, ``/``, ``CD``): a phrase pattern is tokenized the same
  way, so ``T-SQL`` still matches as a phrase and ``Python-based`` still yields ``Python``;
* every other non-space character is its own token; runs of whitespace other than one plain space are
  whitespace tokens, as in spaCy, so ``doc.text`` is exactly the input.

Token ``ORTH`` is the ORIGINAL text (``Ｃ＋＋`` stays ``Ｃ＋＋``), so ``doc.text == text`` and
``token.idx`` is an offset into the original. The language's lexical attributes carry the normalized
forms: ``NORM`` is width-normalized with case kept and ``LOWER`` is width-normalized and lowercased, which
is what the phrase matchers compare.

Example:
    >>> from engines.pipeline import get_nlp
    >>> [t.text for t in get_nlp().make_doc("熟悉C++/Node.js, 3+ years")]
    ['熟', '悉', 'C++', '/', 'Node.js', ',', '3+', 'years']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import srsly
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import registry
from spacy.vocab import Vocab

from engines.normalize import normalize_width

__all__ = [
    "TOKENIZER_NAME",
    "MixedTokenizer",
    "create_mixed_tokenizer",
    "scan",
    "scan_words",
    "split_tokens",
    "word_pieces",
]

TOKENIZER_NAME = "engines.mixed_tokenizer.v1"
_FORMAT_VERSION = 1

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# A letter or digit that is not CJK, not underscore (underscore is a word char in `re`).
_ALNUM = rf"[^\W_{_CJK}]"
# A Latin/digit word with the joiners tech names need.
_WORD_PATTERN = rf"""
    (?:(?<![A-Za-z0-9])\.(?=[A-Za-z]))?                  # leading dot: .NET
    {_ALNUM}
    (?:
        {_ALNUM}
      | \.(?=[a-z0-9]|NET(?![A-Za-z])|JS(?![A-Za-z]))     # Node.js, ASP.NET, 2018.03 (not "Java.Then")
      | [&'](?={_ALNUM})                                  # R&D, GD&T, don't
    )*
    (?:\+\+|\+|\#(?![A-Za-z0-9]))?                        # C++, 3+, C#
"""
_RUN_PATTERN = rf"(?:[{_CJK}]|[^\s\w.]|\.(?![A-Za-z]))+"  # CJK and punctuation: one token per character


def _token_regex(space: str, other: str) -> re.Pattern[str]:
    return re.compile(
        rf"(?P<run>{_RUN_PATTERN}) | (?P<word>{_WORD_PATTERN}) | (?P<space>{space}) | (?P<other>{other})",
        re.VERBOSE | re.DOTALL,
    )


_TOKEN_RE = _token_regex(r"\s+", ".")
# The same rules, but a single plain space is not a match at all, so scanners that ignore it (a Doc
# ignores it too: it is the previous token's trailing space) never see it.
_SCAN_RE = _token_regex(r"\s{2,}|[^\S\ ]", r"[^\ ]")
_WORD_RE = re.compile(_WORD_PATTERN, re.VERBOSE)
# Split a version glued to a 2+ letter word (Python3, HTML5) and a number glued to a 2+ letter word (3years).
_GLUE_RE = re.compile(r"(?<=[A-Za-z]{2})(?=\d)|(?<=\d)(?=[A-Za-z]{2})")
_HAS_DIGIT_AND_LETTER = re.compile(r"\d.*[A-Za-z]|[A-Za-z].*\d")


def word_pieces(norm: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of the tokens inside one ``word`` match: a version glued to a 2+ letter word splits off."""
    if end - start <= 2 or not _HAS_DIGIT_AND_LETTER.search(norm, start, end):
        return [(start, end)]
    pieces = []
    cut = start
    for split in _GLUE_RE.finditer(norm, start, end):
        if split.start() > cut:
            pieces.append((cut, split.start()))
            cut = split.start()
    pieces.append((cut, end))
    return pieces


def scan(norm: str) -> Iterator[re.Match[str]]:
    """Raw token scan of width-normalized text: matches whose ``lastgroup`` is ``run`` (CJK and punctuation,
    one token per character), ``word`` (see :func:`word_pieces`), ``space`` or ``other``. A single plain
    space between tokens is skipped (it belongs to the previous token, as in a Doc); any other whitespace
    is a ``space`` match."""
    return _SCAN_RE.finditer(norm)


def scan_words(norm: str) -> Iterator[re.Match[str]]:
    """Only the ``word`` tokens of :func:`scan` (same spans: no run, space or other token can hold the
    start of a word)."""
    return _WORD_RE.finditer(norm)


def split_tokens(text: str) -> tuple[list[str], list[bool]]:
    """Split ``text`` into spaCy ``words`` and ``spaces`` whose concatenation is exactly ``text``."""
    norm = normalize_width(text)
    words: list[str] = []
    spaces: list[bool] = []
    for match in _TOKEN_RE.finditer(norm):
        start, end = match.span()
        kind = match.lastgroup
        if kind == "run":
            # Extending by a string adds one word per character, in C: most Chinese text goes this way.
            words.extend(text[start:end])
            spaces.extend([False] * (end - start))
        elif kind == "space":
            gap = text[start:end]
            if words and gap[0] == " " and not spaces[-1]:
                spaces[-1] = True
                gap = gap[1:]
            if gap:
                words.append(gap)
                spaces.append(False)
        elif kind == "word":
            for piece_start, piece_end in word_pieces(norm, start, end):
                words.append(text[piece_start:piece_end])
                spaces.append(False)
        else:
            words.append(text[start:end])
            spaces.append(False)
    return words, spaces


class MixedTokenizer:
    """spaCy tokenizer for mixed Chinese/English text (see the module docstring for the rules)."""

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab

    def __call__(self, text: str) -> Doc:
        words, spaces = split_tokens(text)
        return Doc(self.vocab, words=words, spaces=spaces)

    def pipe(self, texts: Iterable[str], batch_size: int = 1000) -> Iterator[Doc]:
        """Tokenize a stream of texts (``batch_size`` is accepted for spaCy API compatibility)."""
        del batch_size
        for text in texts:
            yield self(text)

    # Serialization: the rules live in code, so only a format marker is stored. It lets a pipeline saved
    # with nlp.to_disk() be reloaded with spacy.load() and refuse a newer, incompatible format.
    def to_bytes(self, *, exclude: Iterable[str] = ()) -> bytes:
        del exclude
        data: bytes = srsly.json_dumps({"name": TOKENIZER_NAME, "format": _FORMAT_VERSION}).encode("utf8")
        return data

    def from_bytes(self, bytes_data: bytes, *, exclude: Iterable[str] = ()) -> MixedTokenizer:
        del exclude
        data = srsly.json_loads(bytes_data)
        if not isinstance(data, dict) or data.get("format") != _FORMAT_VERSION:
            raise ValueError(f"unsupported {TOKENIZER_NAME} serialization: {data!r}")
        return self

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        Path(path).write_bytes(self.to_bytes(exclude=exclude))

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> MixedTokenizer:
        return self.from_bytes(Path(path).read_bytes(), exclude=exclude)


def create_mixed_tokenizer() -> Callable[[Language], MixedTokenizer]:
    """spaCy registry entry: ``[nlp.tokenizer] @tokenizers = "engines.mixed_tokenizer.v1"``."""

    def make(nlp: Language) -> MixedTokenizer:
        return MixedTokenizer(nlp.vocab)

    return make


registry.tokenizers.register(TOKENIZER_NAME, func=create_mixed_tokenizer)
