"""engines/tokenizer.py and engines/pipeline.py: mixed Chinese/English tokens, offsets, serialization."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st

from engines.normalize import ascii_lower, normalize_width
from engines.pipeline import LANG, MixedLanguage, build_nlp, get_nlp
from engines.tokenizer import MixedTokenizer, split_tokens


def tokens(text: str) -> list[str]:
    return [t.text for t in get_nlp().make_doc(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("熟悉C++/Node.js, 3+ years", ["熟", "悉", "C++", "/", "Node.js", ",", "3+", "years"]),
        (".NET与ASP.NET开发", [".NET", "与", "ASP.NET", "开", "发"]),
        ("C#和F#", ["C#", "和", "F#"]),
        ("Spring Boot微服务", ["Spring", "Boot", "微", "服", "务"]),
        ("R&D部门, GD&T", ["R&D", "部", "门", ",", "GD&T"]),
        ("Python3 HTML5 Vue3", ["Python", "3", "HTML", "5", "Vue", "3"]),
        ("5S 8D K8s C1驾照 B2C", ["5S", "8D", "K8s", "C1", "驾", "照", "B2C"]),
        ("2018.03-至今", ["2018.03", "-", "至", "今"]),
        ("CI/CD, T-SQL", ["CI", "/", "CD", ",", "T", "-", "SQL"]),
        ("Java.Then", ["Java", ".", "Then"]),
        ("I don't know", ["I", "don't", "know"]),
    ],
)
def test_tokens(text: str, expected: list[str]) -> None:
    assert tokens(text) == expected


def test_full_width_is_normalized_for_matching_but_kept_in_text() -> None:
    text = "ＡＢＣ，１２３　Ｃ＋＋"
    doc = get_nlp().make_doc(text)
    assert doc.text == text
    assert [t.text for t in doc] == ["ＡＢＣ", "，", "１２３", "\u3000", "Ｃ＋＋"]
    assert [t.lower_ for t in doc] == ["abc", ",", "123", " ", "c++"]
    assert doc[0].norm_ == "ABC"  # NORM keeps case for case-sensitive aliases
    assert normalize_width(text) == "ABC,123 C++"


def test_token_offsets_point_into_the_original() -> None:
    text = "  张三\n\n熟悉 Ｐｙｔｈｏｎ  和\tGo。"
    doc = get_nlp().make_doc(text)
    assert doc.text == text
    for token in doc:
        assert text[token.idx : token.idx + len(token.text)] == token.text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab Z9+#.&'-/\n\t　，。Ｃ＋中文熟悉_é$%"), max_size=60))
def test_any_text_round_trips(text: str) -> None:
    words, spaces = split_tokens(text)
    assert "".join(w + (" " if s else "") for w, s in zip(words, spaces, strict=True)) == text
    doc = get_nlp().make_doc(text)
    assert doc.text == text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_normalization_keeps_length(text: str) -> None:
    assert len(normalize_width(text)) == len(text)
    assert len(ascii_lower(text)) == len(text)


def test_pipeline_round_trips_through_disk(tmp_path: Path) -> None:
    nlp = build_nlp()
    nlp.to_disk(tmp_path / "pipeline")
    loaded = spacy.load(tmp_path / "pipeline")
    assert isinstance(loaded, MixedLanguage)
    assert loaded.lang == LANG
    assert isinstance(loaded.tokenizer, MixedTokenizer)
    text = "熟悉C++和Node.js，Ｐｙｔｈｏｎ"
    assert [t.text for t in loaded(text)] == tokens(text)
    assert [t.lower_ for t in loaded(text)][-1] == "python"


def test_tokenizer_bytes_round_trip_and_rejects_unknown_format() -> None:
    tokenizer = get_nlp().tokenizer
    assert isinstance(tokenizer, MixedTokenizer)
    assert tokenizer.from_bytes(tokenizer.to_bytes()) is tokenizer
    with pytest.raises(ValueError, match="unsupported"):
        tokenizer.from_bytes(b'{"format": 99}')


def test_pipe_matches_call() -> None:
    tokenizer = get_nlp().tokenizer
    assert isinstance(tokenizer, MixedTokenizer)
    texts = ["熟悉Java", "Led a team"]
    assert [d.text for d in tokenizer.pipe(texts)] == texts
