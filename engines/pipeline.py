"""The blank spaCy language the engines run on, built once per process.

``MixedLanguage`` is a blank pipeline (no trained model: the hub runs offline) whose tokenizer is
:class:`engines.tokenizer.MixedTokenizer` and whose lexical attributes normalize width, so ``ＡＢＣ`` and
``abc`` share ``LOWER``. It is registered under the language code :data:`LANG` so ``nlp.to_disk(path)``
and ``spacy.load(path)`` round-trip (import ``engines.pipeline`` first so the registry knows it).

Example:
    >>> nlp = get_nlp()
    >>> [t.lower_ for t in nlp.make_doc("Ｊａｖａ")]
    ['java']
"""

from __future__ import annotations

from functools import lru_cache

from spacy.attrs import LOWER, NORM
from spacy.language import BaseDefaults, Language
from spacy.util import registry
from thinc.api import Config

from engines.normalize import normalize_width
from engines.tokenizer import TOKENIZER_NAME

__all__ = ["LANG", "MixedLanguage", "build_nlp", "get_nlp"]

#: Language code of the mixed Chinese/English pipeline (stored in a saved pipeline's config).
LANG = "zh_en"

_DEFAULT_CONFIG = f"""
[nlp]

[nlp.tokenizer]
@tokenizers = "{TOKENIZER_NAME}"
"""


def _norm(text: str) -> str:
    """NORM: width-normalized, case kept (used for case-sensitive aliases such as ``Go`` or ``SW``)."""
    return normalize_width(text)


def _lower(text: str) -> str:
    """LOWER: width-normalized and lowercased (used for case-insensitive aliases)."""
    return normalize_width(text).lower()


class MixedDefaults(BaseDefaults):
    """Language defaults: our tokenizer and width-normalizing lexical attributes."""

    # Plain class attributes, as spaCy's own BaseDefaults declares them (a ClassVar would clash).
    config = Config().from_str(_DEFAULT_CONFIG)
    lex_attr_getters = {LOWER: _lower, NORM: _norm}  # noqa: RUF012
    writing_system = {"direction": "ltr", "has_case": True, "has_letters": True}  # noqa: RUF012


class MixedLanguage(Language):  # type: ignore[no-untyped-call]  # spaCy's __init_subclass__ is untyped
    """Blank spaCy language for resumes mixing Chinese and English."""

    lang = LANG
    Defaults = MixedDefaults


registry.languages.register(LANG, func=MixedLanguage)


def build_nlp() -> Language:
    """A fresh blank pipeline (no components; tokenization and lexical attributes only)."""
    return MixedLanguage()


@lru_cache(maxsize=1)
def get_nlp() -> Language:
    """The process-wide pipeline, built on first use (cheap, but keep one per process for the vocab)."""
    return build_nlp()
