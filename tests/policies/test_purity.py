"""policies/ stays pure: standard library, cryptography, PyYAML and jsonschema only."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import policies

PACKAGE = Path(policies.__file__).parent
ALLOWED_THIRD_PARTY = {"cryptography", "yaml", "jsonschema", "pydantic"}


def _top_level_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_policies_import_nothing_but_the_stdlib_and_crypto_libraries() -> None:
    allowed = set(sys.stdlib_module_names) | ALLOWED_THIRD_PARTY | {"policies", "__future__"}
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(_top_level_imports(path) - allowed) for path in PACKAGE.glob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_package_data_ships_with_the_code() -> None:
    assert (PACKAGE / "policy.schema.json").is_file()
    assert (PACKAGE / "default_policy.yaml").is_file()
    assert policies.PolicySet.json_schema()["$id"] == "urn:recruiting-hub:policy:v1"
