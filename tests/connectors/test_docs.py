"""The examples in the connectors' docstrings run as written; the guide's samples stay true."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

from connectors.manifest import validate_manifest

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(
    f"connectors.{path.stem}" for path in (ROOT / "connectors").glob("*.py") if not path.stem.startswith("__")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)  # examples name files relative to the repository
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_the_guide_shows_what_validate_really_prints() -> None:
    guide = (ROOT / "docs" / "connectors.md").read_text(encoding="utf-8")
    text = """manifest_version: 1
kind: tiny_ats
name: Tiny ATS
version: 1.0
auth:
  type: bearer
  token: ${credentials.token}
models:
  job:
    read:
      path: /jobs
      items: data
      paginaton: {style: none}
    identity:
      remote_id: id
    fields:
      titel: name
      status: {path: s, enum: {map: {2: SHUT}}}
"""
    for problem in validate_manifest(text):
        assert f"my_ats.yaml: {problem}" in guide
