"""connectors/mapping.py: the declarative mapping engine."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.errors import NormalizationError
from connectors.mapping import MappingSpecError, compile_model_mapping
from schema.records import ApprovalStatus, ContactValue

T = datetime(2025, 3, 9, 2, 10, tzinfo=UTC)


def job(fields: dict, identity: dict | None = None):
    return compile_model_mapping(
        "job", {"identity": identity or {"remote_id": "id"}, "fields": {"title": "t", **fields}}
    )


# --- time formats ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "value"),
    [
        ({"time": "iso8601"}, "2025-03-09T02:10:00Z"),
        ({"time": "iso8601"}, "2025-03-09T02:10Z"),
        ({"time": "iso8601", "tz": "+08:00"}, "2025-03-09 10:10:00"),
        ({"time": "epoch_s"}, 1741486200),
        ({"time": "epoch_s"}, "1741486200"),
        ({"time": "epoch_ms"}, 1741486200000),
        ({"time": "epoch_ms"}, "1741486200000"),
        ({"time": "auto"}, "1741486200000"),
        ({}, "2025-03-09T02:10Z"),  # datetime fields parse as auto by default
        ({}, 1741486200),
    ],
)
def test_every_time_format(spec: dict, value) -> None:
    mapping = job({}, {"remote_id": "id", "updated_at": {"path": "u", **spec}})
    assert mapping.normalize({"id": 1, "t": "x", "u": value}).remote_updated_at == T


def test_epoch_zero_string_is_null() -> None:
    mapping = compile_model_mapping(
        "application",
        {
            "identity": {"remote_id": "id"},
            "fields": {
                "candidate_remote_id": "c",
                "job_remote_id": "j",
                "rejected_at": {"path": "r", "time": "epoch_ms"},
            },
        },
    )
    assert mapping.normalize({"id": "A", "c": "C", "j": "J", "r": "0"}).rejected_at is None


def test_bad_time_is_an_error_with_the_source_path() -> None:
    with pytest.raises(NormalizationError) as caught:
        job({}, {"remote_id": "id", "updated_at": {"path": "meta.u", "time": "epoch_ms"}}).normalize(
            {"id": 1, "t": "x", "meta": {"u": "soon"}}
        )
    assert caught.value.path == "$.meta.u" and "epoch milliseconds" in caught.value.reason


# --- enums ---------------------------------------------------------------------------------------------------


def test_enum_map_default_and_case() -> None:
    spec = {"path": "s", "enum": {"map": {"open": "OPEN", "closed": "CLOSED"}, "case_insensitive": True}}
    mapping = job({"status": spec})
    assert mapping.normalize({"id": 1, "t": "x", "s": "Open"}).status.value == "OPEN"
    with pytest.raises(NormalizationError) as caught:
        mapping.normalize({"id": 1, "t": "x", "s": "paused"})
    assert caught.value.path == "$.s" and "expected one of closed, open" in caught.value.reason
    with_default = job({"status": {**spec, "enum": {**spec["enum"], "default": "PENDING"}}})
    assert with_default.normalize({"id": 1, "t": "x", "s": "paused"}).status.value == "PENDING"


def test_enum_keys_match_numbers_and_booleans() -> None:
    approval = compile_model_mapping(
        "approval",
        {
            "identity": {"remote_id": "sp_no"},
            "fields": {
                "definition_code": "tpl",
                "status": {
                    "path": "sp_status",
                    "enum": {"map": {"1": "PENDING", "2": "APPROVED", "10": "APPROVED", "true": "REJECTED"}},
                },
            },
        },
    )
    assert approval.normalize({"sp_no": 1, "tpl": "T", "sp_status": 10}).status is ApprovalStatus.APPROVED
    assert approval.normalize({"sp_no": 1, "tpl": "T", "sp_status": "2"}).status is ApprovalStatus.APPROVED
    assert approval.normalize({"sp_no": 1, "tpl": "T", "sp_status": True}).status is ApprovalStatus.REJECTED


# --- JSON-encoded strings ---------------------------------------------------------------------------------


def test_json_string_with_pairs_select_and_fields() -> None:
    mapping = compile_model_mapping(
        "approval",
        {
            "identity": {"remote_id": "instance_code"},
            "fields": {
                "definition_code": "approval_code",
                "status": {"const": "PENDING"},
                "form": {"path": "form", "json": True, "pairs": {"key": "id", "value": "value"}},
                "title": {"path": "form", "json": True, "select": "[0].value"},
                "custom_fields": {"path": "extra", "json": True, "fields": {"salary": "expectedSalary"}},
            },
        },
    )
    record = mapping.normalize(
        {
            "instance_code": "81D3",
            "approval_code": "7C46",
            "form": '[{"id":"widget1","type":"input","value":"张伟"},{"id":"w2","value":3}]',
            "extra": '{"expectedSalary": "30k"}',
        }
    )
    assert record.form == {"widget1": "张伟", "w2": 3}
    assert record.title == "张伟"
    assert record.custom_fields == {"salary": "30k"}


def test_invalid_json_string_is_an_error_and_empty_is_null() -> None:
    spec = {"path": "form", "json": True, "pairs": {"key": "id", "value": "value"}}
    mapping = compile_model_mapping(
        "approval",
        {
            "identity": {"remote_id": "id"},
            "fields": {"definition_code": "c", "status": {"const": "PENDING"}, "form": spec},
        },
    )
    assert mapping.normalize({"id": 1, "c": "c", "form": ""}).form == {}
    with pytest.raises(NormalizationError) as caught:
        mapping.normalize({"id": 1, "c": "c", "form": "[{oops"})
    assert caught.value.path == "$.form" and "JSON-encoded" in caught.value.reason


# --- defaults, constants, coercions -------------------------------------------------------------------------


def test_defaults_constants_and_required() -> None:
    mapping = job(
        {
            "code": {"path": "code", "default": "NONE"},
            "language": {"const": "zh"},
            "description": {"path": "d", "required": True},
        }
    )
    record = mapping.normalize({"id": 1, "t": "x", "d": "text"})
    assert (record.code, record.language) == ("NONE", "zh")
    with pytest.raises(NormalizationError) as caught:
        mapping.normalize({"id": 1, "t": "x"})
    assert caught.value.path == "$.d" and caught.value.errors[0].field == "description"


def test_numbers_become_strings_for_string_fields_and_ids() -> None:
    record = job({"code": "code", "mode": {"path": "m", "type": "string"}}).normalize(
        {"id": 42, "t": "x", "code": 7, "m": True}
    )
    assert (record.remote_id, record.code, record.mode) == ("42", "7", "true")


def test_missing_values_leave_the_record_default() -> None:
    record = job({"status": {"path": "missing"}}).normalize({"id": 1, "t": "x"})
    assert record.status.value == "OPEN"


# --- lists --------------------------------------------------------------------------------------------------


CANDIDATE = {
    "identity": {"remote_id": "id", "deleted": {"path": "flags.deleted", "equals": 1}},
    "fields": {
        "phones": {"path": "phone_numbers", "each": {"fields": {"value": "value", "kind": "phone_number_type"}}},
        "emails": {"path": "[email]", "each": {"fields": {"value": "@", "kind": {"const": "PERSONAL"}}}},
        "tags": "tags",
        "locations": "addresses[].city",
    },
}


def test_list_mappings_build_contact_values() -> None:
    record = compile_model_mapping("candidate", CANDIDATE).normalize(
        {
            "id": "c1",
            "email": "a@example.com",
            "tags": ["x", 3],
            "flags": {"deleted": 1},
            "phone_numbers": [{"value": "+86-138", "phone_number_type": "MOBILE"}, None, {"value": "010-1"}],
            "addresses": [{"city": "北京"}, {"city": "上海"}],
        }
    )
    assert record.phones == [ContactValue(value="+86-138", kind="MOBILE"), ContactValue(value="010-1")]
    assert record.emails == [ContactValue(value="a@example.com", kind="PERSONAL")]
    assert record.tags == ["x", "3"] and record.locations == ["北京", "上海"]
    assert record.remote_deleted is True


def test_identity_reads_remote_id_watermark_and_deleted() -> None:
    mapping = compile_model_mapping(
        "candidate", {"identity": {"remote_id": "meta.id", "updated_at": "meta.u", "deleted": "gone"}}
    )
    payload = {"meta": {"id": 99, "u": 1741486200000}, "gone": False}
    assert mapping.remote_id(payload) == "99"
    assert mapping.updated_at(payload) == T
    assert mapping.normalize(payload).remote_deleted is False
    assert mapping.remote_id({"meta": {}}) is None


# --- errors: every one collected -----------------------------------------------------------------------------


def test_preview_collects_every_error_with_paths() -> None:
    mapping = compile_model_mapping(
        "candidate", {**CANDIDATE, "identity": {"remote_id": "id", "updated_at": {"path": "u", "time": "iso8601"}}}
    )
    preview = mapping.preview(
        {
            "u": "not a time",
            "phone_numbers": [{"value": "+1"}, "oops", {"value": ""}],
            "tags": "not-a-list",
            "email": "x" * 400,
        }
    )
    found = {(e.path, e.field) for e in preview.errors}
    assert ("$.id", "remote_id") in found
    assert ("$.u", "remote_updated_at") in found
    assert ("$.phone_numbers[2].value", "phones[2].value") in found or (
        "$.phone_numbers[2].value",
        "phones[1].value",
    ) in found
    assert any(e.field == "tags" for e in preview.errors)
    assert any(e.field.startswith("emails") and "320" in e.reason for e in preview.errors)
    assert preview.record is None and not preview.ok
    assert len(preview.errors) >= 5


def test_normalize_reports_all_mapping_errors_at_once() -> None:
    mapping = job(
        {"status": {"path": "s", "enum": {"map": {"open": "OPEN"}}}},
        {"remote_id": "id", "updated_at": {"path": "u", "time": "epoch_s"}},
    )
    with pytest.raises(NormalizationError) as caught:
        mapping.normalize({"id": 1, "t": "x", "s": "?", "u": "later"})
    assert {e.path for e in caught.value.errors} == {"$.s", "$.u"}
    assert "(+1 more)" in str(caught.value)


def test_preview_of_a_good_sample_gives_the_json_record() -> None:
    preview = job({}).preview({"id": 5, "t": "Backend"})
    assert preview.ok and preview.record is not None and preview.record["title"] == "Backend"
    assert preview.to_dict()["errors"] == []


def test_non_object_payload() -> None:
    with pytest.raises(NormalizationError) as caught:
        job({}).normalize(["not", "an", "object"])
    assert caught.value.path == "$"


# --- spec problems ------------------------------------------------------------------------------------------


def test_spec_problems_are_all_reported_with_paths() -> None:
    with pytest.raises(MappingSpecError) as caught:
        compile_model_mapping(
            "job",
            {
                "identity": {"updated_at": "u", "colour": "c"},
                "fields": {
                    "titel": "name",
                    "status": {"path": "s", "enum": {"map": {"a": "NOPE"}}},
                    "code": {"path": "a[", "weird": 1},
                    "mode": {"path": "m", "each": "x"},
                    "department": {"path": "d", "time": "fortnightly"},
                },
            },
        )
    messages = {p.path: p.message for p in caught.value.problems}
    assert "identity.remote_id is required" in messages["$.identity"]
    assert "did you mean 'title'" in messages["$.fields.titel"]
    assert "'NOPE' is not one of" in messages["$.fields.status.enum.map.a"]
    assert "invalid JMESPath" in messages["$.fields.code.path"]
    assert "unknown key" in messages["$.fields.code.weird"]
    assert "each produces a list" in messages["$.fields.mode.each"]
    assert "unknown time format" in messages["$.fields.department.time"]
    assert "unknown identity rule" in messages["$.identity.colour"]
    assert any("'title' is not mapped" in p.message for p in caught.value.problems)


def test_unknown_model() -> None:
    with pytest.raises(MappingSpecError, match="unknown model"):
        compile_model_mapping("invoice", {"identity": {"remote_id": "id"}})
