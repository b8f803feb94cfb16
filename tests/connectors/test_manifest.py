"""connectors/manifest.py: loading, the published schema, problems with paths and YAML lines, preview."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from connectors.errors import ManifestError, UnsupportedOperation
from connectors.manifest import (
    load_manifest,
    load_manifest_file,
    manifest_schema,
    preview_mapping,
    validate_manifest,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "connectors" / "examples"

GOOD = """\
manifest_version: 1
kind: tiny_ats
name: Tiny ATS
version: "0.1.0"
auth:
  type: bearer
  token: ${credentials.token}
models:
  job:
    read:
      path: /jobs
      items: data
    identity:
      remote_id: id
    fields:
      title: name
"""


def problems(text: str) -> list:
    with pytest.raises(ManifestError) as caught:
        load_manifest(text, name="tiny.yaml")
    assert caught.value.code == "MANIFEST_INVALID"
    return caught.value.problems


def at(found: list, path: str):
    matches = [p for p in found if p.path == path]
    assert matches, f"no problem at {path}; got {[str(p) for p in found]}"
    return matches[0]


def test_the_published_schema_is_valid_draft_2020_12() -> None:
    schema = manifest_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_examples_are_valid(path: Path) -> None:
    manifest = load_manifest_file(path)
    assert manifest.kind == path.stem
    assert validate_manifest(path.read_text(encoding="utf-8")) == []


def test_a_good_manifest_loads_and_describes_itself() -> None:
    manifest = load_manifest(GOOD)
    assert manifest.kind == "tiny_ats" and manifest.version == "0.1.0"
    assert manifest.required_credentials == {"token"}
    assert {m: sorted(c) for m, c in manifest.capabilities.items()} == {"job": ["read"]}
    assert len(manifest.digest) == 64
    assert load_manifest(manifest.to_json()).digest == manifest.digest  # JSON and YAML describe the same


def test_json_manifests_work_and_errors_have_lines() -> None:
    data = yaml.safe_load(GOOD)
    assert load_manifest(json.dumps(data)).kind == "tiny_ats"
    data["models"]["job"]["fields"]["title"] = {"path": "name", "bogus": 1}
    found = problems(json.dumps(data, indent=2))
    problem = at(found, "$.models.job.fields.title.bogus")
    assert problem.line is not None and problem.line > 10


def test_a_mapping_dict_is_accepted_too() -> None:
    assert load_manifest(yaml.safe_load(GOOD)).kind == "tiny_ats"


def test_schema_problems_point_at_paths_and_lines() -> None:
    text = GOOD.replace('version: "0.1.0"', "version: 0.1").replace("kind: tiny_ats", "kind: Tiny-ATS")
    text = text.replace("      items: data\n", "      items: data\n      paginaton: {style: cursor}\n")
    text += "writes:\n  approval.create:\n    method: GET\n    path: /x\n"
    found = problems(text)
    kind = at(found, "$.kind")
    assert (kind.line, kind.column) == (2, 1)
    version = at(found, "$.version")
    assert version.line == 4 and "quote it" in version.message
    typo = at(found, "$.models.job.read.paginaton")
    assert typo.line == 13 and "did you mean 'pagination'" in typo.message
    method = at(found, '$.writes["approval.create"].method')
    assert method.line == 20
    assert [p.line for p in found] == sorted(p.line for p in found)  # document order


def test_missing_required_keys_and_auth_rules() -> None:
    found = problems("manifest_version: 1\nkind: x_y\nauth:\n  type: hmac\nmodels: {}\n")
    messages = " | ".join(str(p) for p in found)
    assert "'name' is a required property" in messages
    assert "'secret' is a required property" in messages
    assert any(p.path == "$.models" for p in found)


def test_meaning_problems_have_paths_and_lines() -> None:
    text = GOOD.replace("      title: name\n", "      titel: name\n      status: {path: s, enum: {map: {1: LIVE}}}\n")
    text = text.replace("      remote_id: id\n", '      remote_id: "id["\n')
    text = text.replace("token: ${credentials.token}", "token: ${secrets.token}")
    found = problems(text)
    assert "did you mean 'title'" in at(found, "$.models.job.fields.titel").message
    assert at(found, "$.models.job.fields.titel").line == 16
    assert "'LIVE' is not one of" in at(found, '$.models.job.fields.status.enum.map["1"]').message
    assert "invalid JMESPath" in at(found, "$.models.job.identity.remote_id.path").message
    assert "starts with 'secrets'" in at(found, "$.auth.token").message
    assert any("'title' is not mapped" in p.message for p in found)


def test_duplicate_keys_are_reported() -> None:
    found = problems(GOOD.replace("      title: name\n", "      title: name\n      title: other\n"))
    problem = at(found, "$.models.job.fields.title")
    assert "duplicate key" in problem.message and problem.line == 17


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("kind: [unclosed", "not valid YAML"),
        ("{not json", "not valid JSON"),
        ("- a list", "a mapping"),
        ("", "a mapping"),
    ],
)
def test_unparsable_manifests(text: str, fragment: str) -> None:
    found = problems(text)
    assert fragment in found[0].message


def test_yaml_dates_and_yes_no_stay_strings() -> None:
    text = GOOD.replace('version: "0.1.0"', 'version: "0.1.0"\ndescription: 2025-03-09')
    text = text.replace(
        "      title: name\n", "      title: name\n      mode: {path: m, enum: {map: {yes: social, no: campus}}}\n"
    )
    manifest = load_manifest(text)
    assert manifest.data["description"] == "2025-03-09"
    record = manifest.mapping("job").normalize({"id": 1, "name": "x", "m": "yes"})
    assert record.mode == "social"


def test_webhook_models_must_exist() -> None:
    text = GOOD + "webhook:\n  scheme: hmac_sha256\n  models: {job.updated: candidate}\n"
    found = problems(text)
    assert "not described under models" in at(found, '$.webhook.models["job.updated"]').message
    assert any("event_id is required" in p.message for p in found)


def test_fetch_path_needs_the_remote_id() -> None:
    text = GOOD.replace("    identity:\n", "    fetch: {path: /jobs/one}\n    identity:\n")
    assert "remote_id" in at(problems(text), "$.models.job.fetch.path").message


def test_manifest_error_lists_everything_readably() -> None:
    with pytest.raises(ManifestError) as caught:
        load_manifest(GOOD.replace("kind: tiny_ats", "kind: X"), name="tiny.yaml")
    assert "tiny.yaml: line 2, column 1: $.kind" in str(caught.value)
    assert caught.value.to_dict()["problems"][0]["line"] == 2


# --- preview ---------------------------------------------------------------------------------------------


def test_preview_returns_the_record() -> None:
    preview = preview_mapping(GOOD, "job", {"id": 7, "name": "Backend"})
    assert preview.ok and preview.record["remote_id"] == "7" and preview.record["title"] == "Backend"


def test_preview_collects_every_error_of_a_sample() -> None:
    manifest = load_manifest_file(EXAMPLES / "moka_style.yaml")
    preview = preview_mapping(
        manifest,
        "candidate",
        {
            "name": "",
            "phone": 13800000000,
            "email": "x" * 500,
            "updatedAt": "last tuesday",
            "createdAt": "soon",
            "customFields": "{broken",
            "labels": "not-a-list",
            "isDeleted": 0,
        },
    )
    paths = {e.path for e in preview.errors}
    assert {"$.candidateId", "$.updatedAt", "$.createdAt", "$.customFields"} <= paths
    assert any(e.field == "tags" for e in preview.errors)
    assert any(e.field.startswith("emails") for e in preview.errors)
    assert preview.record is None and len(preview.errors) >= 6
    assert preview.mapped["phones"] == [{"value": "13800000000", "kind": "MOBILE"}]


def test_preview_of_an_unmapped_model_or_invalid_manifest() -> None:
    with pytest.raises(UnsupportedOperation):
        preview_mapping(GOOD, "candidate", {})
    with pytest.raises(ManifestError):
        preview_mapping("kind: nope", "job", {})


def test_schema_and_meaning_problems_come_in_one_run() -> None:
    text = GOOD.replace('version: "0.1.0"', "version: 0.1")
    text = text.replace("      items: data\n", "      items: data\n      paginaton: {style: none}\n")
    text = text.replace("      title: name\n", "      titel: name\n      status: {path: s, enum: {map: {2: SHUT}}}\n")
    found = problems(text)
    assert [p.path for p in found] == [
        "$.version",
        "$.models.job.read.paginaton",
        "$.models.job.fields",
        "$.models.job.fields.titel",
        '$.models.job.fields.status.enum.map["2"]',
    ]


def test_link_pagination_is_a_style_and_refuses_keys_it_does_not_use() -> None:
    items = "      items: data\n"
    good = GOOD.replace(items, items + "      pagination: {style: link, rel: next, size_param: per_page}\n")
    assert load_manifest(good).models["job"]["read"]["pagination"]["style"] == "link"
    bad = GOOD.replace(items, items + "      pagination: {style: link, next_path: links.next}\n")
    found = at(problems(bad), "$.models.job.read.pagination.next_path")
    assert found.line == 13 and "does not apply" in found.message
