"""The layers' import direction (DESIGN.md section 2) and the committed SDL."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = {"hub", "schema", "connectors", "engines", "policies", "simulators"}
ALLOWED = {
    "policies": set(),
    "engines": set(),
    "schema": {"policies"},
    "connectors": {"schema"},
    "simulators": set(),
    "hub": PROJECT,
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & PROJECT


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_point_down(package: str) -> None:
    offenders = []
    for path in (ROOT / package).rglob("*.py"):
        bad = _imports(path) - ALLOWED[package] - {package}
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not offenders, "\n".join(offenders)


def test_connectors_use_only_canonical_records_from_schema() -> None:
    for path in (ROOT / "connectors").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("schema"):
                assert node.module == "schema.records", f"{path} imports {node.module}"


def test_committed_sdl_matches_the_code() -> None:
    from schema.api import sdl

    committed = (ROOT / "schema" / "schema.graphql").read_text(encoding="utf-8")
    assert committed == sdl(), "schema/schema.graphql is stale: run `hub schema export -o schema/schema.graphql`"


def test_every_package_has_init_and_tests_mirror_packages() -> None:
    for folder in (ROOT / "tests").rglob("*"):
        if folder.is_dir() and folder.name != "__pycache__" and any(folder.glob("test_*.py")):
            assert (folder / "__init__.py").exists(), f"{folder} lacks __init__.py"


def test_the_web_process_does_not_load_the_nlp_pipeline_until_it_needs_it(tmp_path: Path) -> None:
    """The app and its runtime are built without spaCy: it loads with the first rubric compiled or resume
    extracted (workers load it up front, ``hub.jobs.engines.warm_engines``)."""
    code = (
        "import sys; import hub.asgi; "
        "assert 'spacy' not in sys.modules, sorted(m for m in sys.modules if m.startswith('engines.')); "
        "from hub.services.interviews import parse_rubric; parse_rubric('backend_engineer', None); "
        "print('spacy' in sys.modules)"
    )
    env = {**os.environ, "HUB_ENV": "development", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "True"  # and the first rubric loaded it
