"""``${...}`` templates in manifests: JMESPath over a small context, rendered into paths, params, bodies.

The context of a template holds ``credentials``, ``settings``, ``payload`` (the canonical write payload),
``remote_id``, ``idempotency_key``. Rules:

- a string that is exactly one placeholder (``"${payload.score}"``) becomes the value itself, keeping its
  JSON type (number, list, null);
- placeholders inside longer text are interpolated as text (null as empty);
- in URL paths (`render_path`) each interpolated value is percent-encoded, so an id cannot add segments.

Example:
    >>> render_value({"stage": "${payload.stage}", "note": "moved by ${payload.who}"},
    ...              {"payload": {"stage": 3, "who": "hub"}})
    {'stage': 3, 'note': 'moved by hub'}
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from connectors.paths import compile_path

__all__ = ["TEMPLATE_ROOTS", "expressions", "render_path", "render_string", "render_value"]

TEMPLATE_ROOTS = frozenset({"credentials", "settings", "payload", "remote_id", "idempotency_key"})
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


def expressions(value: Any) -> list[str]:
    """Every placeholder expression inside a template value (strings, lists, objects)."""
    if isinstance(value, str):
        return [m.group(1).strip() for m in _PLACEHOLDER.finditer(value)]
    if isinstance(value, list):
        return [e for v in value for e in expressions(v)]
    if isinstance(value, dict):
        return [e for v in value.values() for e in expressions(v)]
    return []


def _eval(expression: str, context: dict[str, Any]) -> Any:
    return compile_path(expression.strip())[0](context)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def render_string(template: str, context: dict[str, Any]) -> str:
    return _PLACEHOLDER.sub(lambda m: _text(_eval(m.group(1), context)), template)


def render_path(template: str, context: dict[str, Any]) -> str:
    return _PLACEHOLDER.sub(lambda m: quote(_text(_eval(m.group(1), context)), safe=""), template)


def render_value(template: Any, context: dict[str, Any]) -> Any:
    if isinstance(template, str):
        match = _PLACEHOLDER.fullmatch(template)
        if match:
            return _eval(match.group(1), context)
        return render_string(template, context) if "${" in template else template
    if isinstance(template, list):
        return [render_value(v, context) for v in template]
    if isinstance(template, dict):
        return {k: render_value(v, context) for k, v in template.items()}
    return template
