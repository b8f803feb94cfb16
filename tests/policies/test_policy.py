"""Policy files: validation with paths and line numbers, decisions, defaults and merging."""

from __future__ import annotations

import json
import pickle
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from policies import (
    Classification,
    Decision,
    FieldRef,
    MaskFormat,
    PolicyFileError,
    PolicyProblem,
    PolicySet,
    Role,
    Secret,
    Visibility,
)

BRIEF_EXAMPLE = """\
version: 1
fields:
  candidate.phone: {classification: personal, encrypted: true, blind_index: phone, mask: phone,
                    roles: {admin: clear, hr: clear, interviewer: masked, approver: masked,
                            candidate: self, integrator: hidden}}
"""


def problems_of(text: str, *, partial: bool = False) -> list[PolicyProblem]:
    with pytest.raises(PolicyFileError) as info:
        PolicySet.from_yaml(text, source="test.yaml", partial=partial)
    assert info.value.code == "POLICY_INVALID"
    return info.value.problems


def only_problem(text: str) -> PolicyProblem:
    problems = problems_of(text)
    assert len(problems) == 1, problems
    return problems[0]


@pytest.fixture(scope="module")
def default() -> PolicySet:
    return PolicySet.default()


# -- the format ----------------------------------------------------------------------------


def test_the_example_from_the_issue_loads() -> None:
    policy = PolicySet.from_yaml(BRIEF_EXAMPLE)
    expected = {
        "admin": Visibility.CLEAR,
        "hr": Visibility.CLEAR,
        "interviewer": Visibility.MASKED,
        "approver": Visibility.MASKED,
        "candidate": Visibility.HIDDEN,
        "integrator": Visibility.HIDDEN,
    }
    for role, visibility in expected.items():
        assert policy.decide(role, "candidate", "phone").visibility is visibility
    assert policy.decide("candidate", "candidate", "phone", is_self=True).visibility is Visibility.CLEAR
    assert policy.decide("interviewer", "candidate", "phone").mask is MaskFormat.PHONE
    assert policy.encrypted_fields("candidate") == {"phone"}
    assert policy.blind_indexed_fields("candidate") == {"phone": "phone"}
    assert policy.personal_fields() == {FieldRef("candidate", "phone")}


def test_long_role_form_and_defaults() -> None:
    policy = PolicySet.from_yaml(
        """\
version: 1
defaults:
  classification: personal
  visibility: {personal: masked}
fields:
  principal.email:
    classification: personal
    mask: email
    roles:
      interviewer: {self: clear, others: masked}
      hr: clear
"""
    )
    assert policy.decide("interviewer", "principal", "email", is_self=True).visibility is Visibility.CLEAR
    masked = policy.decide("interviewer", "principal", "email")
    assert (masked.visibility, masked.mask) == (Visibility.MASKED, MaskFormat.EMAIL)
    # A role the rule leaves out gets the default for the classification (here: masked).
    assert policy.decide("approver", "principal", "email").visibility is Visibility.MASKED
    # Unknown fields take defaults.classification: personal here, so masked (with redact).
    unknown = policy.decide("hr", "candidate", "anything")
    assert (unknown.visibility, unknown.mask) == (Visibility.MASKED, MaskFormat.REDACT)


def test_lookup_order_exact_parent_wildcard_default() -> None:
    policy = PolicySet.from_yaml(
        """\
version: 1
fields:
  interview_session.*: {classification: personal, roles: {hr: masked}}
  interview_session.answers: {classification: sensitive, roles: {hr: clear}}
  interview_session.answers.score: {classification: internal}
"""
    )
    assert policy.rule_for("interview_session", "answers").field == "answers"
    assert policy.rule_for("interview_session", "answers.transcript").field == "answers"
    assert policy.rule_for("interview_session", "answers.score").classification is Classification.INTERNAL
    assert policy.rule_for("interview_session", "status").field == "*"
    assert policy.rule_for("job", "title").classification is Classification.INTERNAL
    assert policy.decide("hr", "interview_session", "answers.transcript").visibility is Visibility.CLEAR
    assert policy.decide("hr", "interview_session", "status").visibility is Visibility.MASKED
    assert policy.decide("integrator", "interview_session", "status").visibility is Visibility.HIDDEN
    assert policy.decide("integrator", "job", "title").visibility is Visibility.CLEAR
    reason = policy.decide("hr", "interview_session", "answers.transcript").reason
    assert "interview_session.answers" in reason and "covers" in reason


def test_unknown_roles_see_nothing(default: PolicySet) -> None:
    for field in ("phones", "id", "tags"):
        decision = default.decide("superuser", "candidate", field)
        assert decision.visibility is Visibility.HIDDEN
        assert "unknown role" in decision.reason


def test_unlisted_fields_are_clear_only_if_not_personal(default: PolicySet) -> None:
    assert default.decide("integrator", "candidate", "tags").visibility is Visibility.CLEAR
    assert default.decide("integrator", "job", "title").visibility is Visibility.CLEAR
    assert not default.decide("integrator", "job", "title").audited
    assert default.decide("integrator", "candidate", "phones").visibility is Visibility.HIDDEN


def test_decisions_are_cached_and_explained(default: PolicySet) -> None:
    first = default.decide(Role.INTERVIEWER, "candidate", "phones")
    assert default.decide("interviewer", "candidate", "phones") is first
    assert first.reason == "rule candidate.phones: interviewer -> masked"
    assert first.audited
    own = default.decide("candidate", "candidate", "phones", is_self=True)
    assert own.reason == "rule candidate.phones: candidate on own record -> clear"


def test_decision_apply() -> None:
    clear = Decision(Visibility.CLEAR, None, "r")
    masked = Decision(Visibility.MASKED, MaskFormat.PHONE, "r")
    hidden = Decision(Visibility.HIDDEN, None, "r")
    secret = Secret("13812345678")
    assert clear.apply(secret) == "13812345678"
    assert clear.apply("x") == "x"
    assert masked.apply(secret) == "138****5678"
    assert hidden.apply(secret) is None
    assert clear.apply(None) is None
    assert Decision(Visibility.MASKED, None, "r").apply("abc") == "***"
    assert clear.allowed and masked.allowed and not hidden.allowed


@settings(database=None, max_examples=200)
@given(role=st.text(max_size=12), entity=st.text(max_size=12), field=st.text(max_size=20), own=st.booleans())
def test_decide_is_total(role: str, entity: str, field: str, own: bool) -> None:
    decision = PolicySet.default().decide(role, entity, field, is_self=own)
    assert isinstance(decision.visibility, Visibility)
    if role not in set(Role):
        assert decision.visibility is Visibility.HIDDEN


# -- the shipped defaults --------------------------------------------------------------------


REQUIRED_DEFAULTS = [
    "candidate.first_name",
    "candidate.last_name",
    "candidate.emails",
    "candidate.phones",
    "candidate.national_id",
    "candidate.locations",
    "candidate.expected_salary",
    "resume.text",
    "interview_session.answers",
    "evaluation.total",
    "evaluation.dimension_scores",
    "scorecard.notes",
    "person.display_name",
    "connection.credentials",
]


@pytest.mark.parametrize("name", REQUIRED_DEFAULTS)
def test_defaults_cover_the_personal_data(default: PolicySet, name: str) -> None:
    entity, field = name.split(".", 1)
    rule = default.rule_for(entity, field)
    assert (rule.entity, rule.field) == (entity, field)
    assert rule.classification is not Classification.INTERNAL
    assert rule.audit
    assert set(rule.roles) == set(Role), f"{name} should decide for every role explicitly"


def test_defaults_are_consistent(default: PolicySet) -> None:
    for rule in default.rules():
        if rule.blind_index:
            assert rule.encrypted, rule.ref
        if rule.classification is Classification.SECRET:
            assert rule.encrypted and all(r.own is r.others is Visibility.HIDDEN for r in rule.roles.values())
        if rule.is_personal:
            assert rule.roles.get(Role.CANDIDATE) is not None, rule.ref
    assert default.encrypted_fields("candidate") >= {"first_name", "emails", "phones", "national_id"}
    assert default.blind_indexed_fields("candidate") == {
        "first_name": "text",
        "last_name": "text",
        "emails": "email",
        "phones": "phone",
        "national_id": "national_id",
    }
    assert FieldRef("interview_session", "answers") in default.personal_fields()
    assert FieldRef("connection", "credentials") not in default.personal_fields()
    assert FieldRef("connection", "credentials") in default.audited_fields()
    assert default.personal_fields("resume") == {FieldRef("resume", "text"), FieldRef("resume", "file_name")}
    assert "candidate" in default.entities()


def test_default_matrix_for_candidate_phone(default: PolicySet) -> None:
    seen = {role.value: default.decide(role, "candidate", "phones").apply(Secret("13812345678")) for role in Role}
    assert seen == {
        "admin": "13812345678",
        "hr": "13812345678",
        "interviewer": "138****5678",
        "approver": "138****5678",
        "candidate": None,
        "integrator": None,
    }


def test_credentials_are_never_shown(default: PolicySet) -> None:
    for role in Role:
        for own in (False, True):
            assert default.decide(role, "connection", "credentials", is_self=own).visibility is Visibility.HIDDEN


def test_default_consent_rules(default: PolicySet) -> None:
    assert default.consent_required("ai_scoring")
    assert default.consent_rule("ai_scoring").max_age_days == 730
    assert default.consent_required("ai_interview")
    assert not default.consent_required("newsletter")


def test_schema_file_is_valid_and_accepts_the_defaults() -> None:
    schema = json.loads(resources.files("policies").joinpath("policy.schema.json").read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    assert not list(Draft202012Validator(schema).iter_errors(PolicySet.default().to_dict()))


# -- validation errors -----------------------------------------------------------------------


def test_unknown_role_names_its_path_and_line() -> None:
    problem = only_problem(
        """\
version: 1
fields:
  candidate.phone:
    classification: personal
    roles:
      hr: clear
      hrr: masked
"""
    )
    assert problem.path == "fields.candidate.phone.roles.hrr"
    assert problem.line == 7
    assert "unknown key 'hrr'" in problem.message
    assert "interviewer" in problem.message


def test_bad_visibility_value() -> None:
    problem = only_problem(
        """\
version: 1
fields:
  candidate.phone:
    classification: personal
    roles:
      admin: clear
      hr: visible
"""
    )
    assert (problem.path, problem.line) == ("fields.candidate.phone.roles.hr", 7)
    assert "'visible' is not one of: clear, masked, hidden, self" in problem.message


def test_every_problem_is_reported_in_line_order() -> None:
    problems = problems_of(
        """\
version: 2
extra: 1
fields:
  Candidate.Phone: {classification: personal}
  candidate.email: {classification: privat, mask: stars, encrypted: "yes"}
  candidate.x: {roles: {admin: clear}}
  candidate.*: {classification: personal, encrypted: true}
  connection.credentials: {classification: secret}
  candidate.y: {classification: personal, blind_index: email}
  candidate.z: {classification: personal, roles: {hr: {self: clear}}}
"""
    )
    found = [(p.path, p.line) for p in problems]
    assert found == [
        ("version", 1),
        ("extra", 2),
        ("fields.Candidate.Phone", 4),
        ("fields.candidate.email.classification", 5),
        ("fields.candidate.email.encrypted", 5),
        ("fields.candidate.email.mask", 5),
        ("fields.candidate.x.classification", 6),
        ("fields.candidate.*.encrypted", 7),
        ("fields.connection.credentials.encrypted", 8),
        ("fields.candidate.y.blind_index", 9),
        ("fields.candidate.z.roles.hr", 10),
    ]
    messages = " | ".join(p.message for p in problems)
    assert "secret fields must be 'encrypted: true'" in messages
    assert "a blind index needs 'encrypted: true'" in messages
    assert "'others' is required" in messages


def test_error_message_lists_paths_and_lines() -> None:
    with pytest.raises(PolicyFileError) as info:
        PolicySet.from_yaml("version: 1\nfields:\n  candidate.phone: {classification: top}\n", source="acme.yaml")
    text = str(info.value)
    assert text.startswith("invalid policy acme.yaml: fields.candidate.phone.classification (line 3):")
    assert info.value.source == "acme.yaml"


def test_duplicate_keys_are_errors_not_silently_overwritten() -> None:
    problem = only_problem(
        """\
version: 1
fields:
  candidate.phones: {classification: personal, roles: {integrator: hidden}}
  candidate.phones: {classification: personal, roles: {integrator: clear}}
"""
    )
    assert (problem.path, problem.line) == ("fields.candidate.phones", 4)
    assert "first given on line 3" in problem.message


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ("version: 1\nfields:\n  candidate.a: {classification: personal\n  x: [\n", 4, "YAML syntax error"),
        ("", 1, "empty"),
        ("# only a comment\n", 1, "empty"),
        ("- 1\n- 2\n", 1, "must be a mapping"),
        ("just text", 1, "must be a mapping"),
        ("version: 1\n---\nversion: 1\n", 2, "YAML syntax error"),
        ("version: 1\nfields:\n  candidate.a: &r {classification: personal}\n  candidate.b: *r\n", 4, "aliases"),
    ],
)
def test_unreadable_files(text: str, line: int, needle: str) -> None:
    problem = only_problem(text)
    assert problem.line == line
    assert needle in problem.message


def test_missing_version_and_wrong_types() -> None:
    problems = problems_of("fields: []\n")
    assert {(p.path, p.line) for p in problems} == {("", 1), ("fields", 1)}
    assert any("'version' is required" in p.message for p in problems)


def test_deeply_nested_or_huge_files_are_refused() -> None:
    assert "nested too deeply" in only_problem("version: 1\nx: " + "[" * 5000 + "]" * 5000 + "\n").message
    assert "larger than" in only_problem("version: 1\n" + "#" * 1_000_001).message


def test_from_dict_reports_paths_without_lines() -> None:
    with pytest.raises(PolicyFileError) as info:
        PolicySet.from_dict({"version": 1, "fields": {"candidate.a": {"classification": "personal", "mask": "x"}}})
    assert [(p.path, p.line) for p in info.value.problems] == [("fields.candidate.a.mask", None)]


def test_from_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(BRIEF_EXAMPLE, encoding="utf-8")
    assert PolicySet.from_file(path).source == str(path)
    path.write_text("version: 1\nfields:\n  candidate.a: {}\n", encoding="utf-8")
    with pytest.raises(PolicyFileError) as info:
        PolicySet.from_file(path)
    assert info.value.problems[0].line == 3


def test_policy_file_error_pickles() -> None:
    with pytest.raises(PolicyFileError) as info:
        PolicySet.from_yaml("version: 3\n")
    copy = pickle.loads(pickle.dumps(info.value))
    assert copy.problems == info.value.problems
    assert str(copy) == str(info.value)


# -- merging ------------------------------------------------------------------------------


def test_tenant_override_changes_one_role_and_keeps_the_rest(default: PolicySet) -> None:
    override = """\
version: 1
fields:
  candidate.phones:
    roles: {interviewer: hidden}
  candidate.hobbies:
    classification: personal
    roles: {hr: clear}
consent:
  ai_scoring: {required: false}
"""
    policy = PolicySet.for_tenant(override, source="tenant acme")
    assert policy.decide("interviewer", "candidate", "phones").visibility is Visibility.HIDDEN
    assert policy.decide("approver", "candidate", "phones").visibility is Visibility.MASKED
    assert policy.rule_for("candidate", "phones").encrypted
    assert policy.decide("hr", "candidate", "hobbies").visibility is Visibility.CLEAR
    assert policy.decide("interviewer", "candidate", "hobbies").visibility is Visibility.HIDDEN
    assert not policy.consent_required("ai_scoring")
    assert default.decide("interviewer", "candidate", "phones").visibility is Visibility.MASKED  # untouched


def test_blank_tenant_policy_is_the_default(default: PolicySet) -> None:
    assert PolicySet.for_tenant(None) is default
    assert PolicySet.for_tenant("  \n") is default


def test_override_files_are_checked_with_their_own_lines() -> None:
    bad_role = "version: 1\nfields:\n  candidate.phones:\n    roles: {intern: clear}\n"
    with pytest.raises(PolicyFileError) as info:
        PolicySet.for_tenant(bad_role, source="tenant acme")
    assert [(p.path, p.line) for p in info.value.problems] == [("fields.candidate.phones.roles.intern", 4)]
    assert info.value.source == "tenant acme"


def test_the_merged_policy_is_validated_as_a_whole() -> None:
    # Fine on its own (a partial override), wrong once merged: the new field has no classification
    # and the default's unencrypted field cannot take a blind index.
    override = """\
version: 1
fields:
  candidate.hobbies: {roles: {hr: clear}}
  candidate.consent: {blind_index: text}
"""
    PolicySet.from_yaml(override, partial=True)
    with pytest.raises(PolicyFileError) as info:
        PolicySet.for_tenant(override)
    assert [(p.path, p.line) for p in info.value.problems] == [
        ("fields.candidate.hobbies.classification", 3),
        ("fields.candidate.consent.blind_index", 4),
    ]


def test_merge_of_two_complete_policies() -> None:
    base = PolicySet.from_yaml(BRIEF_EXAMPLE)
    tighter = PolicySet.from_yaml(
        "version: 1\nfields:\n  candidate.phone: {classification: sensitive, roles: {hr: masked}}\n"
    )
    merged = PolicySet.merge(base, tighter)
    assert merged.rule_for("candidate", "phone").classification is Classification.SENSITIVE
    assert merged.decide("hr", "candidate", "phone").visibility is Visibility.MASKED
    assert merged.decide("admin", "candidate", "phone").visibility is Visibility.CLEAR
    assert merged.to_dict()["fields"]["candidate.phone"]["mask"] == "phone"


def test_several_roles_see_the_most_revealing_view(default: PolicySet) -> None:
    both = default.decide_roles({"interviewer", "integrator"}, "candidate", "phones")
    assert (both.visibility, both.mask) == (Visibility.MASKED, MaskFormat.PHONE)
    assert default.decide_roles(["integrator", Role.HR], "candidate", "phones").visibility is Visibility.CLEAR
    assert default.decide_roles(["candidate"], "candidate", "phones", is_self=True).visibility is Visibility.CLEAR
    assert default.decide_roles(["nobody", "integrator"], "candidate", "phones").visibility is Visibility.HIDDEN
    nothing = default.decide_roles([], "candidate", "phones")
    assert nothing.visibility is Visibility.HIDDEN
    assert nothing.audited
