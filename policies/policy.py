"""Field policies: per tenant, how each field is stored and what each role sees.

A policy is a YAML file (validated by ``policies/policy.schema.json``)::

    version: 1
    defaults:                       # optional; these are the built-in values
      classification: internal      # of a field no rule matches
      visibility:                   # what a role a rule does not list sees
        public: clear
        internal: clear
        personal: hidden
        sensitive: hidden
        secret: hidden
    consent:
      ai_scoring: {required: true, max_age_days: 365}
    fields:
      candidate.phones:
        classification: personal    # public | internal | personal | sensitive | secret
        encrypted: true             # AES-GCM at rest (default false)
        blind_index: phone          # email | phone | national_id | text (default none)
        mask: phone                 # phone | email | last4 | name | redact (default redact)
        audit: true                 # audit reads (default: personal, sensitive and secret)
        roles:
          admin: clear
          hr: clear
          interviewer: masked
          approver: masked
          candidate: self           # clear when the record is the principal's own, else hidden
          integrator: {self: clear, others: hidden}   # the long form of a role rule

Keys of ``fields`` are ``entity.field``; a field may be a dotted path into a nested
value (``interview_session.answers.transcript``), and ``entity.*`` covers every field
of the entity that no other rule names. Lookup for ``(entity, field)`` takes the most
specific rule: the exact key, then each parent path (``answers.transcript`` falls back
to ``answers``), then ``entity.*``, then ``defaults.classification``.

Role values: ``clear`` (the value), ``masked`` (the field's mask), ``hidden`` (null,
as if absent), ``self`` (= ``{self: clear, others: hidden}``: clear only when the
record's subject is the principal, e.g. a candidate reading their own phone). A role
the rule does not list gets ``defaults.visibility`` of the field's classification; an
unknown role sees nothing. So a field nobody classified is shown in clear (internal),
and a field classified personal is hidden from every role not named.

Rules checked beyond the schema: every rule names a classification (except in an
override file, see :meth:`PolicySet.merge`); a blind index needs ``encrypted: true``;
``secret`` fields must be encrypted; ``entity.*`` rules cannot set ``encrypted`` or
``blind_index`` (the store needs to know its encrypted columns by name).

Example:
    >>> policy = PolicySet.default()
    >>> policy.decide("interviewer", "candidate", "phones")
    Decision(visibility=<Visibility.MASKED: 'masked'>, mask=<MaskFormat.PHONE: 'phone'>, ...)
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from policies._policy_source import LineMap, dotted, line_of, parse_yaml, policy_schema, schema_problems
from policies.blind_index import BlindIndexKind
from policies.errors import PolicyFileError, PolicyProblem
from policies.masking import MaskFormat
from policies.rules import (
    DEFAULT_VISIBILITY,
    Classification,
    ConsentRule,
    Decision,
    FieldRef,
    FieldRule,
    Role,
    RoleRule,
    Visibility,
)

# The rule and decision types live in policies.rules; they are re-exported here because
# every caller of PolicySet needs them.
__all__ = [
    "Classification",
    "ConsentRule",
    "Decision",
    "FieldRef",
    "FieldRule",
    "PolicySet",
    "Role",
    "RoleRule",
    "Visibility",
]


class PolicySet:
    """A validated policy: rules by field, role decisions, and what the store must encrypt.

    Build it with :meth:`from_yaml`, :meth:`from_file`, :meth:`from_dict`,
    :meth:`default`, :meth:`merge` or :meth:`for_tenant`; it is immutable and safe to
    share. Decisions are cached, so ``decide`` costs a dict lookup after the first call.
    """

    def __init__(self, data: Mapping[str, Any], *, source: str = "<policy>", lines: LineMap | None = None) -> None:
        """Prefer the ``from_*`` constructors: ``data`` is trusted to be validated."""
        self._data: dict[str, Any] = copy.deepcopy(dict(data))
        self._lines = lines
        self.source = source
        defaults = self._data.get("defaults", {})
        self.default_classification = Classification(defaults.get("classification", "internal"))
        visibility = dict(DEFAULT_VISIBILITY)
        for name, value in defaults.get("visibility", {}).items():
            visibility[Classification(name)] = Visibility(value)
        self._default_visibility: Mapping[Classification, Visibility] = MappingProxyType(visibility)
        self._rules: dict[FieldRef, FieldRule] = {}
        for key, raw in self._data.get("fields", {}).items():
            entity, _, name = key.partition(".")
            self._rules[FieldRef(entity, name)] = self._build_rule(entity, name, raw)
        self._consent = {
            purpose: ConsentRule(purpose, bool(rule["required"]), rule.get("max_age_days"))
            for purpose, rule in self._data.get("consent", {}).items()
        }
        self._decisions: dict[tuple[str, str, str, bool], Decision] = {}

    def _build_rule(self, entity: str, name: str, raw: Mapping[str, Any]) -> FieldRule:
        classification = Classification(raw.get("classification", self.default_classification))
        return FieldRule(
            entity=entity,
            field=name,
            classification=classification,
            encrypted=bool(raw.get("encrypted", False)),
            blind_index=raw.get("blind_index"),
            mask=MaskFormat(raw.get("mask", "redact")),
            audit=bool(raw.get("audit", _audited_by_default(classification))),
            roles=MappingProxyType({Role(role): RoleRule.parse(value) for role, value in raw.get("roles", {}).items()}),
        )

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "<policy>", partial: bool = False) -> PolicySet:
        """Parse and validate a policy file.

        Args:
            text: the YAML source.
            source: a name for error messages (file name, ``tenant acme``...).
            partial: an override file, checked as a complete policy only after
                :meth:`merge`; its rules may leave out ``classification``.

        Raises:
            PolicyFileError: with every problem found, each with its path and line.
        """
        data, lines = parse_yaml(text, source=source)
        return cls._validated(data, source=source, lines=lines, partial=partial)

    @classmethod
    def from_file(cls, path: str | Path, *, partial: bool = False) -> PolicySet:
        """Read and validate a policy file from disk."""
        return cls.from_yaml(Path(path).read_text("utf-8"), source=str(path), partial=partial)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "<policy>", partial: bool = False) -> PolicySet:
        """Validate an already parsed policy (errors then carry no line numbers)."""
        return cls._validated(data, source=source, lines=None, partial=partial)

    @staticmethod
    def json_schema() -> dict[str, Any]:
        """The JSON Schema policy files are validated against (``policy.schema.json``)."""
        return policy_schema()

    @classmethod
    def default(cls) -> PolicySet:
        """The policy shipped with the hub (``policies/default_policy.yaml``)."""
        return _default_policy()

    @classmethod
    def merge(cls, defaults: PolicySet, overrides: PolicySet) -> PolicySet:
        """``overrides`` laid over ``defaults``, key by key.

        Mappings merge recursively, anything else is replaced: an override of
        ``candidate.phones: {roles: {interviewer: hidden}}`` changes that one role and
        keeps the rest of the default rule; consent rules and defaults merge the same
        way. The result is validated as a complete policy; its problems carry the
        override file's line numbers where the override wrote the rule.

        Raises:
            PolicyFileError: the merged policy is not valid.
        """
        merged = _deep_merge(defaults._data, overrides._data)
        lines = {path: line for path, line in (overrides._lines or {}).items() if len(path) >= 2}
        return cls._validated(merged, source=overrides.source, lines=lines, partial=False)

    @classmethod
    def for_tenant(cls, override_yaml: str | None, *, source: str = "<tenant policy>") -> PolicySet:
        """The default policy with a tenant's override file laid over it.

        ``None`` or a blank text gives the defaults (the ``tenants.policy_yaml`` column).
        """
        if override_yaml is None or not override_yaml.strip():
            return cls.default()
        return cls.merge(cls.default(), cls.from_yaml(override_yaml, source=source, partial=True))

    @classmethod
    def _validated(cls, data: Any, *, source: str, lines: LineMap | None, partial: bool) -> PolicySet:
        if not isinstance(data, Mapping):
            raise PolicyFileError(
                [PolicyProblem("", "a policy must be a mapping with 'version' and 'fields'", 1)], source=source
            )
        problems = schema_problems(data, lines)
        fields = data.get("fields")
        if not partial and isinstance(fields, Mapping):
            for key, raw in fields.items():
                if isinstance(raw, Mapping):
                    problems.extend(_semantic_problems(str(key), raw, lines))
        if problems:
            problems.sort(key=lambda p: (p.line if p.line is not None else 0, p.path))
            raise PolicyFileError(problems, source=source)
        return cls(data, source=source, lines=lines)

    # -- questions ----------------------------------------------------------------------

    def rule_for(self, entity: str, field: str) -> FieldRule:
        """The most specific rule for ``entity.field`` (see the module docstring); a field
        no rule covers gets a rule of ``defaults.classification`` that lists no role."""
        rules = self._rules
        rule = rules.get(FieldRef(entity, field))
        if rule is not None:
            return rule
        parent = field
        while "." in parent:
            parent = parent.rsplit(".", 1)[0]
            rule = rules.get(FieldRef(entity, parent))
            if rule is not None:
                return rule
        rule = rules.get(FieldRef(entity, "*"))
        if rule is not None:
            return rule
        classification = self.default_classification
        return FieldRule(entity, field, classification, audit=_audited_by_default(classification))

    def decide(self, role: Role | str, entity: str, field: str, *, is_self: bool = False) -> Decision:
        """What ``role`` sees of ``entity.field``.

        Args:
            role: one of :class:`Role`; anything else sees nothing.
            entity: canonical entity name, e.g. ``candidate``.
            field: field name or dotted path, e.g. ``phones``.
            is_self: the record's subject is the principal asking (their own data).
        """
        cache_key = (str(role), entity, field, is_self)
        decision = self._decisions.get(cache_key)
        if decision is None:
            decision = self._decide(str(role), entity, field, is_self)
            self._decisions[cache_key] = decision
        return decision

    def decide_roles(self, roles: Iterable[Role | str], entity: str, field: str, *, is_self: bool = False) -> Decision:
        """What a principal holding several roles sees: the most revealing of its roles'
        decisions (clear over masked over hidden). No roles: hidden."""
        best: Decision | None = None
        for role in sorted({str(r) for r in roles}):
            decision = self.decide(role, entity, field, is_self=is_self)
            if best is None or _RANK[decision.visibility] > _RANK[best.visibility]:
                best = decision
        if best is None:
            rule = self.rule_for(entity, field)
            return Decision(Visibility.HIDDEN, None, f"no role for {entity}.{field} -> hidden", rule.audit)
        return best

    def _decide(self, role_name: str, entity: str, field: str, is_self: bool) -> Decision:
        rule = self.rule_for(entity, field)
        if FieldRef(entity, field) in self._rules:
            source = f"rule {entity}.{field}"
        elif FieldRef(rule.entity, rule.field) in self._rules:
            source = f"rule {rule.entity}.{rule.field} (covers {entity}.{field})"
        else:
            source = f"no rule for {entity}.{field} ({rule.classification} by default)"
        try:
            role = Role(role_name)
        except ValueError:
            return Decision(Visibility.HIDDEN, None, f"{source}: unknown role {role_name!r} -> hidden", rule.audit)
        role_rule = rule.roles.get(role)
        if role_rule is None:
            visibility = self._default_visibility[rule.classification]
            why = f"{role} not listed, default for {rule.classification} fields"
        elif role_rule.own is role_rule.others:
            visibility = role_rule.others
            why = str(role)
        else:
            visibility = role_rule.own if is_self else role_rule.others
            why = f"{role} on {'own' if is_self else 'another'} record"
        return Decision(
            visibility,
            rule.mask if visibility is Visibility.MASKED else None,
            f"{source}: {why} -> {visibility}",
            rule.audit,
        )

    def rules(self, entity: str | None = None) -> Iterator[FieldRule]:
        """Every explicit rule (``entity.*`` ones included), optionally of one entity."""
        return (r for r in self._rules.values() if entity is None or r.entity == entity)

    def entities(self) -> frozenset[str]:
        """Entities the policy has rules for."""
        return frozenset(ref.entity for ref in self._rules)

    def encrypted_fields(self, entity: str) -> frozenset[str]:
        """Names of ``entity``'s fields the store encrypts at rest."""
        return frozenset(r.field for r in self.rules(entity) if r.encrypted)

    def blind_indexed_fields(self, entity: str) -> dict[str, BlindIndexKind]:
        """``entity``'s fields with a blind index, and the normalization each uses."""
        return {r.field: r.blind_index for r in self.rules(entity) if r.blind_index is not None}

    def personal_fields(self, entity: str | None = None) -> frozenset[FieldRef]:
        """Named fields classified personal or sensitive (reads of them are personal data)."""
        return frozenset(r.ref for r in self.rules(entity) if r.is_personal and r.field != "*")

    def audited_fields(self, entity: str | None = None) -> frozenset[FieldRef]:
        """Named fields whose reads belong in the audit log."""
        return frozenset(r.ref for r in self.rules(entity) if r.audit and r.field != "*")

    def consent_rule(self, purpose: str) -> ConsentRule:
        """The consent rule for ``purpose`` (not required when the policy is silent)."""
        return self._consent.get(purpose) or ConsentRule(purpose, False)

    def consent_required(self, purpose: str) -> bool:
        """Whether ``purpose`` (e.g. ``ai_scoring``) needs the subject's consent."""
        return self.consent_rule(purpose).required

    def to_dict(self) -> dict[str, Any]:
        """The validated policy as plain data (a deep copy)."""
        return copy.deepcopy(self._data)

    def __repr__(self) -> str:
        return f"PolicySet(source={self.source!r}, rules={len(self._rules)})"


_RANK = {Visibility.HIDDEN: 0, Visibility.MASKED: 1, Visibility.CLEAR: 2}


def _audited_by_default(classification: Classification) -> bool:
    return classification not in (Classification.PUBLIC, Classification.INTERNAL)


def _semantic_problems(key: str, raw: Mapping[str, Any], lines: LineMap | None) -> Iterator[PolicyProblem]:
    base = ("fields", key)
    if "classification" not in raw:
        yield PolicyProblem(dotted((*base, "classification")), "classification is required", line_of(lines, base))
    if raw.get("blind_index") is not None and not raw.get("encrypted", False):
        path = (*base, "blind_index")
        yield PolicyProblem(dotted(path), "a blind index needs 'encrypted: true'", line_of(lines, path))
    if raw.get("classification") == "secret" and not raw.get("encrypted", False):
        path = (*base, "encrypted")
        yield PolicyProblem(dotted(path), "secret fields must be 'encrypted: true'", line_of(lines, path))
    if key.endswith(".*"):
        for option in ("encrypted", "blind_index"):
            if raw.get(option):
                path = (*base, option)
                yield PolicyProblem(
                    dotted(path),
                    f"'{option}' must name the field; it cannot apply to 'entity.*'",
                    line_of(lines, path),
                )


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = _deep_merge(current, value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


@cache
def _default_policy() -> PolicySet:
    text = resources.files("policies").joinpath("default_policy.yaml").read_text("utf-8")
    return PolicySet.from_yaml(text, source="default_policy.yaml")
