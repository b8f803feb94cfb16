"""JMESPath expressions compiled once, with native Python getters for the common shapes.

Manifests address upstream JSON with JMESPath. Evaluating JMESPath's syntax tree per record is the slow
part of a mapping, so `compile_path` turns the shapes integrators use most into plain Python closures with
exactly JMESPath's semantics (a property test checks them against the reference implementation):

- paths: ``a``, ``a.b``, ``a[0].b``, ``a[-1]``, ``@``;
- multiselects: ``[a, b.c]``, ``{x: a, y: b}``;
- projections and flattens: ``a[*].b``, ``a[].b``, ``a[*]``, ``a[][]``.

Everything else (functions, filters, slices, pipes) runs on the precompiled JMESPath expression.

Example:
    >>> get, display = compile_path("phone_numbers[0].value")
    >>> get({"phone_numbers": [{"value": "+86-138"}]}), display
    ('+86-138', '.phone_numbers[0].value')
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import jmespath
import jmespath.exceptions

__all__ = ["compile_path", "search"]


def _identity(value: Any) -> Any:
    return value


def _steps(node: dict[str, Any]) -> list[str | int] | None:
    """The plain steps of a JMESPath AST (fields and indexes only), or None when it is more."""
    kind = node["type"]
    if kind == "field":
        return [node["value"]]
    if kind == "current":
        return []
    if kind == "index":
        return [node["value"]]
    if kind in ("subexpression", "index_expression"):
        # JMESPath chains any number of children here ("a.b.c", "a[0][1]"); each applies to the last.
        steps: list[str | int] = []
        for child in node["children"]:
            part = _steps(child)
            if part is None:
                return None
            steps += part
        return steps
    return None


def _getter(steps: list[str | int]) -> Callable[[Any], Any]:
    # Hand-unrolled for the common shapes: this is the hot path of every manifest normalization.
    if not steps:
        return lambda obj: obj
    if len(steps) == 1 and isinstance(steps[0], str):
        key = steps[0]

        def get1(obj: Any) -> Any:
            if obj.__class__ is dict or isinstance(obj, dict):  # the exact check first: JSON objects are dicts
                return obj.get(key)
            return None

        return get1
    if len(steps) == 2 and isinstance(steps[0], str) and isinstance(steps[1], str):
        k1, k2 = steps

        def get2(obj: Any) -> Any:
            if isinstance(obj, dict):
                obj = obj.get(k1)
                if isinstance(obj, dict):
                    return obj.get(k2)
            return None

        return get2
    path = tuple(steps)

    def get(obj: Any) -> Any:
        for step in path:
            if isinstance(step, str):
                if not isinstance(obj, dict):
                    return None
                obj = obj.get(step)
            else:
                if not isinstance(obj, list):
                    return None
                try:
                    obj = obj[step]
                except IndexError:
                    return None
            if obj is None:
                return None
        return obj

    return get


def _chain(getters: list[Callable[[Any], Any]]) -> Callable[[Any], Any]:
    def chain(obj: Any) -> Any:
        for get in getters:
            obj = get(obj)
        return obj

    return chain


def _native(node: dict[str, Any]) -> Callable[[Any], Any] | None:
    """A Python getter with JMESPath's semantics for the common shapes (paths, multiselects, projections,
    flattens), or None when the expression needs the JMESPath interpreter (functions, filters, slices)."""
    steps = _steps(node)
    if steps is not None:
        return _getter(steps)
    kind, children = node["type"], node.get("children", [])
    if kind == "identity":
        return _identity
    parts = [_native(child) for child in children]
    if any(part is None for part in parts):
        return None
    getters: list[Callable[[Any], Any]] = parts  # type: ignore[assignment]
    if kind in ("subexpression", "index_expression"):
        return _chain(getters)
    if kind == "multi_select_list":
        if len(getters) == 1:  # "[phone]": one value as a list of one, the common case
            (only,) = getters
            return lambda obj: None if obj is None else [only(obj)]
        return lambda obj: None if obj is None else [get(obj) for get in getters]
    if kind == "multi_select_dict":
        keys = [child["value"] for child in children]
        pairs = list(zip(keys, getters, strict=True))
        return lambda obj: None if obj is None else {key: get(obj) for key, get in pairs}
    if kind == "key_val_pair":
        return getters[0]
    if kind == "projection":
        left, right = getters

        def project(obj: Any) -> Any:
            base = left(obj)
            if not isinstance(base, list):
                return None
            return [value for value in map(right, base) if value is not None]

        return project
    if kind == "flatten":
        (inner,) = getters

        def flatten(obj: Any) -> Any:
            base = inner(obj)
            if not isinstance(base, list):
                return None
            out: list[Any] = []
            for element in base:
                if isinstance(element, list):
                    out.extend(element)
                else:
                    out.append(element)
            return out

        return flatten
    return None


@lru_cache(maxsize=4096)
def compile_path(expression: str) -> tuple[Callable[[Any], Any], str]:
    """Compile a JMESPath expression once: ``(getter, display)``; display is the JSON-path form.

    Raises:
        ValueError: not a valid JMESPath expression (message from the JMESPath parser).
    """
    try:
        parsed = jmespath.compile(expression)
    except jmespath.exceptions.JMESPathError as exc:
        message = str(exc).splitlines()[0].rstrip(":")
        position = getattr(exc, "lex_position", None)
        at = f" at character {position}" if isinstance(position, int) else ""
        raise ValueError(f"invalid JMESPath {expression!r}: {message}{at}") from None
    steps = _steps(parsed.parsed)
    if steps is None:
        return _native(parsed.parsed) or parsed.search, f".({expression})"
    display = "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps)
    return _getter(steps), display


def search(expression: str, data: Any) -> Any:
    """Evaluate a (cached) JMESPath expression."""
    return compile_path(expression)[0](data)
