"""Field policies: classification, encryption, blind indexes, masking, role visibility,
consent and audit records.

Pure decisions and crypto: values in, values or decisions out. Nothing here imports
the rest of the project, touches a database or does I/O beyond reading a key or
policy file it is pointed at.

=================  ===============================================================
module             concept
=================  ===============================================================
``errors``         the exception tree and stable error codes
``secret``         ``Secret``: a decrypted value that prints as ``***``
``kek``            key-encryption keys: the ``KekProvider`` interface and ``LocalKek``
``keys``           data keys, the per-tenant key ring, rotation and shredding
``crypto``         ``FieldCipher``: AES-256-GCM tokens bound to tenant/entity/field/row
``blind_index``    HMAC blind indexes and the normalizers behind them
``masking``        mask formats (``138****5678``, ``w***@example.com``, ...)
``rules``          roles, visibilities, classifications, field rules, decisions
``policy``         ``PolicySet``: the policy file, its schema, merging, decisions
``consent``        consent records and the check the engines run
``audit``          audit entries and the hash chain
=================  ===============================================================
"""

from policies.audit import (
    GENESIS_HASH,
    AuditAction,
    AuditEntry,
    AuditOutcome,
    ChainAnchor,
    ChainVerdict,
    chain_hash,
    next_entry,
    verify_chain,
)
from policies.blind_index import (
    BlindIndexer,
    BlindIndexKind,
    normalize,
    normalize_email,
    normalize_national_id,
    normalize_phone,
    normalize_text,
)
from policies.consent import (
    AI_INTERVIEW,
    AI_SCORING,
    ConsentDecision,
    ConsentRecord,
    evaluate_consent,
    require_consent,
)
from policies.crypto import TOKEN_PREFIX, FieldCipher, key_id_of, looks_encrypted
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
from policies.keys import DataKey, KekProvider, KeyRing, KeyStatus, LocalKek, new_key_id
from policies.masking import MaskFormat, mask
from policies.policy import (
    Classification,
    ConsentRule,
    Decision,
    FieldRef,
    FieldRule,
    PolicySet,
    Role,
    RoleRule,
    Visibility,
)
from policies.secret import REDACTED, Secret

__all__ = [
    "AI_INTERVIEW",
    "AI_SCORING",
    "GENESIS_HASH",
    "REDACTED",
    "TOKEN_PREFIX",
    "AuditAction",
    "AuditEntry",
    "AuditOutcome",
    "AuthenticationFailedError",
    "BlindIndexKind",
    "BlindIndexer",
    "ChainAnchor",
    "ChainVerdict",
    "Classification",
    "ConsentDecision",
    "ConsentRecord",
    "ConsentRequiredError",
    "ConsentRule",
    "DataKey",
    "Decision",
    "DecryptionError",
    "FieldCipher",
    "FieldRef",
    "FieldRule",
    "KekError",
    "KekProvider",
    "KeyRetiredError",
    "KeyRing",
    "KeyStateError",
    "KeyStatus",
    "KeyringError",
    "LocalKek",
    "MalformedCiphertextError",
    "MaskFormat",
    "PolicyError",
    "PolicyFileError",
    "PolicyProblem",
    "PolicySet",
    "Role",
    "RoleRule",
    "Secret",
    "TenantMismatchError",
    "UnknownKeyError",
    "Visibility",
    "chain_hash",
    "evaluate_consent",
    "key_id_of",
    "looks_encrypted",
    "mask",
    "new_key_id",
    "next_entry",
    "normalize",
    "normalize_email",
    "normalize_national_id",
    "normalize_phone",
    "normalize_text",
    "require_consent",
    "verify_chain",
]
