"""connectors/paths.py: native getters agree with JMESPath itself."""

from __future__ import annotations

import jmespath
import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.paths import compile_path

KEYS = st.sampled_from(["a", "b", "c"])
DOCS = st.recursive(
    st.none() | st.integers() | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=10,
)
PATHS = st.lists(st.one_of(KEYS, st.integers(-3, 3)), min_size=1, max_size=4).map(
    lambda steps: (
        "".join((f".{s}" if i else s) if isinstance(s, str) else f"[{s}]" for i, s in enumerate(steps))
        if isinstance(steps[0], str)
        else "@" + "".join(f".{s}" if isinstance(s, str) else f"[{s}]" for s in steps)
    )
)


@given(doc=DOCS, path=PATHS)
def test_fast_getter_agrees_with_jmespath(doc, path: str) -> None:
    try:
        expected = jmespath.search(path, doc)
    except jmespath.exceptions.JMESPathError:
        return
    getter, _ = compile_path(path)
    assert getter(doc) == expected


def test_complex_expressions_use_jmespath() -> None:
    getter, display = compile_path("length(items[?active])")
    assert getter({"items": [{"active": True}, {"active": False}]}) == 1
    assert display == ".(length(items[?active]))"


SHAPES = st.sampled_from(
    [
        "[a, b]",
        "[a.b, c[0]]",
        "{x: a, y: b.c}",
        "a[*].b",
        "a[].b",
        "a[*]",
        "a[]",
        "a[*].b[0]",
        "a.b[*].c",
        "[a]",
        "a[*].[b, c]",
        "a[][]",
        "a[*].b[*].c",
    ]
)


@given(doc=DOCS, path=SHAPES)
def test_native_multiselects_and_projections_agree_with_jmespath(doc, path: str) -> None:
    getter, _ = compile_path(path)
    assert getter(doc) == jmespath.search(path, doc)


def test_invalid_expressions_say_where() -> None:
    with pytest.raises(ValueError, match=r"invalid JMESPath 'a\[': .* at character 2"):
        compile_path("a[")
