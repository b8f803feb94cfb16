"""Settings: read once from an environment mapping, validated, and documented in the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.settings import SETTINGS_DOC, Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_settings_from_a_mapping() -> None:
    s = Settings.from_env({"HUB_ENV": "development", "HUB_MAX_DEPTH": "7", "HUB_EMBEDDED": "yes"})
    assert s.development and s.max_depth == 7 and s.embedded


@pytest.mark.parametrize(("env", "message"), [
    ({"HUB_MAX_DEPTH": "deep"}, "HUB_MAX_DEPTH must be an integer"),
    ({"HUB_EMBEDDED": "maybe"}, "HUB_EMBEDDED must be true or false"),
    ({"HUB_ENV": "production"}, "HUB_JWT_SECRET"),
    ({"HUB_ENV": "production", "HUB_JWT_SECRET": "x" * 40, "HUB_REDIS_URL": "memory://x"}, "embedded mode only"),
])
def test_bad_settings_are_refused_with_the_variable_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)


def test_readme_documents_every_setting() -> None:
    text = README.read_text(encoding="utf-8")
    for name, default, doc in SETTINGS_DOC:
        assert f"| `{name}` | `{default}` | {doc} |" in text, name
