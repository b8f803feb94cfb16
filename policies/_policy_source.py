"""Reading a policy file: YAML with line numbers, then the JSON Schema.

Private to :mod:`policies.policy`. Problems carry a dotted path
(``fields.candidate.phones.roles.hr``) and, where the YAML source is known, the
1-based line of the key or item the problem is about.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from policies.errors import PolicyFileError, PolicyProblem

MAX_POLICY_CHARS = 1_000_000
_MAX_DEPTH = 12

Path = tuple[str, ...]
LineMap = dict[Path, int]


def dotted(path: Path) -> str:
    return ".".join(path)


def parse_yaml(text: str, *, source: str) -> tuple[Any, LineMap]:
    """Parse ``text`` safely, returning the data and the line of every key and item.

    Raises:
        PolicyFileError: the YAML does not parse, or a mapping repeats a key (YAML would
            silently keep the last one, which hides mistakes in a security policy).
    """
    if len(text) > MAX_POLICY_CHARS:
        raise PolicyFileError(
            [PolicyProblem("", f"the policy file is larger than {MAX_POLICY_CHARS} characters")], source=source
        )
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise PolicyFileError([PolicyProblem("", "the policy file is nested too deeply")], source=source) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise PolicyFileError(
            [PolicyProblem("", f"YAML syntax error: {exc.problem or exc.context}", line)], source=source
        ) from None
    except yaml.YAMLError as exc:
        raise PolicyFileError([PolicyProblem("", f"YAML error: {exc}")], source=source) from None
    if node is None:
        raise PolicyFileError([PolicyProblem("", "the policy file is empty", 1)], source=source)
    lines: LineMap = {(): node.start_mark.line + 1}
    problems: list[PolicyProblem] = []
    _index(node, (), lines, problems, set())
    if problems:
        raise PolicyFileError(problems, source=source)
    data = yaml.load(text, Loader=yaml.SafeLoader)
    return data, lines


def _index(node: yaml.Node, path: Path, lines: LineMap, problems: list[PolicyProblem], seen_nodes: set[int]) -> None:
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        # An alias makes the composer hand out the same node twice; refusing aliases keeps a
        # policy readable and rules out exponential "billion laughs" documents.
        if id(node) in seen_nodes:
            line = lines.get(path, node.start_mark.line + 1)
            problems.append(PolicyProblem(dotted(path), "YAML anchors and aliases are not allowed", line))
            return
        seen_nodes.add(id(node))
        if len(path) > _MAX_DEPTH:
            problems.append(PolicyProblem(dotted(path), "nested too deeply", node.start_mark.line + 1))
            return
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(
                    PolicyProblem(dotted((*path, key)), f"duplicate key (first given on line {seen[key]})", line)
                )
                continue
            seen[key] = line
            lines[(*path, key)] = line
            _index(value_node, (*path, key), lines, problems, seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for n, item in enumerate(node.value):
            lines[(*path, str(n))] = item.start_mark.line + 1
            _index(item, (*path, str(n)), lines, problems, seen_nodes)


def line_of(lines: LineMap | None, path: Path) -> int | None:
    """The line of ``path`` or, failing that, of its nearest ancestor in the source."""
    if lines is None:
        return None
    for end in range(len(path), -1, -1):
        line = lines.get(path[:end])
        if line is not None:
            return line
    return None


@cache
def _validator() -> Draft202012Validator:
    text = resources.files("policies").joinpath("policy.schema.json").read_text("utf-8")
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def policy_schema() -> dict[str, Any]:
    """The policy file's JSON Schema (a copy)."""
    return json.loads(json.dumps(_validator().schema))  # type: ignore[no-any-return]


def schema_problems(data: Any, lines: LineMap | None) -> list[PolicyProblem]:
    """Every JSON Schema violation in ``data``, sorted by line then path."""
    problems = [p for error in _validator().iter_errors(data) for p in _explain(error, lines)]
    unique = {(p.path, p.message): p for p in problems}
    return sorted(unique.values(), key=lambda p: (p.line if p.line is not None else 0, p.path))


def _explain(error: ValidationError, lines: LineMap | None) -> Iterator[PolicyProblem]:
    path: Path = tuple(str(part) for part in error.absolute_path)
    if "propertyNames" in error.absolute_schema_path:
        key = str(error.instance)
        full = (*path, key)
        yield PolicyProblem(dotted(full), _name_problem(path, key), line_of(lines, full))
        return
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
        for key in error.instance:
            if key in known or any(p.search(str(key)) for p in patterns):
                continue
            full = (*path, str(key))
            hint = f"; expected one of {', '.join(sorted(known))}" if known else ""
            yield PolicyProblem(dotted(full), f"unknown key {str(key)!r}{hint}", line_of(lines, full))
        return
    if error.validator == "required":
        yield PolicyProblem(
            dotted(path), error.message.replace("is a required property", "is required"), line_of(lines, path)
        )
        return
    if error.validator == "enum":
        options = ", ".join("null" if v is None else str(v) for v in error.validator_value)
        yield PolicyProblem(dotted(path), f"{_show(error.instance)} is not one of: {options}", line_of(lines, path))
        return
    if error.validator == "const":
        yield PolicyProblem(
            dotted(path),
            f"{_show(error.instance)} is not supported; expected {error.validator_value!r}",
            line_of(lines, path),
        )
        return
    yield PolicyProblem(dotted(path), error.message, line_of(lines, path))


def _name_problem(path: Path, key: str) -> str:
    if path == ("fields",):
        return (
            f"{key!r} is not a field name: use 'entity.field' or 'entity.*' in lower snake_case (e.g. candidate.phones)"
        )
    return f"{key!r} is not a valid name: use lower snake_case"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
