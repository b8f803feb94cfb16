"""The error tree: stable codes, the hierarchy the docstring draws, safe pickling."""

from __future__ import annotations

import pickle

import pytest

import policies
from policies import errors
from policies.errors import (
    AuthenticationFailedError,
    ConsentRequiredError,
    DecryptionError,
    KekError,
    KeyRetiredError,
    KeyringError,
    KeyStateError,
    MalformedCiphertextError,
    PolicyError,
    PolicyFileError,
    PolicyProblem,
    TenantMismatchError,
    UnknownKeyError,
)

EXPECTED = {
    PolicyError: (None, "POLICY_ERROR"),
    DecryptionError: (PolicyError, "DECRYPTION_FAILED"),
    UnknownKeyError: (DecryptionError, "KEY_UNKNOWN"),
    MalformedCiphertextError: (DecryptionError, "CIPHERTEXT_MALFORMED"),
    AuthenticationFailedError: (DecryptionError, "CIPHERTEXT_AUTH_FAILED"),
    KeyringError: (PolicyError, "KEYRING_ERROR"),
    KeyRetiredError: (KeyringError, "KEY_RETIRED"),
    KeyStateError: (KeyringError, "KEY_STATE_INVALID"),
    TenantMismatchError: (KeyringError, "TENANT_MISMATCH"),
    KekError: (KeyringError, "KEK_INVALID"),
    PolicyFileError: (PolicyError, "POLICY_INVALID"),
    ConsentRequiredError: (PolicyError, "CONSENT_REQUIRED"),
}


@pytest.mark.parametrize("cls", list(EXPECTED), ids=lambda c: c.__name__)
def test_tree_and_codes(cls: type[PolicyError]) -> None:
    parent, code = EXPECTED[cls]
    assert cls.code == code
    if parent is not None:
        assert cls.__bases__ == (parent,)
    assert cls.__name__ in (errors.__doc__ or "")
    assert code in (errors.__doc__ or "")


def test_every_error_class_is_listed_and_codes_are_unique() -> None:
    found = {obj for obj in vars(errors).values() if isinstance(obj, type) and issubclass(obj, PolicyError)}
    assert found == set(EXPECTED)
    assert len({cls.code for cls in found}) == len(found)


@pytest.mark.parametrize(
    "error",
    [
        UnknownKeyError("m", key_id="dk_x", where="candidate.phones", record_id="r"),
        MalformedCiphertextError("m"),
        AuthenticationFailedError("m", key_id="dk_x"),
        KeyRetiredError("m", key_id="dk_x"),
        KeyStateError("m"),
        KekError("m"),
        PolicyFileError([PolicyProblem("fields.a.b", "bad", 3)], source="x.yaml"),
        ConsentRequiredError("ai_scoring", "no consent recorded"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_errors_survive_pickling(error: PolicyError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.__dict__ == error.__dict__
    assert copy.message == error.message


def test_policy_problem_text() -> None:
    assert (
        str(PolicyProblem("fields.candidate.phone.roles.hr", "bad", 7))
        == "fields.candidate.phone.roles.hr (line 7): bad"
    )
    assert str(PolicyProblem("", "empty")) == "<root>: empty"
    many = PolicyFileError([PolicyProblem(f"p{i}", "bad", i) for i in range(8)])
    assert str(many).endswith("(and 3 more)")


def test_public_surface_is_stated() -> None:
    for name in policies.__all__:
        assert hasattr(policies, name), name
    exported = {name for name in dir(policies) if not name.startswith("_")}
    modules = {
        "audit",
        "blind_index",
        "consent",
        "crypto",
        "errors",
        "kek",
        "keys",
        "masking",
        "policy",
        "rules",
        "secret",
    }
    assert exported - set(policies.__all__) <= modules
